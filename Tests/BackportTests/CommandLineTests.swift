import Foundation
import Testing

/// Runs the built `bo-repro` with `arguments`; returns exit status, stdout and stderr.
func runTool(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
  // The tool is built next to the test bundle (.build/<triple>/debug/).
  let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
  let tool = bundle.appendingPathComponent("bo-repro")
  guard FileManager.default.isExecutableFile(atPath: tool.path) else {
    throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: tool.path])
  }
  let process = Process()
  process.executableURL = tool
  process.arguments = arguments
  process.currentDirectoryURL = URL(fileURLWithPath: packageRoot)
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

@Suite("bo-repro command line", .serialized)
struct CommandLineTests {
  @Test("patches lists the seven patches with their upstream commits")
  func listsPatches() throws {
    let r = try runTool(["patches"])
    #expect(r.status == 0 && r.err.isEmpty)
    for slug in allSlugs {
      #expect(r.out.contains("\n\(slug)\n") || r.out.hasPrefix("\(slug)\n"), "\(slug)")
    }
    #expect(r.out.contains("upstream: c6135f67aa37 (v7.1)"))
    #expect(r.out.contains("upstream: not merged"))
    #expect(r.out.contains("upstream: merged, upstream commit unknown; stable 7.2.5 (a46ab76b6cf5)"))
    #expect(r.out.contains("upstream: a3fdf74ffa59 (v7.2-rc5); this file is a posted version"))
    #expect(r.out.contains("drivers/gpu/drm/panfrost/panfrost_drv.c  +2 -2"))
  }

  @Test("patches --format json is machine-readable")
  func json() throws {
    let r = try runTool(["patches", "--format", "json"])
    #expect(r.status == 0)
    let entries = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]]
    #expect(entries?.map { $0["slug"] as? String } == allSlugs)
  }

  /// The catalog's order: the four patches, then the three later fixes.
  let allSlugs = [
    "shmem-backup-v14", "gfp-retry-mayfail-readback", "zero-copy-insert-folio", "madvise-list-move",
    "drop-restore-after-restore", "null-handle-pages-backup", "native-order-backup",
  ]

  /// Bad input: one clear line on stderr, a non-zero status, nothing on stdout.
  @Test(
    "bad input gets one line on stderr and a non-zero exit",
    arguments: [
      (["frobnicate"], Int32(2), "bo-repro: unknown command 'frobnicate' (try 'bo-repro help')"),
      (["patches", "--format", "xml"], 2, "bo-repro: unknown format 'xml' (text or json)"),
      (["patches", "--dir"], 2, "bo-repro: option --dir needs a value"),
      (["patches", "--frob", "1"], 2, "bo-repro: unknown option --frob for 'patches'"),
      (["patches", "--dir", "/nonexistent"], 1, "bo-repro: /nonexistent: cannot read the directory"),
    ] as [([String], Int32, String)])
  func badInput(_ args: [String], _ status: Int32, _ message: String) throws {
    let r = try runTool(args)
    #expect(r.status == status)
    #expect(r.err == message + "\n")
    #expect(r.out.isEmpty)
  }

  @Test("a malformed patch file is named with its line")
  func malformedPatch() throws {
    let dir = NSTemporaryDirectory() + "bo-repro-bad-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let text = try patchText("madvise-list-move").replacingOccurrences(
      of: "@@ -433,8 +433,8 @@", with: "@@ -433,8 +433,9 @@")
    try text.write(toFile: dir + "/bad.patch", atomically: true, encoding: .utf8)
    let r = try runTool(["patches", "--dir", dir])
    #expect(r.status == 1 && r.out.isEmpty)
    #expect(r.err.hasPrefix("bo-repro: \(dir)/bad.patch:37: hunk @@ -433,8 +433,9 @@"))
    #expect(r.err.split(separator: "\n").count == 1)
  }
}
