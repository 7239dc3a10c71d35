import Foundation
import Harness
import KernelTrees
import Patches

/// `bo-repro run`.
enum RunCommand: Command {
  static let name = "run"
  static let help = """
      run [FILE|DIR...] [--format text|json]
          Run data-driven scenarios (fixtures/scenarios/*.json, format in its README.md) on
          the patch's before and after trees and report PASS/FAIL per variant, with the
          observed outcome of a failing one. A directory runs every *.json in it; no argument
          runs fixtures/scenarios. Exit 0 if all pass, 1 if any fails or a file is malformed.
    """

  /// The outcome of one scenario on one variant's tree.
  struct VariantOutcome {
    let variant: Variant
    let pass: Bool
    let result: ScenarioResult
    /// Why it failed, if it did.
    let why: String?
  }

  static func run(_ a: Arguments) throws {
    try a.allow(["--format"], positional: Int.max)
    let format = a["--format"] ?? "text"
    guard format == "text" || format == "json" else {
      throw UsageError(description: "unknown format '\(format)' (text or json)")
    }
    let scenarios = try ScenarioLibrary.load(paths: a.positional)
    let outcomes = try scenarios.map { try outcomesOf($0) }
    switch format {
    case "json": print(try json(outcomes))
    default: print(text(outcomes))
    }
    if outcomes.contains(where: { $0.contains { !$0.pass } }) { exit(1) }
  }

  /// Runs `scenario` on both pair trees of its patch.
  static func outcomesOf(_ scenario: Scenario) throws -> [VariantOutcome] {
    guard let model = PatchModels.model(scenario.patch) else { throw UsageError(description: "no model") }
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
      case (let m, _, _):
        (pass, why) = (false, "matched the \(m == .before ? "before" : "after") expectation instead")
      }
      return VariantOutcome(variant: variant, pass: pass, result: result, why: why)
    }
  }

  static func text(_ all: [[VariantOutcome]]) -> String {
    var lines: [String] = []
    var failed = 0
    for outcomes in all {
      guard let s = outcomes.first?.result.scenario else { continue }
      let verdicts = outcomes.map { "\($0.pass ? "PASS" : "FAIL") \($0.variant)" }.joined(separator: ", ")
      lines.append("\(verdicts)  \(s.file): \(s.title)")
      for o in outcomes where !o.pass {
        failed += 1
        lines.append("    \(o.variant) observed: \(o.result.observed)")
        if let why = o.why { lines.append("    \(o.variant) differs: \(why)") }
      }
    }
    lines.append(
      "\(all.count) scenario\(all.count == 1 ? "" : "s"), \(failed == 0 ? "all passed" : "\(failed) variant run\(failed == 1 ? "" : "s") failed")"
    )
    return lines.joined(separator: "\n")
  }

  static func json(_ all: [[VariantOutcome]]) throws -> String {
    let entries: [[String: Any]] = all.compactMap { outcomes in
      guard let s = outcomes.first?.result.scenario else { return nil }
      var entry: [String: Any] = [
        "file": s.file, "patch": s.patch, "title": s.title, "kind": s.kind.rawValue,
        "headline": ["before": s.beforeHeadline, "after": s.afterHeadline],
      ]
      for o in outcomes {
        var v: [String: Any] = ["pass": o.pass, "observed": o.result.observed, "match": describe(o.result.match)]
        if let why = o.why { v["differs"] = why }
        entry[o.variant.rawValue] = v
      }
      return entry
    }
    let data = try JSONSerialization.data(withJSONObject: entries, options: [.prettyPrinted, .sortedKeys])
    return String(decoding: data, as: UTF8.self)
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
