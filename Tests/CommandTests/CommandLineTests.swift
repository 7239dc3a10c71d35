import Foundation
import PackageTestSupport
import Testing

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

  @Test("patches --format json is machine-readable, and --opt=value works as --opt value")
  func json() throws {
    let r = try runTool(["patches", "--format", "json"])
    #expect(r.status == 0)
    let root = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
    #expect(root?["schema"] as? Int == 1 && root?["command"] as? String == "patches")
    let entries = root?["patches"] as? [[String: Any]]
    #expect(entries?.map { $0["slug"] as? String } == allSlugs)
    // An unmerged patch has no upstream commit: the key is there, with null.
    #expect(entries?.first { $0["slug"] as? String == "zero-copy-insert-folio" }?["upstream"] is NSNull)
    #expect(try runTool(["patches", "--format=json"]).out == r.out)
  }

  @Test("--version, and -h and --help on the tool itself")
  func versionAndHelp() throws {
    let version = try runTool(["--version"])
    #expect(version.status == 0 && version.out.hasPrefix("bo-repro ") && version.err.isEmpty)
    #expect(try runTool(["matrix", "--version"]).out == version.out)
    let help = try runTool(["--help"])
    #expect(help.status == 0 && help.out.hasPrefix("OVERVIEW: "))
    #expect(help.out.contains("\nUSAGE: bo-repro <command> [<options>]\n"))
    for command in ["matrix", "scan", "record", "review", "patches", "run", "explore", "faults", "fuzz", "bench"] {
      #expect(help.out.contains("\n  \(command) "), "\(command)")
    }
    #expect(help.out.contains("\nEXIT STATUS:\n"))
    #expect(try runTool(["-h"]).out == help.out && (try runTool(["help"])).out == help.out)
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
      (["frobnicate"], Int32(64), "bo-repro: unknown command 'frobnicate' (try 'bo-repro help')"),
      (["patches", "--format", "xml"], 64, "bo-repro: unknown format 'xml' for --format (text or json)"),
      (["patches", "--format=xml"], 64, "bo-repro: unknown format 'xml' for --format (text or json)"),
      (["patches", "--dir"], 64, "bo-repro: option --dir needs a value"),
      (["patches", "--frob", "1"], 64, "bo-repro: unknown option --frob for 'patches'"),
      (["patches", "--dir", "/nonexistent"], 1, "bo-repro: /nonexistent: cannot read the directory"),
      ([], 64, "bo-repro: no command given (try 'bo-repro help')"),
      (["help", "frob"], 64, "bo-repro: unknown command 'frob' (try 'bo-repro help')"),
      (["--frob"], 64, "bo-repro: unknown option --frob (try 'bo-repro help')"),
      (["patches", "--quick"], 64, "bo-repro: unknown option --quick for 'patches'"),
      (["explore", "madvise", "--debug-list=yes"], 64, "bo-repro: option --debug-list takes no value"),
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

/// `bo-repro explore madvise`: the exhaustive madvise exploration from the command line.
@Suite("bo-repro explore madvise", .serialized)
struct ExploreMadviseCommandLineTests {
  @Test("explore madvise --bos 3 --depth 8: the before counterexample, no violation after")
  func text() throws {
    let r = try runTool(["explore", "madvise", "--bos", "3", "--depth", "8"])
    #expect(r.status == 0 && r.err.isEmpty)
    #expect(r.out.hasPrefix("madvise exploration: 3 BO(s) of one page, depth 8, CONFIG_DEBUG_LIST off\n"))
    // The before section comes first, then the after section.
    let parts = r.out.components(separatedBy: "\nafter (list_move_tail on DONTNEED):\n")
    try #require(parts.count == 2)
    let before = try #require(parts[0].components(separatedBy: "\nbefore (list_add_tail on DONTNEED):\n").last)
    #expect(before.contains("  sequences of length 8: 43046721, of which 14740521 go wrong (34.24%)\n"))
    #expect(before.contains("  shortest counterexample (length 2): DONTNEED bo0, DONTNEED bo0\n"))
    #expect(before.contains("    bo0: next=bo0 prev=bo0\n"))
    #expect(parts[1].hasPrefix("  distinct sound states: 38"))
    #expect(parts[1].contains("  sequences of length 8: 43046721, no violation\n"))
    #expect(!parts[1].contains("counterexample"))
    #expect(parts[1].contains("\ntime: "))
  }

  @Test("explore madvise --format json is machine-readable")
  func json() throws {
    let r = try runTool(["explore", "madvise", "--bos", "2", "--depth", "4", "--format", "json", "--debug-list"])
    #expect(r.status == 0 && r.err.isEmpty)
    let root = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    let results = try #require(root["results"] as? [[String: Any]])
    #expect(results.map { $0["variant"] as? String } == ["before", "after"])
    #expect(results.allSatisfy { $0["debugList"] as? Bool == true && $0["sequences"] as? Int == 2401 })
    let shortest = try #require(results[0]["shortest"] as? [String: Any])
    #expect(shortest["steps"] as? [String] == ["DONTNEED bo0", "DONTNEED bo1", "DONTNEED bo0"])
    #expect(results[1]["badSequences"] as? Int == 0 && results[1]["shortest"] is NSNull)
    #expect(root["elapsedSeconds"] is Double)
    #expect(root["schema"] as? Int == 1 && root["command"] as? String == "explore")
  }

  @Test("explore madvise --variant after runs one variant")
  func oneVariant() throws {
    let r = try runTool(["explore", "madvise", "--variant", "after", "--bos", "1", "--depth", "2"])
    #expect(r.status == 0 && r.err.isEmpty)
    #expect(r.out.contains("after (list_move_tail") && !r.out.contains("before (list_add_tail"))
    #expect(r.out.contains("  sequences of length 2: 25, no violation\n"))
  }

  /// Bad input: one clear line on stderr, exit status 64, nothing on stdout.
  @Test(
    "bad input to explore gets one line on stderr and exit status 64",
    arguments: [
      (["explore"], "explore needs a target: 'explore madvise'"),
      (["explore", "frob"], "unknown exploration 'frob' (known: madvise)"),
      (["explore", "madvise", "extra"], "unexpected argument 'extra' for 'explore'"),
      (["explore", "madvise", "--frob", "1"], "unknown option --frob for 'explore'"),
      (["explore", "madvise", "--bos", "0"], "--bos must be an integer from 1 to 6, got '0'"),
      (["explore", "madvise", "--bos", "-1"], "--bos must be an integer from 1 to 6, got '-1'"),
      (["explore", "madvise", "--bos", "three"], "--bos must be an integer from 1 to 6, got 'three'"),
      (["explore", "madvise", "--depth", "13"], "--depth must be an integer from 0 to 12, got '13'"),
      (
        ["explore", "madvise", "--depth", "99999999999999999999999"],
        "--depth must be an integer from 0 to 12, got '99999999999999999999999'"
      ),
      (["explore", "madvise", "--depth"], "option --depth needs a value"),
      (["explore", "madvise", "--bos", "--depth", "3"], "option --bos needs a value"),
      (
        ["explore", "madvise", "--variant", "middle"], "unknown variant 'middle' for --variant (before, after or both)"
      ),
      (["explore", "madvise", "--format", "xml"], "unknown format 'xml' for --format (text or json)"),
    ] as [([String], String)])
  func badInput(_ args: [String], _ message: String) throws {
    let r = try runTool(args)
    #expect(r.status == 64)
    #expect(r.err == "bo-repro: \(message)\n")
    #expect(r.out.isEmpty)
  }
}
