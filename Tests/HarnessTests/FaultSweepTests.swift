import BOCore
import Foundation
import Harness
import KernelTrees
import PackageTestSupport
import Patches
import Testing

private let sweepDirectory = scenariosDirectory

/// The scenario files (names only, for readable test arguments).
private let sweepFiles = scenarioFileNames()

/// Runs per (scenario, variant, point) in the test: every k up to 16 calls, an even sample
/// (first and last call included) beyond, so the whole suite stays within a few seconds in
/// debug. `bo-repro faults --max-runs 100000` sweeps every k (about 5,200 runs, no model bug).
private let testMaxRuns = 16

extension Tag {
  /// Fault-injection sweeps over the scenarios.
  @Tag static var faultSweep: Self
}

/// Fault-injection sweeps: every scenario, both variants, the k-th page allocation, shmem
/// read and shmem insert failed and `backup_fault_inject` fired at each check. Every run must
/// succeed with intact content or fail leaving its BOs restorable or droppable, and leave
/// nothing behind; a break is allowed only where an upstream fix explains it.
@Suite("Fault-injection sweeps over the scenarios", .tags(.faultSweep))
struct FaultSweepTests {
  /// Whether the scenario's own before expectation is a halt or a leak.
  func expectsBreak(_ e: ScenarioExpectation) -> Bool {
    e.items.contains { item in
      switch item.key {
      case "halt": item.value != "none"
      case "auditClean": item.value == "false"
      // `"leaks": {}` is rendered "none".
      case "leaks": item.value != "none"
      default: false
      }
    }
  }

  @Test("Sweep each scenario file on both variants: no model bug", arguments: sweepFiles)
  func sweep(_ name: String) throws {
    let scenario = try ScenarioLibrary.load(file: sweepDirectory + "/" + name)
    var injected = 0
    for variant in Variant.allCases {
      let cells = try FaultSweep.sweep(scenario, variant: variant, maxRuns: testMaxRuns)
      #expect(cells.map(\.point) == FaultSweep.points(for: scenario))
      for cell in cells {
        injected += cell.injected
        let place = "\(name) \(variant) \(cell.point.name)"
        for run in cell.runs {
          if case .modelBug(let breaks) = run.outcome {
            Issue.record("model bug: \(place) k=\(run.nth ?? 0): \(breaks.map(\.description).joined(separator: "; "))")
          }
        }
        // Every expected break is a row of the table for this patch and variant, on a tree
        // that lacks the fix explaining it.
        let tree = KernelTree.pair(try #require(PatchModels.model(scenario.patch)), variant)
        for run in [cell.baseline] + cell.runs {
          guard case .expectedBreak(let rows) = run.outcome else { continue }
          for row in rows {
            #expect(FaultSweep.expectedBreaks.contains(row))
            #expect(row.patch == scenario.patch && row.variant == variant, "\(place): \(row)")
            #expect(!tree.stack.contains(row.explainedBy), "\(place): \(row)")
          }
          // A fix's after variant keeps every property.
          #expect(
            variant == .before || FaultSweep.featurePatches.contains(scenario.patch),
            "\(place) k=\(run.nth ?? 0): the fix's after variant breaks: \(run.breaks)")
        }
        // The fault-free run breaks a property exactly where the scenario itself expects a
        // halt or a leak (the before variant of a fix).
        let own = variant == .before && expectsBreak(scenario.expectBefore)
        switch cell.baseline.outcome {
        case .ok: #expect(!own, "\(place): the fault-free run should show the scenario's own break")
        case .expectedBreak: #expect(own, "\(place): the fault-free run breaks \(cell.baseline.breaks)")
        case .modelBug(let b): Issue.record("model bug in the fault-free run: \(place): \(b)")
        }
        #expect(cell.runs.count == min(cell.calls, testMaxRuns))
      }
    }
    // Every scenario reaches some fault point.
    #expect(injected > 0)
  }

  /// A leak the table blames on the missing "Drop tt->restore" fix must go away when that
  /// fix is added to the same tree, and stay on the tree without it: the zero-copy scenario
  /// on 6.18.y's tree, which lacks the fix, with a restore read failing in its last block.
  @Test(
    "The stale-restore leak of other pairs is the one drop-restore-after-restore fixes",
    arguments: [("zero-copy-insert-folio--backup-cost.json", Variant.before, 1024)])
  func staleRestoreExplained(_ name: String, _ variant: Variant, _ k: Int) throws {
    let scenario = try ScenarioLibrary.load(file: sweepDirectory + "/" + name)
    let tree = try KernelTree(base: "6.18.y", stack: try #require(StableTrees.branch("6.18.y")).stack)
    let fixed = try KernelTree(stack: tree.stack + [PatchCatalog.dropRestoreAfterRestore.slug])
    let keep = Set(["bo"])
    let broken = FaultSweep.run(scenario, on: tree, variant: variant, point: .shmemRead, nth: k, keep: keep)
    #expect(broken.injected)
    guard case .expectedBreak(let rows) = broken.outcome else {
      Issue.record("expected the stale-restore leak, got \(broken.outcome)")
      return
    }
    #expect(rows.map(\.explainedBy) == [PatchCatalog.dropRestoreAfterRestore.slug])
    let clean = FaultSweep.run(scenario, on: fixed, variant: variant, point: .shmemRead, nth: k, keep: keep)
    #expect(clean.injected)
    #expect(clean.outcome == .ok, "\(clean.breaks)")
  }

  @Test("Every table row names a modelled patch, and only feature patches' after variants")
  func table() {
    for row in FaultSweep.expectedBreaks {
      #expect(PatchModels.model(row.patch) != nil && PatchModels.model(row.explainedBy) != nil, "\(row)")
      #expect(row.variant == .before || FaultSweep.featurePatches.contains(row.patch), "\(row)")
      #expect(!row.why.isEmpty)
    }
  }
}
