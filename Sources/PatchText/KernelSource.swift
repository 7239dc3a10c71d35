import Foundation

/// One file as a kernel tree holds it, read for a scan.
public enum SourceFile: Hashable, Sendable {
  /// The tree has no file at the path.
  case missing
  /// A text file: its git blob id and its text.
  case text(blob: String, text: String)
  /// A file that is there but cannot be scanned: too large, not text, unreadable. `blob` when
  /// known.
  case unreadable(blob: String?, reason: String)

  /// The blob id, where known.
  public var blob: String? {
    switch self {
    case .missing: nil
    case .text(let blob, _): blob
    case .unreadable(let blob, _): blob
    }
  }
}

/// Where a scanned tree came from, for reports: a directory, or a commit of a repository.
public struct TreeOrigin: Hashable, Sendable {
  /// The directory scanned, for a work tree or unpacked tarball.
  public var path: String?
  /// The repository, for a git scan.
  public var repository: String?
  /// The ref as given (`v6.12.58`, `linux-6.12.y`, a commit id).
  public var ref: String?
  /// The commit the ref resolved to.
  public var commit: String?

  public init(path: String? = nil, repository: String? = nil, ref: String? = nil, commit: String? = nil) {
    self.path = path
    self.repository = repository
    self.ref = ref
    self.commit = commit
  }

  /// `/src/linux`, or `linux@v6.12.58 (abcdef123456)`.
  public var description: String {
    if let repository {
      return "\(repository)@\(ref ?? "?")" + (commit.map { " (\($0.prefix(12)))" } ?? "")
    }
    return path ?? "?"
  }
}

/// A kernel source tree the scanner reads files from, by their path in the kernel
/// (`drivers/gpu/drm/ttm/ttm_pool.c`). Scanning only reads: a source never writes to the tree.
public protocol KernelSource {
  /// Where the files come from.
  var origin: TreeOrigin { get }
  /// The file at `path`.
  func file(_ path: String) throws -> SourceFile
}

/// The limit on a scanned file: larger ones are reported as unreadable, not read. Kernel
/// sources are far below it (generated register headers run to a few MB).
public let maxScannedFileBytes = 32 << 20

/// Turns a file's bytes into a ``SourceFile``: text if it is UTF-8 without NUL bytes.
func sourceFile(_ data: Data, blob: String) -> SourceFile {
  if data.contains(0) { return .unreadable(blob: blob, reason: "not a text file (a NUL byte)") }
  guard let text = String(data: data, encoding: .utf8) else {
    return .unreadable(blob: blob, reason: "not a text file (not UTF-8)")
  }
  return .text(blob: blob, text: text)
}

/// A kernel source directory: a work tree, an unpacked tarball, or a directory holding only
/// some of the files at their kernel paths.
public struct DirectorySource: KernelSource {
  public let root: String
  public var origin: TreeOrigin { TreeOrigin(path: root) }

  /// Why a path cannot be scanned: one line.
  public struct Error: Swift.Error, CustomStringConvertible {
    public let description: String
  }

  /// Opens `root`, which must be a directory.
  public init(root: String) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
      throw Error(description: "\(root): no such directory")
    }
    guard isDirectory.boolValue else { throw Error(description: "\(root): not a directory (give a kernel tree)") }
    self.root = root
  }

  public func file(_ path: String) throws -> SourceFile {
    let full = (root as NSString).appendingPathComponent(path)
    // lstat first: a missing file, and a symlink that loops or dangles, are told apart.
    var st = stat()
    if lstat(full, &st) != 0 { return .missing }
    if stat(full, &st) != 0 {
      return .unreadable(blob: nil, reason: "a symlink that cannot be followed (\(String(cString: strerror(errno))))")
    }
    if (st.st_mode & S_IFMT) == S_IFDIR { return .unreadable(blob: nil, reason: "a directory, not a file") }
    if (st.st_mode & S_IFMT) != S_IFREG { return .unreadable(blob: nil, reason: "not a regular file") }
    if Int(st.st_size) > maxScannedFileBytes {
      return .unreadable(
        blob: nil, reason: "\(st.st_size) bytes: larger than the \(maxScannedFileBytes >> 20) MiB scanned")
    }
    guard let handle = FileHandle(forReadingAtPath: full) else {
      return .unreadable(blob: nil, reason: "cannot be read (\(String(cString: strerror(errno))))")
    }
    defer { try? handle.close() }
    let data = (try? handle.read(upToCount: maxScannedFileBytes + 1)) ?? Data()
    if data.count > maxScannedFileBytes {
      return .unreadable(blob: nil, reason: "larger than the \(maxScannedFileBytes >> 20) MiB scanned")
    }
    return sourceFile(data, blob: GitBlob.id(ofBytes: Array(data)))
  }
}

/// One commit of a git repository, read through the repository's one ``GitRepository``.
public struct GitSource: KernelSource {
  public let repository: GitRepository
  public let origin: TreeOrigin

  /// `ref` resolved in `repository`; throws for a ref that does not name a commit.
  public init(_ repository: GitRepository, ref: String) throws {
    self.repository = repository
    let commit = try repository.commit(ref)
    origin = TreeOrigin(repository: repository.path, ref: ref, commit: commit)
  }

  public func file(_ path: String) throws -> SourceFile {
    try repository.file(at: origin.commit!, path: path)
  }
}
