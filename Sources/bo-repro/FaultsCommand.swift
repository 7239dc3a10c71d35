import BOCore
import Foundation
import Harness
import Patches

/// `bo-repro faults`.
enum FaultsCommand: Command {
  static let name = "faults"
  static let help = """
      faults [FILE|DIR...] [--format text|json] [--max-runs N]
          Fault-injection sweep: for every scenario (default fixtures/scenarios) on both
          variants, fail the k-th page allocation, shmem read and shmem insert and fire
          backup_fault_inject at each point the kernel checks it (k = 1 .. the calls a
          fault-free run makes; sampled evenly beyond N = 64 runs); then restore every BO and check its
          content, destroy everything and audit. Prints per scenario, variant and point the
          faults injected and the outcomes: ok, expected break (a known before-variant bug,
          named with its upstream fix) or model bug. Exit 1 if any model bug.
    """

  static func run(_ a: Arguments) throws {
    try a.allow(["--format", "--max-runs"], positional: Int.max)
    let maxRuns = try intOption(a, "--max-runs", default: FaultSweep.maxRunsPerCell, in: 2...1_000_000)
    let format = a["--format"] ?? "text"
    guard format == "text" || format == "json" else {
      throw UsageError(description: "unknown format '\(format)' (text or json)")
    }
    let scenarios = try ScenarioLibrary.load(paths: a.positional)
    var cells: [FaultSweepCell] = []
    for scenario in scenarios {
      for variant in Variant.allCases { cells += try FaultSweep.sweep(scenario, variant: variant, maxRuns: maxRuns) }
    }
    print(format == "json" ? try json(cells) : text(cells))
    if cells.contains(where: { $0.modelBugs > 0 }) { exit(1) }
  }

  static func text(_ cells: [FaultSweepCell]) -> String {
    var lines: [String] = []
    var file = ""
    for c in cells {
      if c.file != file {
        file = c.file
        lines.append(file)
      }
      let sampled = c.sampled ? " (sampled)" : ""
      var seen: Set<String> = []
      lines.append(
        "  \(c.variant.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)) \(c.point.name.padding(toLength: 28, withPad: " ", startingAt: 0)) calls \(c.calls), runs \(c.runs.count)\(sampled), injected \(c.injected): ok \(c.ok) (\(c.dropped) dropped a BO), expected break \(c.expectedBreaks), model bug \(c.modelBugs)"
      )
      if case .expectedBreak(let why) = c.baseline.outcome {
        for e in why where seen.insert("e \(e.explainedBy) \(e.property)").inserted {
          lines.append("      fault-free run: expected break (\(e.property), explained by \(e.explainedBy)): \(e.why)")
        }
      }
      for r in c.runs {
        switch r.outcome {
        case .ok: continue
        case .expectedBreak(let why):
          for e in why where seen.insert("e \(e.explainedBy) \(e.property)").inserted {
            lines.append("      expected break (\(e.property), explained by \(e.explainedBy)): \(e.why)")
          }
        case .modelBug(let breaks):
          for b in breaks {
            lines.append("      MODEL BUG at k=\(r.nth.map(String.init) ?? "-"): \(b)")
          }
        }
      }
    }
    for variant in Variant.allCases {
      let v = cells.filter { $0.variant == variant }
      lines.append(
        "total \(variant): \(v.reduce(0) { $0 + $1.runs.count }) runs, \(v.reduce(0) { $0 + $1.injected }) faults injected: ok \(v.reduce(0) { $0 + $1.ok }), expected break \(v.reduce(0) { $0 + $1.expectedBreaks }), model bug \(v.reduce(0) { $0 + $1.modelBugs })"
      )
    }
    let runs = cells.reduce(0) { $0 + $1.runs.count }
    let injected = cells.reduce(0) { $0 + $1.injected }
    let bugs = cells.reduce(0) { $0 + $1.modelBugs }
    lines.append(
      "total: \(Set(cells.map(\.file)).count) scenarios, \(runs) runs, \(injected) faults injected, \(bugs == 0 ? "no model bugs" : "\(bugs) model bug\(bugs == 1 ? "" : "s")")"
    )
    return lines.joined(separator: "\n")
  }

  static func describe(_ o: FaultSweepOutcome) -> String {
    switch o {
    case .ok: "ok"
    case .expectedBreak(let why): "expected break (\(why.map(\.explainedBy).joined(separator: ", ")))"
    case .modelBug(let breaks): "model bug: \(breaks.map(\.description).joined(separator: "; "))"
    }
  }

  static func json(_ cells: [FaultSweepCell]) throws -> String {
    let entries: [[String: Any]] = cells.map { c in
      var bugs: [[String: Any]] = []
      var expected: Set<String> = []
      for r in c.runs {
        switch r.outcome {
        case .ok: break
        case .expectedBreak(let why): expected.formUnion(why.map(\.explainedBy))
        case .modelBug(let breaks):
          bugs.append(["nth": r.nth ?? 0, "breaks": breaks.map(\.description)])
        }
      }
      return [
        "file": c.file, "patch": c.patch, "variant": c.variant.rawValue, "point": c.point.name,
        "calls": c.calls, "runs": c.runs.count, "sampled": c.sampled, "injected": c.injected,
        "ok": c.ok, "expectedBreak": c.expectedBreaks, "modelBug": c.modelBugs, "dropped": c.dropped,
        "baseline": describe(c.baseline.outcome),
        "explainedBy": expected.sorted(), "modelBugs": bugs,
      ]
    }
    let total: [String: Any] = [
      "runs": cells.reduce(0) { $0 + $1.runs.count }, "injected": cells.reduce(0) { $0 + $1.injected },
      "ok": cells.reduce(0) { $0 + $1.ok }, "expectedBreak": cells.reduce(0) { $0 + $1.expectedBreaks },
      "modelBug": cells.reduce(0) { $0 + $1.modelBugs },
    ]
    let object: [String: Any] = ["cells": entries, "total": total]
    let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    return String(decoding: data, as: UTF8.self)
  }
}
