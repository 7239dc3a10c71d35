import Foundation
import PackageTestSupport
import Testing

/// `bo-repro faults`: the fault-injection sweep over scenario files.
@Suite("bo-repro faults")
struct FaultsCommandTests {
  let stale = "fixtures/scenarios/drop-restore-after-restore--stale-restore-state.json"

  @Test("A sweep of one file: counts per variant and point, the explained break, exit 0")
  func text() throws {
    let r = try runTool(["faults", stale])
    #expect(r.status == 0 && r.err.isEmpty)
    #expect(r.out.hasPrefix("\(stale)\n"))
    #expect(r.out.contains("  before fail_page_alloc "))
    #expect(r.out.contains("  after  backup_fault_inject "))
    #expect(r.out.contains("; fault-free run: expected break [1]\n"))
    #expect(r.out.contains("\n  [1] leak, explained by drop-restore-after-restore: \""))
    // Each explanation once, and the point no scenario here reaches summed into one line.
    #expect(r.out.components(separatedBy: "explained by drop-restore-after-restore:").count == 2)
    #expect(
      r.out.contains(
        "\n  no calls, nothing injected: before shmem_insert_folio:xas_nomem (fault-free run: expected break [1]), after shmem_insert_folio:xas_nomem\n"
      ))
    #expect(!r.out.contains("calls 0,"))
    #expect(!r.out.contains("MODEL BUG"))
    #expect(r.out.contains("\ntotal before: "))
    #expect(r.out.contains(", expected break 0, model bug 0\ntotal: 1 scenarios, "))
    #expect(r.out.hasSuffix("faults injected, no model bugs\n"))
  }

  @Test("--format json: one entry per variant and point, and totals")
  func json() throws {
    let r = try runTool(["faults", "--format", "json", stale])
    #expect(r.status == 0)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    let cells = try #require(object["cells"] as? [[String: Any]])
    // Two variants times the five TTM points: fail_page_alloc, shmem_read_folio_gfp,
    // shmem_insert_folio:xas_nomem, backup_fault_inject, ttm_resource_alloc.
    #expect(cells.count == 10)
    #expect(cells.allSatisfy { ($0["modelBug"] as? Int) == 0 })
    let before = cells.filter { $0["variant"] as? String == "before" }
    #expect(before.contains { ($0["explainedBy"] as? [String]) == ["drop-restore-after-restore"] })
    let total = try #require(object["total"] as? [String: Int])
    #expect(total["modelBug"] == 0 && (total["injected"] ?? 0) > 0)
    #expect(total["runs"] == cells.reduce(0) { $0 + (($1["runs"] as? Int) ?? 0) })
  }

  @Test(
    "Usage errors exit 64",
    arguments: [
      (["faults", "--format", "xml"], "bo-repro: unknown format 'xml' for --format (text or json)"),
      (["faults", "--max-runs", "1"], "bo-repro: --max-runs must be an integer from 2 to 1000000, got '1'"),
    ])
  func usage(_ args: [String], _ message: String) throws {
    let r = try runTool(args)
    #expect(r.status == 64)
    #expect(r.err == message + "\n")
    #expect(r.out.isEmpty)
  }
}
