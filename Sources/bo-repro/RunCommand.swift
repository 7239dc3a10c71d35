import Foundation
import Harness
import JSONText
import KernelTrees
import PackageData
import Patches

/// `bo-repro run`.
enum RunCommand: Command {
  static let spec = CommandSpec(
    name: "run",
    abstract: "Run data-driven scenarios on their patch's before and after trees.",
    discussion: """
      Runs each scenario (fixtures/scenarios/*.json, format in its README.md) on the before and after trees of its patch, and says per variant what happened: "before: reproduces the bug (OOM kill on readback), as expected", or what was expected and what was observed instead. A directory runs every *.json in it; no argument runs the package's scenarios. --dmesg adds each run's kernel log.
      """,
    arguments: [.scenarioFiles],
    options: [
      .format(["text", "json"], default: "text"),
      OptionSpec(name: "--dmesg", help: "Show each run's kernel log in text output (JSON always carries it)."),
    ],
    examples: [
      ("bo-repro run", "Every scenario the package ships."),
      (
        "bo-repro run fixtures/scenarios/gfp-retry-mayfail-readback--readback-under-pressure.json --dmesg",
        "One scenario, with the OOM killer's report."
      ),
    ],
    exitStatuses: [
      (.success, "every variant behaved as its scenario expects"),
      (.error, "a scenario file that cannot be read"),
      (.checkFailed, "a variant did not behave as expected"),
      (.usage, "usage error"),
    ])

  /// The outcome of one scenario on one variant's tree.
  struct VariantOutcome {
    let variant: Variant
    let pass: Bool
    let result: ScenarioResult
    /// Why it failed, if it did.
    let why: String?
  }

  static func run(_ a: Arguments) throws -> ExitStatus {
    let scenarios = try ScenarioLibrary.load(
      paths: a.positional, defaultDirectory: a.positional.isEmpty ? try a.data().scenarios : "")
    let outcomes = try scenarios.map { try outcomesOf($0) }
    if a.value("--format") == "json" {
      printJSON(json(outcomes))
    } else {
      Terminal.print(text(outcomes, dmesg: a.flag("--dmesg")))
    }
    return outcomes.contains(where: { $0.contains { !$0.pass } }) ? .checkFailed : .success
  }

  /// Runs `scenario` on both pair trees of its patch.
  static func outcomesOf(_ scenario: Scenario) throws -> [VariantOutcome] {
    guard let model = PatchModels.model(scenario.patch) else {
      throw ScenarioError("\(scenario.file): patch: unknown patch \"\(scenario.patch)\"")
    }
    return try Variant.allCases.map { variant in
      let result = try ScenarioLibrary.run(scenario, on: KernelTree.pair(model, variant))
      let pass: Bool
      let why: String?
      switch (result.match, variant, scenario.kind) {
      case (.both, _, .noChange), (.before, .before, .delta), (.after, .after, .delta):
        (pass, why) = (true, nil)
      case (.neither(let diff), _, _):
        (pass, why) = (false, diff)
      case (.both, _, _):
        (pass, why) = (false, "matched both expectations, so they do not tell the variants apart")
      case (.notApplicable(let reason), _, _):
        (pass, why) = (false, "not run on its own pair tree: \(reason)")
      case (let m, _, _):
        (pass, why) = (false, "matched the \(m == .before ? "before" : "after") expectation instead")
      }
      return VariantOutcome(variant: variant, pass: pass, result: result, why: why)
    }
  }

  /// What a variant's expected outcome is called: a fix's before side reproduces the bug,
  /// its after side is fixed; a feature's sides are the old and the new behaviour.
  static func meaning(_ s: Scenario, _ v: Variant) -> String {
    let headline = v == .before ? s.beforeHeadline : s.afterHeadline
    if s.kind == .noChange { return "same as the other variant (\(headline))" }
    let feature = PatchCatalog.features.contains(s.patch)
    switch v {
    case .before: return "\(feature ? "old behaviour" : "reproduces the bug") (\(headline))"
    case .after: return "\(feature ? "new behaviour" : "fixed") (\(headline))"
    }
  }

  static func text(_ all: [[VariantOutcome]], dmesg: Bool) -> String {
    var lines: [String] = []
    var failed = 0
    for outcomes in all {
      guard let s = outcomes.first?.result.scenario else { continue }
      lines.append("\(s.file): \(s.title)")
      for o in outcomes {
        if o.pass {
          lines.append("  \(o.variant): \(meaning(s, o.variant)), as expected")
        } else {
          failed += 1
          lines.append("  \(o.variant): FAILED: expected \(meaning(s, o.variant))")
          lines.append("    observed: \(o.result.observed)")
          if let why = o.why { lines.append("    differs: \(why)") }
        }
        if dmesg {
          if o.result.dmesg.isEmpty { lines.append("    dmesg: (empty)") }
          lines += o.result.dmesg.map { "    dmesg: \($0)" }
        }
      }
    }
    lines.append(
      "\(all.count) scenario\(all.count == 1 ? "" : "s"), \(all.count * 2) variant runs: \(failed == 0 ? "all as expected" : "\(failed) not as expected")"
    )
    return lines.joined(separator: "\n")
  }

  /// `{"schema": 1, "command": "run", "scenarios": [...], "runs", "failed"}`; README.md has
  /// the shape.
  static func json(_ all: [[VariantOutcome]]) -> JSONValue {
    let entries: [JSONValue] = all.compactMap { outcomes in
      guard let s = outcomes.first?.result.scenario else { return nil }
      return [
        "file": .string(s.file), "patch": .string(s.patch), "title": .string(s.title), "kind": .string(s.kind.rawValue),
        "headline": ["before": .string(s.beforeHeadline), "after": .string(s.afterHeadline)],
        "variants": .array(
          outcomes.map { o in
            [
              "variant": .string(o.variant.rawValue), "pass": .bool(o.pass),
              "expected": .string(meaning(s, o.variant)), "match": .string(describe(o.result.match)),
              "differs": JSONValue(o.why),
              "observed": .object(o.result.observations.map { JSONMember($0.key, .string($0.value)) }),
              "halt": JSONValue(o.result.halt), "stopped": JSONValue(o.result.stopped),
              "dmesg": JSONValue(o.result.dmesg),
            ]
          }),
      ]
    }
    let failed = all.reduce(0) { $0 + $1.filter { !$0.pass }.count }
    return [
      "schema": 1, "command": "run", "scenarios": .array(entries), "runs": .int(all.count * 2), "failed": .int(failed),
    ]
  }

  static func describe(_ m: ScenarioMatch) -> String {
    switch m {
    case .before: "before"
    case .after: "after"
    case .both: "both"
    case .neither: "neither"
    case .notApplicable: "not applicable"
    }
  }
}
