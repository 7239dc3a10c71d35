import Foundation
import PackageTestSupport
import Testing

/// `bo-repro run`: scenario files on the before and after trees, PASS/FAIL per variant.
@Suite("bo-repro run")
struct RunCommandTests {
  let gfpScenario = "fixtures/scenarios/gfp-retry-mayfail-readback--readback-under-pressure.json"

  /// Writes `text` to a fresh temporary file and returns its path.
  func temporaryFile(_ text: String) throws -> String {
    let path = NSTemporaryDirectory() + "bo-repro-scenario-\(UInt32.random(in: 0...UInt32.max)).json"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test("A passing scenario: PASS before, PASS after, exit 0")
  func pass() throws {
    let r = try runTool(["run", gfpScenario])
    #expect(r.status == 0 && r.err.isEmpty)
    #expect(
      r.out
        == "PASS before, PASS after  \(gfpScenario): Swap-in readback under memory pressure with ctx->gfp_retry_mayfail\n1 scenario, all passed\n"
    )
  }

  @Test("Every scenario in the folder passes")
  func folder() throws {
    let r = try runTool(["run", "fixtures/scenarios"])
    #expect(r.status == 0 && r.err.isEmpty)
    #expect(r.out.hasSuffix("scenarios, all passed\n"))
    #expect(!r.out.contains("FAIL"))
  }

  @Test("A failing expectation: FAIL with the observed outcome, exit 1")
  func failing() throws {
    let text = try String(contentsOfFile: packageRoot + "/" + gfpScenario, encoding: .utf8)
      .replacingOccurrences(of: "\"oomKills\": 1", with: "\"oomKills\": 2")
    let path = try temporaryFile(text)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let r = try runTool(["run", path])
    #expect(r.status == 1 && r.err.isEmpty)
    #expect(r.out.hasPrefix("FAIL before, PASS after  \(path): "))
    #expect(r.out.contains("    before observed: results.backup=4, results.restore=0"))
    #expect(r.out.contains("before: oomKills: expected 2, observed 1"))
    #expect(r.out.hasSuffix("1 scenario, 1 variant run failed\n"))
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
    "Usage errors exit 2",
    arguments: [
      (["run", "--frob", "1"], "bo-repro: unknown option --frob for 'run'"),
      (["run", "--format", "xml"], "bo-repro: unknown format 'xml' (text or json)"),
    ])
  func usage(_ args: [String], _ message: String) throws {
    let r = try runTool(args)
    #expect(r.status == 2)
    #expect(r.err == message + "\n")
    #expect(r.out.isEmpty)
  }

  @Test("--format json reports each variant")
  func json() throws {
    let r = try runTool(["run", "--format", "json", gfpScenario])
    #expect(r.status == 0)
    let entries = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]])
    #expect(entries.count == 1)
    let entry = try #require(entries.first)
    #expect(entry["patch"] as? String == "gfp-retry-mayfail-readback")
    #expect(
      (entry["headline"] as? [String: String]) == ["before": "OOM kill on readback", "after": "-ENOMEM, no kill"])
    #expect((entry["before"] as? [String: Any])?["pass"] as? Bool == true)
    #expect((entry["after"] as? [String: Any])?["match"] as? String == "after")
  }
}
