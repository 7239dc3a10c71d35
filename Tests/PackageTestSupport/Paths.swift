// PackageTestSupport: test support without a model.
// Holds: where the package's data lives, and how to run the built tool.
// May import: Foundation
// Must not: import a model, a tree, the harness or a product, so that the text tests
// (PatchTextTests) and the command-line tests link no model.

import Foundation

/// The package root, found from this file's path (`Tests/PackageTestSupport/Paths.swift`).
public let packageRoot: String = {
  var url = URL(fileURLWithPath: #filePath)
  for _ in 0..<3 { url.deleteLastPathComponent() }
  return url.path
}()

/// `patches/`.
public let patchesDirectory = packageRoot + "/patches"
/// `fixtures/kernel-files/`.
public let kernelFilesDirectory = packageRoot + "/fixtures/kernel-files"
/// `fixtures/stable-branches.json`.
public let branchesFile = packageRoot + "/fixtures/stable-branches.json"
/// `fixtures/scenarios/`.
public let scenariosDirectory = packageRoot + "/fixtures/scenarios"

/// The text of `patches/<slug>.patch`.
public func patchText(_ slug: String) throws -> String {
  try String(contentsOfFile: "\(patchesDirectory)/\(slug).patch", encoding: .utf8)
}

/// The names of the `.patch` files in `patches/`.
public func patchFileNames() -> [String] {
  ((try? FileManager.default.contentsOfDirectory(atPath: patchesDirectory)) ?? [])
    .filter { $0.hasSuffix(".patch") }.sorted()
}

/// The names of the scenario files in `fixtures/scenarios/` (names only, for readable test
/// arguments).
public func scenarioFileNames() -> [String] {
  ((try? FileManager.default.contentsOfDirectory(atPath: scenariosDirectory)) ?? [])
    .filter { $0.hasSuffix(".json") }.sorted()
}

/// The kernel file fixture `<basename>@<blob>`, if present.
public func kernelFile(_ basename: String, _ blob: String) -> String? {
  try? String(contentsOfFile: "\(kernelFilesDirectory)/\(basename)@\(blob.prefix(12))", encoding: .utf8)
}

/// The built `bo-repro`, next to the test bundle (`.build/<triple>/debug/`).
public let builtTool = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
  .appendingPathComponent("bo-repro")

/// Runs the built `bo-repro` (or `tool`) with `arguments` in `directory` (the package root),
/// with `environment` added to this process's; returns exit status, stdout and stderr.
public func runTool(
  _ arguments: [String], environment: [String: String] = [:], in directory: String = packageRoot,
  tool path: String? = nil
) throws -> (status: Int32, out: String, err: String) {
  // The tool is built next to the test bundle (.build/<triple>/debug/).
  let tool = path.map { URL(fileURLWithPath: $0) } ?? builtTool
  guard FileManager.default.isExecutableFile(atPath: tool.path) else {
    throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: tool.path])
  }
  let process = Process()
  process.executableURL = tool
  process.arguments = arguments
  process.currentDirectoryURL = URL(fileURLWithPath: directory)
  process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  try process.run()
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  let errData = err.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}
