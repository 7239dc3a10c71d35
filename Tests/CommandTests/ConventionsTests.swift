import Foundation
import PackageTestSupport
import Testing

/// The conventions every command follows (README.md "Exit status", "JSON output", "Data"):
/// verdicts in exit statuses, a JSON contract, input printed escaped, and a binary that runs
/// outside the checkout.
@Suite("Command-line conventions", .serialized)
struct ConventionsTests {
  /// `review`'s exit status is its verdict, so a script can branch on it.
  @Test(
    "review exits with its verdict",
    arguments: [
      ("gfp-retry-mayfail-readback", "6.18.y", Int32(0), "apply"),
      ("gfp-retry-mayfail-readback", "6.12.y", 3, "not-needed"),
      ("madvise-list-move", "5.10.y", 4, "already-applied"),
      ("native-order-backup", "6.18.y", 5, "blocked"),
    ] as [(String, String, Int32, String)])
  func reviewStatus(_ slug: String, _ branch: String, _ status: Int32, _ verdict: String) throws {
    let text = try runTool(["review", slug, "--onto", branch])
    #expect(text.status == status, "\(text.err)")
    #expect(text.out.contains("\nverdict: \(verdict): "))
    let json = try runTool(["review", slug, "--onto", branch, "--format", "json"])
    #expect(json.status == status)
    let root = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
    #expect(root["schema"] as? Int == 1 && root["verdict"] as? String == verdict)
  }

  /// A patch the package does not model: no verdict can be given (exit 6).
  @Test("review of an unknown patch file cannot decide")
  func reviewUnknown() throws {
    let path = NSTemporaryDirectory() + "bo-repro-unknown-\(UInt32.random(in: 0...UInt32.max)).patch"
    let text = try patchText("madvise-list-move")
      .replacingOccurrences(of: "Fix shrinker list corruption by madvise IOCTL", with: "Something else")
      .replacingOccurrences(of: "index 087e69b98d06..b1e6d238674f", with: "index 1234567..89abcde")
      .replacingOccurrences(
        of: "From 9fc33eaaa979d112d10fea729edcd2a2e21aa912", with: "From " + String(repeating: "0", count: 40)
      )
      .replacingOccurrences(of: "madv_list", with: "purge_list")
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let r = try runTool(["review", path, "--onto", "5.15.y"])
    #expect(r.status == 6, "\(r.err)")
    #expect(r.out.contains("\nverdict: unknown: "))
  }

  /// The way people write a branch: every form names the same row.
  @Test(
    "branch names as people write them",
    arguments: ["6.18.y", "6.18", "v6.18", "linux-6.18.y", "stable/linux-6.18.y", "origin/linux-6.18.y", "V6.18.Y"])
  func branchForms(_ name: String) throws {
    let r = try runTool(["matrix", "--branch", name, "--format", "csv"])
    #expect(r.status == 0, "\(r.err)")
    let rows = Set(r.out.split(separator: "\n").dropFirst().map { $0.prefix { $0 != "," } })
    #expect(rows == ["6.18.y"])
    #expect(try runTool(["review", "gfp-retry-mayfail-readback", "--onto", name]).out.contains(" onto 6.18.y ["))
  }

  @Test("master names mainline; a release or junk is not a branch")
  func branchNotBranch() throws {
    #expect(try runTool(["matrix", "--branch", "master", "--format", "csv"]).out.contains("\nmainline,"))
    for name in ["v6.18.42", "6", "linux", "6.18.y.1"] {
      let r = try runTool(["matrix", "--branch", name])
      #expect(r.status == 64, "\(name)")
      #expect(r.err.hasPrefix("bo-repro: unknown branch '\(name)' (known: 5.10.y, "), "\(name)")
    }
  }

  /// `matrix --compare` as a CI gate: a cell going from fixed to reproduced, or a branch that
  /// vanished, exits 2; a fix or no change exits 0.
  @Test("matrix --compare exits 2 on a regression or a vanished branch, 0 otherwise")
  func compareGate() throws {
    let now = try runTool(["matrix", "--branch", "7.1.y,mainline", "--format", "json"])
    var root = try #require(try JSONSerialization.jsonObject(with: Data(now.out.utf8)) as? [String: Any])
    var branches = try #require(root["branches"] as? [[String: Any]])
    func write(_ object: [String: Any]) throws -> String {
      let path = NSTemporaryDirectory() + "bo-repro-prev-\(UInt32.random(in: 0...UInt32.max)).json"
      try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
      return path
    }
    // Unchanged: 0.
    let same = try write(root)
    defer { try? FileManager.default.removeItem(atPath: same) }
    #expect(try runTool(["matrix", "--branch", "7.1.y,mainline", "--compare", same]).status == 0)

    // The previous run had a cell that now reproduces as "fixed": a regression.
    var cells = try #require(branches[0]["cells"] as? [[String: Any]])
    let index = try #require(cells.firstIndex { $0["patch"] as? String == "drop-restore-after-restore" })
    #expect((cells[index]["verdict"] as? String)?.hasPrefix("bug reproduces") == true)
    cells[index]["verdict"] = "fixed: 2/2 delta scenarios"
    cells[index]["state"] = "after"
    branches[0]["cells"] = cells
    root["branches"] = branches
    let regressed = try write(root)
    defer { try? FileManager.default.removeItem(atPath: regressed) }
    let r = try runTool(["matrix", "--branch", "7.1.y,mainline", "--compare", regressed])
    #expect(r.status == 2)
    #expect(r.out.hasPrefix("compared to \(regressed): 1 regression(s), 0 fix(es)"))
    #expect(r.out.contains("\nREGRESSION 7.1.y drop-restore-after-restore: "))
    #expect(r.err == "bo-repro: compared to \(regressed): 1 regression(s), 0 removed cell(s)\n")

    // A branch the previous run had and this one does not: exit 2 as well.
    let v = try runTool(["matrix", "--branch", "mainline", "--compare", same])
    #expect(v.status == 0, "a row left out with --branch is not a vanished one")
    let without = try branchFileWithout("7.1.y")
    defer { try? FileManager.default.removeItem(atPath: without) }
    let w = try runTool(["matrix", "--branches", without, "--compare", same])
    #expect(w.status == 2)
    #expect(w.out.contains("\nREMOVED    7.1.y "))
    let json = try runTool(["matrix", "--branch", "7.1.y,mainline", "--compare", regressed, "--format", "json"])
    let cmp = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
    #expect(cmp["schema"] as? Int == 1 && cmp["failing"] as? Bool == true && cmp["regressions"] as? Int == 1)
  }

  /// The package's branch file without `name`, in a temporary file.
  func branchFileWithout(_ name: String) throws -> String {
    let data = try Data(contentsOf: URL(fileURLWithPath: branchesFile))
    var root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    root["branches"] = (root["branches"] as? [[String: Any]])?.filter { $0["name"] as? String != name }
    let path = NSTemporaryDirectory() + "bo-repro-branches-\(UInt32.random(in: 0...UInt32.max)).json"
    try JSONSerialization.data(withJSONObject: root).write(to: URL(fileURLWithPath: path))
    return path
  }

  /// Every JSON output: one object, `"schema": 1` first, the command named.
  @Test(
    "every JSON output is an object with a schema",
    arguments: [
      ["patches", "--format", "json"], ["matrix", "--branch", "6.18.y", "--format", "json"],
      ["review", "gfp-retry-mayfail-readback", "--onto", "6.18.y", "--format", "json"],
      ["run", "fixtures/scenarios/madvise-list-move--later-count-sole.json", "--format", "json"],
      ["explore", "madvise", "--bos", "1", "--depth", "2", "--format", "json"],
      ["faults", "fixtures/scenarios/madvise-list-move--later-count-sole.json", "--format", "json"],
    ])
  func jsonSchema(_ args: [String]) throws {
    let r = try runTool(args)
    #expect(r.err.isEmpty, "\(r.err)")
    #expect(r.out.hasPrefix("{\n  \"schema\": 1,\n  \"command\": \""), "\(args)")
    let root = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    #expect(root["command"] as? String == args[0])
  }

  /// A name from the command line is printed escaped: a terminal escape never reaches the
  /// terminal raw.
  @Test("an escape sequence in an argument is printed escaped")
  func escapedArgument() throws {
    let r = try runTool(["matrix", "--branch", "\u{1B}]0;owned\u{07}"])
    #expect(r.status == 64)
    #expect(!r.err.contains("\u{1B}") && !r.err.contains("\u{07}"))
    #expect(r.err.hasPrefix("bo-repro: unknown branch '\\x1b]0;owned\\x07' (known: "))
    let file = try runTool(["review", "/tmp/\u{1B}[2Jx.patch", "--onto", "6.18.y"])
    #expect(file.status == 1 && !file.err.contains("\u{1B}"))
  }

  /// The binary works outside the checkout: copied alone to another directory, with its
  /// resources next to it, or pointed at another data directory.
  @Test("the binary runs from anywhere, and --data or BO_REPRO_DATA point at other data")
  func runsFromAnywhere() throws {
    let fm = FileManager.default
    let built = builtTool.deletingLastPathComponent()
    let bin = NSTemporaryDirectory() + "bo-repro-bin-\(UInt32.random(in: 0...UInt32.max))"
    try fm.createDirectory(atPath: bin, withIntermediateDirectories: true)
    defer { try? fm.removeItem(atPath: bin) }
    try fm.copyItem(atPath: built.appendingPathComponent("bo-repro").path, toPath: bin + "/bo-repro")
    let elsewhere = NSTemporaryDirectory()

    // Alone: the checkout it was built from.
    let alone = try run(bin + "/bo-repro", ["patches"], in: elsewhere)
    #expect(alone.status == 0, "\(alone.err)")
    #expect(alone.out.hasSuffix("7 patches in \(packageRoot)/patches\n"))
    #expect(try run(bin + "/bo-repro", ["matrix", "--branch", "6.18"], in: elsewhere).status == 0)

    // With its resources: those.
    try fm.copyItem(
      atPath: built.appendingPathComponent("bo-repro_PackageData.resources").path,
      toPath: bin + "/bo-repro_PackageData.resources")
    let shipped = try run(bin + "/bo-repro", ["patches"], in: elsewhere)
    #expect(shipped.status == 0, "\(shipped.err)")
    #expect(shipped.out.hasSuffix("7 patches in \(bin)/bo-repro_PackageData.resources/patches\n"))
    #expect(try run(bin + "/bo-repro", ["review", "madvise-list-move", "--onto", "5.15"], in: elsewhere).status == 4)

    // --data and BO_REPRO_DATA: another directory, and a clear error for one without data.
    let data = bin + "/data"
    try fm.createDirectory(atPath: data, withIntermediateDirectories: true)
    try fm.copyItem(atPath: patchesDirectory, toPath: data + "/patches")
    try fm.copyItem(atPath: packageRoot + "/fixtures", toPath: data + "/fixtures")
    try fm.removeItem(atPath: data + "/patches/zero-copy-insert-folio.patch")
    let other = try run(bin + "/bo-repro", ["patches", "--data", data], in: elsewhere)
    #expect(other.out.hasSuffix("6 patches in \(data)/patches\n"), "\(other.err)")
    let env = try run(bin + "/bo-repro", ["patches"], in: elsewhere, environment: ["BO_REPRO_DATA": data])
    #expect(env.out == other.out)
    let bad = try run(bin + "/bo-repro", ["patches", "--data", bin], in: elsewhere)
    #expect(bad.status == 1)
    #expect(bad.err == "bo-repro: --data \(bin): not a bo-repro data directory (no patches/ and fixtures/)\n")
  }

  /// Runs `tool` with `arguments` in `directory`.
  func run(
    _ tool: String, _ arguments: [String], in directory: String, environment: [String: String] = [:]
  ) throws -> (status: Int32, out: String, err: String) {
    try runTool(arguments, environment: environment, in: directory, tool: tool)
  }
}
