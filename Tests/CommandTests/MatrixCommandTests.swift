import Foundation
import PackageTestSupport
import Testing

/// `bo-repro matrix` and `bo-repro review` from the command line.
@Suite("bo-repro matrix and review", .serialized)
struct MatrixCommandTests {
  @Test("matrix prints every branch as a Markdown row and exits 0")
  func markdown() throws {
    let r = try runTool(["matrix"])
    #expect(r.status == 0, "\(r.err)")
    for branch in ["5.10.y", "6.18.y", "7.1.y", "7.2.y", "mainline"] {
      #expect(r.out.contains("\n| \(branch) | "), "\(branch)")
    }
  }

  @Test("matrix --branch picks rows; --format csv and json")
  func pickAndFormats() throws {
    let csv = try runTool(["matrix", "--branch", "6.18.y,7.1.y", "--format", "csv"])
    #expect(csv.status == 0)
    let lines = csv.out.split(separator: "\n")
    #expect(lines.count == 1 + 2 * 7)
    #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("6.18.y,") || $0.hasPrefix("7.1.y,") })
    let json = try runTool(["matrix", "--branch", "mainline", "--format", "json"])
    let root = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any]
    #expect((root?["branches"] as? [[String: Any]])?.map { $0["name"] as? String } == ["mainline"])
    let cells = (root?["branches"] as? [[String: Any]])?.first?["cells"] as? [[String: Any]]
    #expect(cells?.allSatisfy { $0["source"] as? String == "hand-kept" } == true)
  }

  @Test("matrix --compare against itself reports no change")
  func compareSelf() throws {
    let json = try runTool(["matrix", "--branch", "6.18.y", "--format", "json"])
    let file = NSTemporaryDirectory() + "bo-repro-matrix-\(UInt32.random(in: 0...UInt32.max)).json"
    try json.out.write(toFile: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: file) }
    let r = try runTool(["matrix", "--branch", "6.18.y", "--compare", file])
    #expect(r.status == 0)
    #expect(r.out == "compared to \(file): 0 regression(s), 0 fix(es), 0 other change(s)\n")
  }

  @Test("review writes the note")
  func review() throws {
    let r = try runTool(["review", "gfp-retry-mayfail-readback", "--onto", "6.18.y"])
    #expect(r.status == 0, "\(r.err)")
    #expect(r.out.hasPrefix("review: gfp-retry-mayfail-readback "))
    let byFile = try runTool(["review", "patches/zero-copy-insert-folio.patch", "--onto", "7.2.y"])
    // Blocked: 7.2.y carries native order, over which its hunks do not apply.
    #expect(byFile.status == 5 && byFile.out.hasPrefix("review: zero-copy-insert-folio "))
  }

  @Test(
    "bad input: one line on stderr and a non-zero exit",
    arguments: [
      (
        ["matrix", "--branch", "4.19.y"], Int32(64),
        "bo-repro: unknown branch '4.19.y' (known: 5.10.y, 5.15.y, 6.1.y, 6.6.y, 6.12.y, 6.15.y, 6.16.y, 6.17.y, 6.18.y, 6.19.y, 7.0.y, 7.1.y, 7.2.y, mainline; also written 6.18, v6.18, linux-6.18.y, stable/linux-6.18.y)"
      ),
      (
        ["matrix", "--format", "xml"], 64, "bo-repro: unknown format 'xml' for --format (markdown, json, csv or kcidb)"
      ),
      (["matrix", "--compare", "/nonexistent.json"], 1, "bo-repro: /nonexistent.json: cannot read the file"),
      (["matrix", "--branches", "/nonexistent.json"], 1, "bo-repro: /nonexistent.json: cannot read the file"),
      (
        ["review", "no-such-patch", "--onto", "6.18.y"], 64,
        "bo-repro: unknown patch 'no-such-patch' (known: drop-restore-after-restore, gfp-retry-mayfail-readback, madvise-list-move, native-order-backup, null-handle-pages-backup, shmem-backup-v14, zero-copy-insert-folio; or give a patch file)"
      ),
      (["review", "gfp-retry-mayfail-readback"], 64, "bo-repro: review needs --onto BRANCH"),
      (["review", "--onto", "6.18.y"], 64, "bo-repro: review needs a patch: 'review PATCH --onto BRANCH'"),
      (["matrix", "--verbose"], 64, "bo-repro: unknown option --verbose for 'matrix'"),
      (["matrix", "--frob", "--format", "json"], 64, "bo-repro: unknown option --frob for 'matrix'"),
      (["matrix", "--format", "json", "--format", "csv"], 64, "bo-repro: option --format given twice for 'matrix'"),
      (["matrix", "--branch", ""], 64, "bo-repro: --branch needs a branch name, got an empty one"),
      (
        ["review", "shmem-backup-v14", "--onto", "5.10.y", "--onto", "6.1.y"], 64,
        "bo-repro: option --onto given twice for 'review'"
      ),
      (
        ["review", "gfp-retry-mayfail-readback", "--onto", "9.9.y"], 64,
        "bo-repro: unknown branch '9.9.y' (known: 5.10.y, 5.15.y, 6.1.y, 6.6.y, 6.12.y, 6.15.y, 6.16.y, 6.17.y, 6.18.y, 6.19.y, 7.0.y, 7.1.y, 7.2.y, mainline; also written 6.18, v6.18, linux-6.18.y, stable/linux-6.18.y)"
      ),
    ] as [([String], Int32, String)])
  func badInput(_ args: [String], _ status: Int32, _ message: String) throws {
    let r = try runTool(args)
    #expect(r.status == status)
    #expect(r.err == message + "\n")
    #expect(r.out.isEmpty)
  }

  @Test("every command has --help")
  func help() throws {
    for command in ["matrix", "scan", "record", "review", "patches", "explore", "run", "faults", "bench", "fuzz"] {
      let r = try runTool([command, "--help"])
      #expect(r.status == 0 && r.out.hasPrefix("OVERVIEW: "), "\(command)")
      #expect(r.out.contains("\nUSAGE: bo-repro \(command)"), "\(command)")
      #expect(r.out.contains("\nOPTIONS:\n") && r.out.contains("  -h, --help "), "\(command)")
      #expect(r.out.contains("\nEXIT STATUS:\n  0 "), "\(command)")
      #expect(try runTool([command, "-h"]).out == r.out, "\(command) -h")
      #expect(try runTool(["help", command]).out == r.out, "help \(command)")
    }
  }

  @Test("--branch may be repeated, and mixes with commas")
  func repeatedBranch() throws {
    let r = try runTool(["matrix", "--branch", "6.18.y", "--branch", "7.1.y,mainline", "--format", "csv"])
    #expect(r.status == 0, "\(r.err)")
    let branches = Set(r.out.split(separator: "\n").dropFirst().map { $0.prefix { $0 != "," } })
    #expect(branches == ["6.18.y", "7.1.y", "mainline"])
  }

  @Test("--compare honours --format json")
  func compareJSON() throws {
    let json = try runTool(["matrix", "--branch", "7.2.y", "--format", "json"])
    let file = NSTemporaryDirectory() + "bo-repro-matrix-\(UInt32.random(in: 0...UInt32.max)).json"
    try json.out.write(toFile: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: file) }
    let r = try runTool(["matrix", "--branch", "7.2.y", "--compare", file, "--format", "json"])
    #expect(r.status == 0, "\(r.err)")
    let root = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
    #expect(root?["comparedTo"] as? String == file)
    #expect((root?["changes"] as? [Any])?.isEmpty == true)
  }

  @Test("an empty scenario folder or branch list is an error, not an empty pass")
  func emptyInputs() throws {
    let dir = NSTemporaryDirectory() + "bo-repro-empty-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    for args in [["run", dir], ["matrix", "--scenarios", dir]] {
      let r = try runTool(args)
      #expect(r.status == 1 && r.out.isEmpty, "\(args)")
      #expect(r.err == "bo-repro: \(dir): no scenario files (*.json) in the directory\n", "\(args)")
    }
    let branches = dir + "/branches.json"
    try #"{"branches": []}"#.write(toFile: branches, atomically: true, encoding: .utf8)
    let r = try runTool(["matrix", "--branches", branches])
    #expect(r.status == 1 && r.err == "bo-repro: \(branches): branches: no branches\n")
  }
}
