import Foundation
import PackageTestSupport
import Testing

/// `bo-repro run`: scenario files on the before and after trees, what each variant did.
@Suite("bo-repro run")
struct RunCommandTests {
  let gfpScenario = "fixtures/scenarios/gfp-retry-mayfail-readback--readback-under-pressure.json"

  /// Writes `text` to a fresh temporary file and returns its path.
  func temporaryFile(_ text: String) throws -> String {
    let path = NSTemporaryDirectory() + "bo-repro-scenario-\(UInt32.random(in: 0...UInt32.max)).json"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test("A passing scenario says what each variant did, as expected, exit 0")
  func pass() throws {
    let r = try runTool(["run", gfpScenario])
    #expect(r.status == 0 && r.err.isEmpty)
    #expect(
      r.out == """
        \(gfpScenario): Swap-in readback under memory pressure with ctx->gfp_retry_mayfail
          before: reproduces the bug (OOM kill on readback), as expected
          after: fixed (-ENOMEM, no kill), as expected
        1 scenario, 2 variant runs: all as expected

        """)
  }

  /// A feature patch's sides are the old and the new behaviour, not a bug and a fix; a
  /// no-change scenario says both variants agree.
  @Test("A feature's old and new behaviour, and a no-change scenario")
  func featureAndNoChange() throws {
    let feature = try runTool(["run", "fixtures/scenarios/shmem-backup-v14--peak-memory.json"])
    #expect(feature.status == 0)
    #expect(feature.out.contains("\n  before: old behaviour ("))
    #expect(feature.out.contains("\n  after: new behaviour ("))
    let same = try runTool(["run", "fixtures/scenarios/gfp-retry-mayfail-readback--no-change-flag-clear.json"])
    #expect(same.status == 0)
    #expect(same.out.contains("\n  before: same as the other variant ("))
  }

  @Test("--dmesg shows each run's kernel log: the OOM report before, none after")
  func dmesg() throws {
    let r = try runTool(["run", gfpScenario, "--dmesg"])
    #expect(r.status == 0)
    let parts = r.out.components(separatedBy: "\n  after: ")
    try #require(parts.count == 2)
    #expect(parts[0].contains("    dmesg: ") && parts[0].contains("Out of memory: Killed process"))
    #expect(!parts[1].contains("Out of memory: Killed process"))
    #expect(!(try runTool(["run", gfpScenario])).out.contains("dmesg: "))
  }

  @Test("Every scenario in the folder passes")
  func folder() throws {
    let r = try runTool(["run", "fixtures/scenarios"])
    #expect(r.status == 0 && r.err.isEmpty)
    #expect(r.out.hasSuffix("variant runs: all as expected\n"))
    #expect(!r.out.contains("FAIL"))
  }

  @Test("A failing expectation: FAILED with what was expected and observed, exit 2")
  func failing() throws {
    let text = try String(contentsOfFile: packageRoot + "/" + gfpScenario, encoding: .utf8)
      .replacingOccurrences(of: "\"oomKills\": 1", with: "\"oomKills\": 2")
    let path = try temporaryFile(text)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let r = try runTool(["run", path])
    #expect(r.status == 2 && r.err.isEmpty)
    #expect(r.out.hasPrefix("\(path): "))
    #expect(r.out.contains("\n  before: FAILED: expected reproduces the bug (OOM kill on readback)\n"))
    #expect(r.out.contains("\n    observed: results.backup=4, results.restore=0"))
    #expect(r.out.contains("before: oomKills: expected 2, observed 1"))
    #expect(r.out.contains("\n  after: fixed (-ENOMEM, no kill), as expected\n"))
    #expect(r.out.hasSuffix("1 scenario, 2 variant runs: 1 not as expected\n"))
  }

  @Test("A malformed file: one line on stderr, nothing on stdout, exit 1")
  func malformed() throws {
    let path = try temporaryFile("{\"patch\": \"shmem-backup-v14\",\n  \"title\" \"x\"}\n")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let r = try runTool(["run", gfpScenario, path])
    #expect(r.status == 1)
    #expect(r.out.isEmpty)
    #expect(r.err == "bo-repro: \(path): line 2, column 11: expected ':' after key \"title\", found '\"'\n")
  }

  @Test(
    "Usage errors exit 64",
    arguments: [
      (["run", "--frob", "1"], "bo-repro: unknown option --frob for 'run'"),
      (["run", "--format", "xml"], "bo-repro: unknown format 'xml' for --format (text or json)"),
    ])
  func usage(_ args: [String], _ message: String) throws {
    let r = try runTool(args)
    #expect(r.status == 64)
    #expect(r.err == message + "\n")
    #expect(r.out.isEmpty)
  }

  @Test("--format json reports each variant, with observed fields and the kernel log as lists")
  func json() throws {
    let r = try runTool(["run", "--format", "json", gfpScenario])
    #expect(r.status == 0)
    let root = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    #expect(root["schema"] as? Int == 1 && root["command"] as? String == "run")
    #expect(root["runs"] as? Int == 2 && root["failed"] as? Int == 0)
    let entries = try #require(root["scenarios"] as? [[String: Any]])
    #expect(entries.count == 1)
    let entry = try #require(entries.first)
    #expect(entry["patch"] as? String == "gfp-retry-mayfail-readback")
    #expect(
      (entry["headline"] as? [String: String]) == ["before": "OOM kill on readback", "after": "-ENOMEM, no kill"])
    let variants = try #require(entry["variants"] as? [[String: Any]])
    #expect(variants.map { $0["variant"] as? String } == ["before", "after"])
    #expect(variants[0]["pass"] as? Bool == true && variants[1]["match"] as? String == "after")
    let observed = try #require(variants[0]["observed"] as? [String: String])
    #expect(observed["oomKills"] == "1" && observed["results.restore"] != nil)
    #expect((variants[1]["observed"] as? [String: String])?["oomKills"] == "0")
    let dmesg = try #require(variants[0]["dmesg"] as? [String])
    #expect(dmesg.contains { $0.contains("Out of memory: Killed process") })
    #expect(variants.allSatisfy { $0["differs"] is NSNull && $0["halt"] is NSNull && $0["stopped"] is NSNull })
  }
}
