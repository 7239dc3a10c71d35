import Foundation
import PackageTestSupport
import Testing

/// `bo-repro bench --quick --format json`: the shape of the report, never its times.
@Suite("bo-repro bench", .serialized)
struct BenchCommandTests {
  /// Two sizes only, to keep the debug test run short; the shape is the same at any size.
  @Test("bench --quick --max-order 11 --format json reports every TTM variant, size and budget")
  func quickJSON() throws {
    let r = try runTool(["bench", "--quick", "--max-order", "11", "--format", "json"])
    #expect(r.status == 0, "\(r.err)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    let sizes = try #require(json["sizes"] as? [Int])
    #expect(sizes == [1 << 10, 1 << 11])
    let trips = try #require(json["roundTrips"] as? [[String: Any]])
    let patches = Set(trips.compactMap { $0["patch"] as? String })
    #expect(
      patches == [
        "shmem-backup-v14", "gfp-retry-mayfail-readback", "zero-copy-insert-folio", "drop-restore-after-restore",
        "null-handle-pages-backup", "native-order-backup",
      ])
    #expect(trips.count == patches.count * 2 * sizes.count)
    for trip in trips {
      #expect(["before", "after"].contains(trip["variant"] as? String))
      for key in ["backupSeconds", "restoreSeconds", "backupPagesPerSecond", "restorePagesPerSecond"] {
        #expect(trip[key] is Double, "\(key)")
      }
      #expect((trip["backupResult"] as? Int ?? 0) > 0)
    }
    let linearity = try #require(json["linearity"] as? [[String: Any]])
    #expect(linearity.count == patches.count * 2)
    #expect(linearity.allSatisfy { ($0["nanosPerPage"] as? [Double])?.count == sizes.count })
    let memory = try #require(json["memory"] as? [String: Any])
    #expect((memory["pageFrameStride"] as? Int ?? 0) > 0)
    let matrix = try #require(json["matrix"] as? [String: Any])
    #expect((matrix["cells"] as? Int ?? 0) > 0 && matrix["totalSeconds"] is Double)
    let exploration = try #require(json["exploration"] as? [String: Any])
    #expect(exploration["bos"] as? Int == 3 && exploration["depth"] as? Int == 8)
    #expect((exploration["transitions"] as? Int ?? 0) > 0)
    let budgets = try #require(json["budgets"] as? [[String: Any]])
    #expect(budgets.count == 5)
    // --quick stops below the 1 GiB tt, so that budget is not measured.
    #expect(budgets.first?["measuredSeconds"] == nil || budgets.first?["measuredSeconds"] is NSNull)
    let operations = try #require(json["operations"] as? [String: String])
    #expect(operations["backup"] != nil && operations["restore"] != nil)
  }

  @Test("bench rejects an unknown format and a bad --max-order")
  func badArguments() throws {
    #expect(try runTool(["bench", "--format", "xml"]).status == 64)
    #expect(try runTool(["bench", "--max-order", "9"]).status == 64)
  }
}
