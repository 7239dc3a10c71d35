import Backport
import Foundation
import Harness
import PatchText

/// The tree reader's measurements (issue 14's budgets): one tree's scan, a derived matrix over
/// 20 refs of one repository read through one cat-file process, and the cost per byte as the
/// files grow.
public struct BenchScan: Hashable, Codable, Sendable {
  /// Seconds to scan one directory tree (every file the patches touch), best of the repeats,
  /// with a fresh scanner (no memo).
  public let treeSeconds: Double
  /// The bytes of the files that scan read.
  public let treeBytes: Int
  /// Seconds for `matrix --git` over ``refs`` refs: open the repository, scan every ref,
  /// compose and run every row.
  public let gitMatrixSeconds: Double
  public let refs: Int
  /// Objects the one cat-file process was asked for.
  public let gitObjects: Int
  /// Nanoseconds per byte scanned at 1x, 4x and 16x the size of ttm_pool.c (padded with
  /// unrelated functions): flat when detection is linear in file size.
  public let nanosPerByte: [Double]
  /// Whether the largest size costs at most twice per byte what the smallest does.
  public let linear: Bool
}

extension Bench {
  /// Measures the scanner on trees and a repository built in a temporary directory from
  /// `kernelFiles` (the package's `fixtures/kernel-files`) and the patches in `patches`.
  public static func scan(patches: String, kernelFiles: String, repeats: Int) throws -> BenchScan {
    let set = try PatchSet(directory: patches)
    let files = try treeFiles(kernelFiles)
    let root = NSTemporaryDirectory() + "bo-repro-bench-scan-\(UInt32.random(in: 0...UInt32.max))"
    defer { try? FileManager.default.removeItem(atPath: root) }
    try write(files, to: root)

    // One tree.
    var best = Double.infinity
    for _ in 0..<max(repeats, 1) {
      let (_, seconds) = try time { try TreeScanner(patches: set.patches).scan(try DirectorySource(root: root)) }
      best = min(best, seconds)
    }
    let bytes = files.values.reduce(0) { $0 + $1.utf8.count }

    // Linear in file size: ttm_pool.c padded to 4x and 16x.
    let pool = "drivers/gpu/drm/ttm/ttm_pool.c"
    var perByte: [Double] = []
    for factor in [1, 4, 16] {
      var padded = files
      let base = files[pool]!
      padded[pool] =
        base
        + (1..<factor).map { i in
          base.replacingOccurrences(of: "ttm_pool_", with: "ttm_copy\(i)_pool_")
        }.joined()
      let dir = root + "-x\(factor)"
      defer { try? FileManager.default.removeItem(atPath: dir) }
      try write(padded, to: dir)
      var t = Double.infinity
      for _ in 0..<max(repeats, 1) {
        let (_, seconds) = try time { try TreeScanner(patches: set.patches).scan(try DirectorySource(root: dir)) }
        t = min(t, seconds)
      }
      perByte.append(t * 1e9 / Double(padded.values.reduce(0) { $0 + $1.utf8.count }))
    }

    // A repository with 20 tags over a few versions of the files, and the derived matrix.
    let repo = root + "-git"
    defer { try? FileManager.default.removeItem(atPath: repo) }
    let refs = try makeRepository(repo, kernelFiles: kernelFiles, base: files, tags: 20)
    let scenarios = try ScenarioLibrary.load(
      directory: (kernelFiles as NSString).deletingLastPathComponent + "/scenarios")
    var objects = 0
    let (_, gitSeconds) = try time {
      let git = try GitRepository(path: repo)
      let scanner = TreeScanner(patches: set.patches)
      let branches = try refs.map { StableBranch(name: $0, scan: try scanner.scan(try GitSource(git, ref: $0))) }
      _ = try RegressionMatrix.compute(branches: branches, scenarios: scenarios)
      objects = git.objectsRead
    }
    return BenchScan(
      treeSeconds: best, treeBytes: bytes, gitMatrixSeconds: gitSeconds, refs: refs.count, gitObjects: objects,
      nanosPerByte: perByte, linear: perByte.last! <= 2 * perByte.first!)
  }

  /// A 7.1-like tree: the files every patch touches, from the fixtures.
  static func treeFiles(_ kernelFiles: String) throws -> [String: String] {
    func read(_ name: String) throws -> String {
      try String(contentsOfFile: "\(kernelFiles)/\(name)", encoding: .utf8)
    }
    return [
      "Makefile": "VERSION = 7\nPATCHLEVEL = 1\nSUBLEVEL = 6\nEXTRAVERSION =\n",
      "drivers/gpu/drm/ttm/Makefile": try read("Makefile@40d07a35293a"),
      "drivers/gpu/drm/ttm/ttm_pool.c": try read("ttm_pool.c@ff043420d517"),
      "drivers/gpu/drm/ttm/ttm_backup.c": try read("ttm_backup.c@81df4cb5606b"),
      "include/drm/ttm/ttm_backup.h": try read("ttm_backup.h@29b9c855af77"),
      "drivers/gpu/drm/ttm/ttm_pool_internal.h": try read("ttm_pool_internal.h@24c179fd69d1"),
    ]
  }

  static func write(_ files: [String: String], to root: String) throws {
    for (path, text) in files {
      let full = (root as NSString).appendingPathComponent(path)
      try FileManager.default.createDirectory(
        atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try text.write(toFile: full, atomically: false, encoding: .utf8)
    }
  }

  /// `tags` commits, each tagged, cycling ttm_pool.c through the fixture's versions.
  static func makeRepository(_ repo: String, kernelFiles: String, base: [String: String], tags: Int) throws -> [String]
  {
    let pools = ["278bbe7a11ad", "d380a3c7fe40", "3d5f2ae0a456", "ff043420d517", "80d0ad41456a"]
    try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
    try git(repo, ["init", "-q"])
    var names: [String] = []
    for i in 0..<tags {
      var files = base
      files["Makefile"] = "VERSION = 7\nPATCHLEVEL = 1\nSUBLEVEL = \(i)\nEXTRAVERSION =\n"
      files["drivers/gpu/drm/ttm/ttm_pool.c"] = try String(
        contentsOfFile: "\(kernelFiles)/ttm_pool.c@\(pools[i % pools.count])", encoding: .utf8)
      try write(files, to: repo)
      try git(repo, ["add", "-A"])
      try git(repo, ["commit", "-q", "-m", "v7.1.\(i)"])
      try git(repo, ["tag", "v7.1.\(i)"])
      names.append("v7.1.\(i)")
    }
    return names
  }

  static func git(_ repo: String, _ arguments: [String]) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments =
      ["git", "-C", repo, "-c", "user.name=bo-repro bench", "-c", "user.email=bench@example.org"] + arguments
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw BenchError(description: "bench: git \(arguments) failed") }
  }
}
