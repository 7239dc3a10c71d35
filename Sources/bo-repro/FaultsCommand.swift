import BOCore
import Foundation
import Harness
import JSONText
import PackageData
import Patches

/// `bo-repro faults`.
enum FaultsCommand: Command {
  static let spec = CommandSpec(
    name: "faults",
    abstract: "Fault-injection sweep: fail each allocation, read and insert in turn, on both variants.",
    discussion: """
      For every scenario (default: the package's) on both variants, fails the k-th page allocation, shmem read and shmem insert and fires backup_fault_inject at each point the kernel checks it (k = 1 .. the calls a fault-free run makes; sampled evenly beyond <n> runs), then restores every BO and checks its content, destroys everything and audits. Prints per scenario, variant and point the faults injected and the outcomes: ok, expected break (a known before-variant bug, explained once at the end with its upstream fix) or model bug. Points a scenario never reaches are summed into one line. Progress goes to stderr when it is a terminal.
      """,
    arguments: [.scenarioFiles],
    options: [
      .format(["text", "json"], default: "text"),
      OptionSpec(
        name: "--max-runs", value: "n", defaultValue: "64",
        help: "Runs per scenario, variant and point before k is sampled (2 to 1000000; CI sweeps every k)."),
    ],
    examples: [
      ("bo-repro faults", "The sampled sweep."),
      ("bo-repro faults --max-runs 1000000 | tail -n 1", "Every k, as CI runs it: about 5,200 runs."),
    ],
    exitStatuses: [
      (.success, "no model bug: every break is explained by a known upstream fix"),
      (.error, "a scenario file that cannot be read"), (.checkFailed, "a model bug"), (.usage, "usage error"),
    ])

  static func run(_ a: Arguments) throws -> ExitStatus {
    let maxRuns = try a.int("--max-runs", default: FaultSweep.maxRunsPerCell, in: 2...1_000_000)
    let scenarios = try ScenarioLibrary.load(
      paths: a.positional, defaultDirectory: a.positional.isEmpty ? try a.data().scenarios : "")
    var cells: [FaultSweepCell] = []
    let progress = Progress("faults")
    for (i, scenario) in scenarios.enumerated() {
      for variant in Variant.allCases {
        let name = (scenario.file as NSString).lastPathComponent
        cells += try FaultSweep.sweep(scenario, variant: variant, maxRuns: maxRuns) { point, run, of in
          progress.update(
            "scenario \(i + 1) of \(scenarios.count), \(variant) \(point.name) run \(run + 1) of \(of): \(name)")
        }
      }
    }
    progress.finish()
    if a.value("--format") == "json" { printJSON(json(cells)) } else { Terminal.print(text(cells)) }
    return cells.contains(where: { $0.modelBugs > 0 }) ? .checkFailed : .success
  }

  /// Every explanation the cells cite, numbered in order of first appearance; two table rows
  /// with the same fix, property and words (one per patch whose scenarios show it) are one.
  static func explanations(_ cells: [FaultSweepCell]) -> [FaultSweepExpectedBreak] {
    var list: [FaultSweepExpectedBreak] = []
    func add(_ o: FaultSweepOutcome) {
      if case .expectedBreak(let why) = o {
        for e in why where index(of: e, in: list) == nil { list.append(e) }
      }
    }
    for c in cells {
      add(c.baseline.outcome)
      for r in c.runs { add(r.outcome) }
    }
    return list
  }

  /// Where `e` is in `list`, comparing what is printed of it.
  static func index(of e: FaultSweepExpectedBreak, in list: [FaultSweepExpectedBreak]) -> Int? {
    list.firstIndex { $0.explainedBy == e.explainedBy && $0.property == e.property && $0.why == e.why }
  }

  static func text(_ cells: [FaultSweepCell]) -> String {
    let notes = explanations(cells)
    func refs(_ outcomes: [FaultSweepOutcome]) -> String {
      var seen: [Int] = []
      for o in outcomes {
        guard case .expectedBreak(let why) = o else { continue }
        for e in why { if let i = index(of: e, in: notes), !seen.contains(i + 1) { seen.append(i + 1) } }
      }
      return seen.sorted().map { "[\($0)]" }.joined()
    }
    var lines: [String] = []
    var file = ""
    var unreached: [String] = []
    func flushUnreached() {
      if !unreached.isEmpty { lines.append("  no calls, nothing injected: \(unreached.joined(separator: ", "))") }
      unreached = []
    }
    for c in cells {
      if c.file != file {
        flushUnreached()
        file = c.file
        lines.append(file)
      }
      let baseline = refs([c.baseline.outcome])
      if c.calls == 0 && c.runs.isEmpty {
        unreached.append(
          "\(c.variant) \(c.point.name)" + (baseline.isEmpty ? "" : " (fault-free run: expected break \(baseline))"))
        continue
      }
      let sampled = c.sampled ? " (sampled)" : ""
      let dropped = c.dropped > 0 ? " (\(c.dropped) dropped a BO)" : ""
      let runRefs = refs(c.runs.map(\.outcome))
      lines.append(
        "  \(c.variant.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)) \(c.point.name.padding(toLength: 28, withPad: " ", startingAt: 0)) calls \(c.calls), runs \(c.runs.count)\(sampled), injected \(c.injected): ok \(c.ok)\(dropped), expected break \(c.expectedBreaks)\(runRefs.isEmpty ? "" : " \(runRefs)"), model bug \(c.modelBugs)"
          + (baseline.isEmpty ? "" : "; fault-free run: expected break \(baseline)"))
      for r in c.runs {
        if case .modelBug(let breaks) = r.outcome {
          for b in breaks { lines.append("      MODEL BUG at k=\(r.nth.map(String.init) ?? "-"): \(b)") }
        }
      }
    }
    flushUnreached()
    if !notes.isEmpty {
      lines.append("expected breaks, each explained by an upstream fix the variant lacks:")
      for (i, e) in notes.enumerated() {
        lines.append("  [\(i + 1)] \(e.property), explained by \(e.explainedBy): \(e.why)")
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

  /// `{"schema": 1, "command": "faults", "cells": [...], "explanations": [...], "total": {...}}`.
  static func json(_ cells: [FaultSweepCell]) -> JSONValue {
    let notes = explanations(cells)
    let entries: [JSONValue] = cells.map { c in
      var bugs: [JSONValue] = []
      var expected: Set<String> = []
      for r in c.runs {
        switch r.outcome {
        case .ok: break
        case .expectedBreak(let why): expected.formUnion(why.map(\.explainedBy))
        case .modelBug(let breaks):
          bugs.append(["nth": JSONValue(r.nth), "breaks": JSONValue(breaks.map(\.description))])
        }
      }
      return [
        "file": .string(c.file), "patch": .string(c.patch), "variant": .string(c.variant.rawValue),
        "point": .string(c.point.name), "calls": .int(c.calls), "runs": .int(c.runs.count), "sampled": .bool(c.sampled),
        "injected": .int(c.injected), "ok": .int(c.ok), "expectedBreak": .int(c.expectedBreaks),
        "modelBug": .int(c.modelBugs), "dropped": .int(c.dropped), "baseline": .string(describe(c.baseline.outcome)),
        "explainedBy": JSONValue(expected.sorted()), "modelBugs": .array(bugs),
      ]
    }
    return [
      "schema": 1, "command": "faults", "cells": .array(entries),
      "explanations": .array(
        notes.map {
          [
            "property": .string($0.property.rawValue), "explainedBy": .string($0.explainedBy),
            "why": .string($0.why),
          ]
        }),
      "total": [
        "runs": .int(cells.reduce(0) { $0 + $1.runs.count }), "injected": .int(cells.reduce(0) { $0 + $1.injected }),
        "ok": .int(cells.reduce(0) { $0 + $1.ok }), "expectedBreak": .int(cells.reduce(0) { $0 + $1.expectedBreaks }),
        "modelBug": .int(cells.reduce(0) { $0 + $1.modelBugs }),
      ],
    ]
  }
}
