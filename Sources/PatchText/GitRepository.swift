import Foundation

/// A git repository read through the real `git` command: one long-lived
/// `git cat-file --batch` process for every object the scans read (commits, blobs), whatever
/// the number of refs and files, so the cost is git's, not one process per file. Only reads:
/// `cat-file` never writes to the repository, and `GIT_OPTIONAL_LOCKS=0` keeps git from
/// refreshing anything on the side.
///
/// Not `Sendable`: the batch process is a conversation, one question at a time.
public final class GitRepository {
  /// The repository as given.
  public let path: String
  private let process: Process
  private let input: FileHandle
  private let output: FileHandle
  /// What git has written and not yet been consumed: the bytes from ``head`` on.
  private var buffer: [UInt8] = []
  private var head = 0

  /// Why git could not answer: one line.
  public struct Error: Swift.Error, CustomStringConvertible {
    public let description: String
  }

  /// How many objects the batch process was asked for, for tests and benchmarks.
  public private(set) var objectsRead = 0

  /// Opens `path`: git must be on `PATH`, and `path` a repository (a work tree or a bare one).
  public init(path: String) throws {
    guard let git = GitRepository.findGit() else {
      throw Error(description: "git: command not found (scanning a repository needs git on PATH)")
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw Error(description: "\(path): no such directory")
    }
    // One check that it is a repository, so a wrong path gets git's own reason.
    let check = try GitRepository.run(git, ["-C", path, "rev-parse", "--git-dir"])
    guard check.status == 0 else {
      let reason = check.err.split(separator: "\n").first.map(String.init) ?? "not a git repository"
      throw Error(description: "\(path): \(reason.replacingOccurrences(of: "fatal: ", with: ""))")
    }
    self.path = path
    // A git that dies mid-conversation must be an error, not SIGPIPE killing the tool.
    signal(SIGPIPE, SIG_IGN)
    process = Process()
    process.executableURL = URL(fileURLWithPath: git)
    process.arguments = ["-C", path, "cat-file", "--batch"]
    process.environment = GitRepository.environment
    let stdin = Pipe()
    let stdout = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = FileHandle.nullDevice
    do {
      try process.run()
    } catch {
      throw Error(description: "git: cannot start git cat-file (\(error.localizedDescription))")
    }
    input = stdin.fileHandleForWriting
    output = stdout.fileHandleForReading
  }

  deinit {
    try? input.close()
    process.waitUntilExit()
  }

  /// The commit `ref` names (a tag, a branch, a commit id, `HEAD~3`), in full.
  public func commit(_ ref: String) throws -> String {
    guard Self.isSafeName(ref) else {
      throw Error(description: "\(path): '\(ref)' is not a ref name")
    }
    guard let (id, type, _) = try object("\(ref)^{commit}") else {
      if let (_, type, _) = try object(ref) {
        throw Error(description: "\(path): '\(ref)' is a \(type), not a commit")
      }
      throw Error(description: "\(path): no commit '\(ref)' (not a tag, branch or commit of this repository)")
    }
    guard type == "commit" else { throw Error(description: "\(path): '\(ref)' is a \(type), not a commit") }
    return id
  }

  /// The file at `path` in `commit`, read as ``SourceFile``.
  public func file(at commit: String, path file: String) throws -> SourceFile {
    guard Self.isSafeName(file) else { return .unreadable(blob: nil, reason: "not a path git can be asked for") }
    guard let (id, type, data) = try object("\(commit):\(file)", limit: maxScannedFileBytes) else {
      return .missing
    }
    switch type {
    case "blob":
      guard let data else {
        return .unreadable(blob: id, reason: "larger than the \(maxScannedFileBytes >> 20) MiB scanned")
      }
      return sourceFile(data, blob: id)
    case "tree": return .unreadable(blob: nil, reason: "a directory, not a file")
    default: return .unreadable(blob: id, reason: "a \(type), not a file (a submodule?)")
    }
  }

  /// The blob `id`'s bytes, or `nil` if the repository lacks it (a shallow or partial clone).
  public func blob(_ id: String) throws -> SourceFile? {
    guard let (found, type, data) = try object(id, limit: maxScannedFileBytes), type == "blob" else { return nil }
    guard let data else {
      return .unreadable(blob: found, reason: "larger than the \(maxScannedFileBytes >> 20) MiB scanned")
    }
    return sourceFile(data, blob: found)
  }

  /// Asks the batch process for `name`: its id, type and content (`nil` content when larger
  /// than `limit`, which is then skipped unread), or `nil` when git says it is missing.
  func object(_ name: String, limit: Int = 1 << 20) throws -> (String, String, Data?)? {
    objectsRead += 1
    try send(name + "\n")
    let header = try readLine()
    if header.hasSuffix(" missing") || header.hasSuffix(" ambiguous") { return nil }
    let parts = header.split(separator: " ")
    guard parts.count == 3, let size = Int(parts[2]), size >= 0 else {
      throw Error(description: "\(path): unexpected answer from git cat-file: '\(header.prefix(80))'")
    }
    if size > limit {
      try skip(size + 1)
      return (String(parts[0]), String(parts[1]), nil)
    }
    let content = try take(size + 1)
    return (String(parts[0]), String(parts[1]), content.prefix(size))
  }

  /// Asks for every one of `names` at once and hands each answer to `each` in order, as
  /// ``object(_:limit:)`` would give it: the requests are written by a second thread while
  /// this one reads, so git never waits for a round trip (and neither side can block the
  /// other on a full pipe). For many small independent lookups, such as a directory of
  /// every tag of a history.
  func objects(
    _ names: [String], limit: Int = 1 << 20, each: (_ index: Int, _ answer: (String, String, Data?)?) throws -> Void
  ) throws {
    guard !names.isEmpty else { return }
    objectsRead += names.count
    let request = Data(names.map { $0 + "\n" }.joined().utf8)
    let fd = input.fileDescriptor
    let done = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
      _ = GitRepository.writeAll(fd, request)
      done.signal()
    }
    do {
      try readAnswers(names.count, limit: limit, each: each)
    } catch {
      // Out of step with git: stop it, so the writer cannot stay blocked on a full pipe;
      // the conversation is over, and later questions get "git cat-file stopped".
      process.terminate()
      done.wait()
      throw error
    }
    done.wait()
  }

  private func readAnswers(
    _ count: Int, limit: Int, each: (_ index: Int, _ answer: (String, String, Data?)?) throws -> Void
  ) throws {
    for index in 0..<count {
      let header = try readLine()
      if header.hasSuffix(" missing") || header.hasSuffix(" ambiguous") {
        try each(index, nil)
        continue
      }
      let parts = header.split(separator: " ")
      guard parts.count == 3, let size = Int(parts[2]), size >= 0 else {
        throw Error(description: "\(path): unexpected answer from git cat-file: '\(header.prefix(80))'")
      }
      if size > limit {
        try skip(size + 1)
        try each(index, (String(parts[0]), String(parts[1]), nil))
      } else {
        let content = try take(size + 1)
        try each(index, (String(parts[0]), String(parts[1]), content.prefix(size)))
      }
    }
  }

  /// write(2) until all of `data` is written; false when the pipe is closed.
  static func writeAll(_ fd: Int32, _ data: Data) -> Bool {
    data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Bool in
      var done = 0
      while done < bytes.count {
        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return false }
        done += n
      }
      return true
    }
  }

  /// Writes a request with write(2): no Data per request, and a git that has stopped is an
  /// error (EPIPE; SIGPIPE is ignored, see ``init(path:)``), not a signal.
  private func send(_ line: String) throws {
    guard GitRepository.writeAll(input.fileDescriptor, Data(line.utf8)) else {
      throw Error(description: "\(path): git cat-file stopped")
    }
  }

  /// Reads what git has written into ``buffer`` with read(2), 64 KiB at a time; the bytes
  /// before ``head`` are consumed, and dropped once they are most of the buffer.
  private func fill() throws {
    if head > 0 && head >= buffer.count / 2 {
      buffer.removeFirst(head)
      head = 0
    }
    let old = buffer.count
    buffer.append(contentsOf: repeatElement(0, count: 1 << 16))
    let fd = output.fileDescriptor
    var n: Int
    repeat {
      n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + old, 1 << 16) }
    } while n < 0 && errno == EINTR
    buffer.removeLast((1 << 16) - max(n, 0))
    if n <= 0 { throw Error(description: "\(path): git cat-file ended early") }
  }

  private func readLine() throws -> String {
    var from = head
    while true {
      if let nl = buffer[from...].firstIndex(of: 0x0A) {
        let line = String(decoding: buffer[head..<nl], as: UTF8.self)
        head = nl + 1
        return line
      }
      from = buffer.count - head
      try fill()
      from = head + from
    }
  }

  private func take(_ count: Int) throws -> Data {
    while buffer.count - head < count { try fill() }
    let out = Data(buffer[head..<(head + count)])
    head += count
    return out
  }

  private func skip(_ count: Int) throws {
    var left = count
    while left > 0 {
      if buffer.count == head { try fill() }
      let n = min(left, buffer.count - head)
      head += n
      left -= n
    }
  }

  /// A name git can be asked for on one line: no newline, no NUL, no other control
  /// character, not empty.
  static func isSafeName(_ name: String) -> Bool {
    !name.isEmpty && !name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
  }

  /// The environment git runs in: the caller's, with optional locks off.
  static var environment: [String: String] {
    var env = ProcessInfo.processInfo.environment
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env
  }

  /// `git` on `PATH`.
  static func findGit() -> String? {
    let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    return dirs.map { "\($0)/git" }.first { FileManager.default.isExecutableFile(atPath: $0) }
  }

  /// Runs git once and waits (for the one repository check, and for listings).
  static func run(_ git: String, _ arguments: [String]) throws -> (status: Int32, out: Data, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: git)
    p.arguments = arguments
    p.environment = environment
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    // Read both to the end before waiting, so a large answer cannot fill a pipe and stall.
    final class Collected: @unchecked Sendable { var data = Data() }
    let errData = Collected()
    let group = DispatchGroup()
    group.enter()
    let errHandle = err.fileHandleForReading
    DispatchQueue.global().async {
      errData.data = errHandle.readDataToEndOfFile()
      group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    return (p.terminationStatus, outData, String(decoding: errData.data, as: UTF8.self))
  }
}
