import Foundation

/// The patches in a directory (`patches/`), parsed, in file-name order.
public struct PatchSet: Sendable {
  /// The directory they were read from.
  public let directory: String
  /// The parsed patches.
  public let patches: [PatchFile]

  /// Reads every `*.patch` file in `directory`.
  ///
  /// - Throws: ``PatchParseError`` for the first file that does not parse, or when the
  ///   directory cannot be read or holds no patches.
  public init(directory: String) throws {
    self.directory = directory
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: directory)
    } catch {
      throw PatchParseError(path: directory, line: 0, message: "cannot read the directory")
    }
    let files = names.filter { $0.hasSuffix(".patch") }.sorted()
    guard !files.isEmpty else {
      throw PatchParseError(path: directory, line: 0, message: "no .patch files")
    }
    patches = try files.map { try PatchFile(contentsOf: (directory as NSString).appendingPathComponent($0)) }
  }

  /// The patch with `slug`, if present.
  public func patch(_ slug: String) -> PatchFile? { patches.first { $0.slug == slug } }

  /// The patch of this set that `file` is, whatever its file name, and how it was found: the
  /// one with the same slug, else the one whose `index` lines (path, pre-image and post-image
  /// blob of every file) are the same, else the one with the same subject.
  public func recognise(_ file: PatchFile) -> (patch: PatchFile, by: String)? {
    if let same = patch(file.slug) { return (same, "its file name") }
    func blobs(_ p: PatchFile) -> Set<String> { Set(p.files.map { "\($0.path) \($0.oldBlob) \($0.newBlob)" }) }
    if let same = patches.first(where: { blobs($0) == blobs(file) }) { return (same, "its index lines") }
    if let same = patches.first(where: { $0.subject == file.subject }) {
      return (same, "its subject (its index lines differ)")
    }
    return nil
  }
}
