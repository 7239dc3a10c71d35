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
}
