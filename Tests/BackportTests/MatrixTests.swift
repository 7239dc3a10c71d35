import Foundation
import Harness
import JSONText
import KernelTrees
import PackageTestSupport
import PatchText
import Patches
import Testing

@testable import Backport

/// The regression matrix: every verdict comes from running the models, and must agree with
/// the state the branch fixture claims.
@Suite("Regression matrix")
struct MatrixTests {
  static let branches = (try? StableBranchSet(contentsOf: branchesFile).branches) ?? []

  func rows(_ names: [String]) throws -> [MatrixRow] {
    let set = try StableBranchSet(contentsOf: branchesFile)
    let scenarios = try ScenarioLibrary.load(directory: scenariosDirectory)
    return try RegressionMatrix.compute(branches: set.branches.filter { names.contains($0.name) }, scenarios: scenarios)
  }

  /// A branch said to carry a fix whose tree still reproduces the bug fails this, and so
  /// does a branch said not to carry one whose tree behaves fixed.
  @Test("every verdict agrees with the state the fixture claims", arguments: branches.map(\.name))
  func verdictsAgree(_ name: String) throws {
    let row = try #require(try rows([name]).first)
    for cell in row.cells {
      #expect(cell.consistent, "\(name) \(cell.patch): \(cell.state) but \(cell.verdict)")
      switch cell.state {
      case .absent: #expect(cell.verdict == "n/a")
      case .before:
        #expect(
          cell.verdict.hasPrefix("bug reproduces: ") || cell.verdict.hasPrefix("old behaviour: ")
            || cell.verdict.hasPrefix("not shown by the model here: "))
      case .after:
        #expect(
          cell.verdict.hasPrefix("fixed: ") || cell.verdict.hasPrefix("applied: ")
            || cell.verdict.hasPrefix("not shown by the model here: "))
      case .adapted, .partial, .rewritten, .unknown:
        Issue.record("the branch fixture states only absent, before and after; \(name) \(cell.patch) is \(cell.state)")
      }
      if cell.state != .absent { #expect(!cell.scenarios.isEmpty) }
    }
  }

  @Test("the gfp fix column: absent on 6.12.y, reproduces on 6.18.y, fixed on 7.1.y")
  func gfpColumn() throws {
    let cells = try rows(["6.12.y", "6.18.y", "7.1.y"]).map { row in
      row.cells.first { $0.patch == "gfp-retry-mayfail-readback" }!
    }
    #expect(cells[0].state == .absent && cells[0].verdict == "n/a")
    #expect(cells[1].state == .before && cells[1].verdict.hasPrefix("bug reproduces: "))
    #expect(cells[1].confidence == "unverified" && cells[1].reason != nil)
    #expect(cells[2].state == .after && cells[2].verdict.hasPrefix("fixed: "))
  }

  @Test("Markdown, JSON and CSV carry the same cells")
  func formats() throws {
    let rows = try rows(["6.18.y", "mainline"])
    let markdown = RegressionMatrix.markdown(rows)
    #expect(markdown.hasPrefix("| branch | status | shmem-backup-v14 | gfp-retry-mayfail-readback |"))
    #expect(markdown.contains("| 6.18.y | LTS, EOL 2028-12 | after · applied: "))
    #expect(markdown.contains("UNVERIFIED:\n[1] "))
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(RegressionMatrix.json(rows).serialized().utf8)) as? [String: Any])
    let branches = try #require(json["branches"] as? [[String: Any]])
    #expect(branches.map { $0["name"] as? String } == ["6.18.y", "mainline"])
    let cell = try #require((branches[0]["cells"] as? [[String: Any]])?.first)
    #expect(Set(cell.keys).isSuperset(of: ["patch", "state", "confidence", "verdict"]))
    let csv = RegressionMatrix.csv(rows).split(separator: "\n")
    #expect(csv.first == "branch,status,patch,state,confidence,reason,verdict")
    #expect(csv.count == 1 + 2 * PatchCatalog.all.count)
  }

  /// A previous run in which 6.18.y's NULL/handle cell was still unfixed, and 7.1.y's gfp
  /// cell was fixed where it now is not: one fix, one regression.
  @Test("--compare reports regressions and fixes")
  func compare() throws {
    let now = try rows(["6.18.y", "7.1.y"])
    var old = now
    func edit(_ branch: Int, _ patch: String, _ verdict: String, _ state: PatchState) {
      let cells = old[branch].cells.map { c in
        c.patch == patch
          ? MatrixCell(
            patch: c.patch, state: state, confidence: c.confidence, reason: c.reason, verdict: verdict,
            consistent: true, scenarios: c.scenarios)
          : c
      }
      old[branch] = MatrixRow(name: old[branch].name, status: old[branch].status, cells: cells)
    }
    edit(0, "null-handle-pages-backup", "bug reproduces: general protection fault", .before)
    edit(1, "native-order-backup", "fixed: 9/9 delta scenarios", .after)
    var current = now
    let native = current[1].cells.firstIndex { $0.patch == "native-order-backup" }!
    var cells = current[1].cells
    let c = cells[native]
    cells[native] = MatrixCell(
      patch: c.patch, state: .before, confidence: c.confidence, reason: c.reason, verdict: "bug reproduces: shattered",
      consistent: false, scenarios: c.scenarios)
    current[1] = MatrixRow(name: current[1].name, status: current[1].status, cells: cells)
    let report = try RegressionMatrix.compare(
      current, previous: Data(RegressionMatrix.json(old).serialized().utf8), path: "old.json"
    ).text
    let lines = report.split(separator: "\n").map(String.init)
    #expect(lines.first == "compared to old.json: 1 regression(s), 1 fix(es), 0 other change(s)")
    #expect(lines.contains { $0.hasPrefix("REGRESSION 7.1.y native-order-backup: after · fixed: 9/9") })
    #expect(lines.contains { $0.hasPrefix("FIXED      6.18.y null-handle-pages-backup: before · bug reproduces") })
  }

  /// A previous file in the shape issue-level consumers write (only `name` and the four cell
  /// keys), with a row this run does not have, a row missing, and a confidence that changed.
  @Test("--compare reads the minimal shape and reports new, removed and confidence changes")
  func compareMinimal() throws {
    let now = try rows(["6.18.y", "7.1.y"])
    func cells(_ row: MatrixRow, unverified: String? = nil) -> [[String: String]] {
      row.cells.map {
        [
          "patch": $0.patch, "state": $0.state.rawValue,
          "confidence": $0.patch == unverified ? "unverified" : $0.confidence, "verdict": $0.verdict,
        ]
      }
    }
    let previous: [String: Any] = [
      "branches": [
        ["name": "6.18.y", "cells": cells(now[0], unverified: "null-handle-pages-backup")],
        ["name": "6.17.y", "cells": cells(now[1])],
      ]
    ]
    let data = try JSONSerialization.data(withJSONObject: previous)
    let result = try RegressionMatrix.compare(now, previous: data, path: "old.json")
    let kinds = Dictionary(grouping: result.changes) { $0.kind }.mapValues { $0.count }
    #expect(kinds[.new] == PatchCatalog.all.count)
    #expect(kinds[.removed] == PatchCatalog.all.count)
    #expect(kinds[.changed] == 1)
    #expect(result.regressions == 0 && result.fixes == 0)
    let changed = try #require(result.changes.first { $0.kind == .changed })
    #expect(changed.branch == "6.18.y" && changed.patch == "null-handle-pages-backup")
    #expect(changed.previous?.confidence == "unverified" && changed.current?.confidence == "verified")
    #expect(result.text.contains("\nREMOVED    6.17.y shmem-backup-v14: "))
    // Restricted to the rows this run picked, the missing 6.17.y row is not "removed".
    let picked = try RegressionMatrix.compare(now, previous: data, path: "old.json", only: ["6.18.y", "7.1.y"])
    #expect(!picked.changes.contains { $0.kind == .removed })
    // Without any confidence in the previous file, an unchanged run shows no change.
    let bare: [String: Any] = [
      "branches": now.map { row in
        [
          "name": row.name,
          "cells": row.cells.map { ["patch": $0.patch, "state": $0.state.rawValue, "verdict": $0.verdict] },
        ]
      }
    ]
    let unchanged = try RegressionMatrix.compare(
      now, previous: try JSONSerialization.data(withJSONObject: bare), path: "old.json")
    #expect(unchanged.changes.isEmpty, "\(unchanged.text)")
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(result.json.serialized().utf8)) as? [String: Any])
    #expect(json["comparedTo"] as? String == "old.json")
    #expect((json["changes"] as? [Any])?.count == result.changes.count)
  }

  @Test(
    "--compare names the missing or mistyped field of a bad previous file",
    arguments: [
      (
        #"{"branches": [{"name": "6.18.y", "cells": [{"patch": "x", "state": "after"}]}]}"#,
        "old.json: branches[0].cells[0]: missing key 'verdict'"
      ),
      (#"{"rows": []}"#, "old.json: missing key 'branches' (expected a 'matrix --format json' output)"),
      (#"{"branches": [{"name": 7, "cells": []}]}"#, "old.json: branches[0].name: expected a string"),
      ("[", "old.json: not valid JSON (expected a 'matrix --format json' output)"),
    ])
  func compareBadPrevious(_ text: String, _ message: String) throws {
    let now = try rows(["6.18.y"])
    #expect(throws: StableBranchError(description: message)) {
      try RegressionMatrix.compare(now, previous: Data(text.utf8), path: "old.json")
    }
  }

  /// A branch said to carry the zero-copy patch (without native order): the v14 copy-loop
  /// and native-order scenarios measure the loop zero-copy replaces, so they are not run
  /// there instead of failing; every verdict still agrees with the states.
  @Test("zero-copy applied: the scenarios of the loop it replaces are superseded, not mismatched")
  func zeroCopyApplied() throws {
    let set = try StableBranchSet(contentsOf: branchesFile)
    let b = try #require(set.branch("6.18.y"))
    let patches = b.patches.map { p in
      p.patch == "zero-copy-insert-folio"
        ? BranchPatch(patch: p.patch, state: .after, evidence: "test", confidence: .unverified("test")) : p
    }
    let edited = StableBranch(name: b.name, status: b.status, patches: patches)
    let row = try #require(
      try RegressionMatrix.compute(branches: [edited], scenarios: ScenarioLibrary.load(directory: scenariosDirectory))
        .first)
    let mismatched = row.cells.filter { !$0.consistent }.map(\.patch)
    #expect(mismatched.isEmpty, "\(mismatched)")
    let v14 = try #require(row.cells.first { $0.patch == "shmem-backup-v14" })
    // The v14 delta scenarios that do not measure the copy loop: oom-exposure, purge,
    // global-swapout-skips-external, dma-alloc-pool, tt-placement.
    #expect(v14.verdict == "applied: 5/5 delta scenarios")
    #expect(v14.scenarios.filter { $0.match.hasPrefix("not applicable: zero-copy-insert-folio replaces") }.count == 3)
  }
}
