import Foundation

@testable import Backport

/// The package root, found from this file's path.
let packageRoot: String = {
  var url = URL(fileURLWithPath: #filePath)
  for _ in 0..<3 { url.deleteLastPathComponent() }
  return url.path
}()

let patchesDirectory = packageRoot + "/patches"
let kernelFilesDirectory = packageRoot + "/fixtures/kernel-files"

/// The text of `patches/<slug>.patch`.
func patchText(_ slug: String) throws -> String {
  try String(contentsOfFile: "\(patchesDirectory)/\(slug).patch", encoding: .utf8)
}

/// The names of the `.patch` files in `patches/`.
func patchFileNames() -> [String] {
  ((try? FileManager.default.contentsOfDirectory(atPath: patchesDirectory)) ?? [])
    .filter { $0.hasSuffix(".patch") }.sorted()
}

/// The kernel file fixture `<basename>@<blob>`, if present.
func kernelFile(_ basename: String, _ blob: String) -> String? {
  try? String(contentsOfFile: "\(kernelFilesDirectory)/\(basename)@\(blob.prefix(12))", encoding: .utf8)
}
