import Foundation

/// A kernel tree for a test: files at their kernel paths in a temporary directory, optionally
/// committed and tagged in a git repository made there. Removed when the test ends (`remove()`).
public final class TemporaryTree {
  public let root: String

  public init() throws {
    root = NSTemporaryDirectory() + "bo-repro-tree-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
  }

  deinit { remove() }

  public func remove() { try? FileManager.default.removeItem(atPath: root) }

  /// Writes `text` at kernel path `path`.
  public func write(_ path: String, _ text: String) throws {
    try write(path, Data(text.utf8))
  }

  public func write(_ path: String, _ data: Data) throws {
    let full = (root as NSString).appendingPathComponent(path)
    try FileManager.default.createDirectory(
      atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try data.write(to: URL(fileURLWithPath: full))
  }

  /// Removes kernel path `path`.
  public func delete(_ path: String) throws {
    try FileManager.default.removeItem(atPath: (root as NSString).appendingPathComponent(path))
  }

  /// Runs git in the tree (`git init` first, when needed); returns its stdout.
  @discardableResult
  public func git(_ arguments: String...) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["git", "-C", root, "-c", "user.name=bo-repro test", "-c", "user.email=test@example.org"] + arguments
    var env = ProcessInfo.processInfo.environment
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["GIT_AUTHOR_DATE"] = "2026-01-01T00:00:00Z"
    env["GIT_COMMITTER_DATE"] = "2026-01-01T00:00:00Z"
    p.environment = env
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
      throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "git \(arguments) failed"])
    }
    return String(decoding: data, as: UTF8.self)
  }

  /// Commits everything and tags it `tag`; `git init` on the first call.
  public func commit(tag: String) throws {
    if !FileManager.default.fileExists(atPath: root + "/.git") { try git("init", "-q") }
    try git("add", "-A")
    try git("commit", "-q", "--allow-empty", "-m", tag)
    try git("tag", tag)
  }

  /// A kernel top-level Makefile stating `version` (`6.12.58`, `6.13-rc3`).
  public static func makefile(_ version: String) -> String {
    let parts = version.split(separator: "-", maxSplits: 1)
    let numbers = parts[0].split(separator: ".")
    let extra = parts.count > 1 ? "-" + parts[1] : ""
    return """
      # SPDX-License-Identifier: GPL-2.0
      VERSION = \(numbers[0])
      PATCHLEVEL = \(numbers[1])
      SUBLEVEL = \(numbers.count > 2 ? numbers[2] : "0")
      EXTRAVERSION = \(extra)
      NAME = Baby Opossum Posse

      """
  }
}

/// The kernel file fixture `<basename>@<blob>`, which must exist.
public func requireKernelFile(_ basename: String, _ blob: String) throws -> String {
  guard let text = kernelFile(basename, blob) else {
    throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "\(basename)@\(blob)"])
  }
  return text
}
