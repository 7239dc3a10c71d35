import Foundation
import KernelTrees
import Patches

/// One cell of the regression matrix: a patch on a branch.
public struct MatrixCell: Hashable, Codable, Sendable {
  /// The patch slug.
  public let patch: String
  /// What the branch fixture says: absent, before or after.
  public let state: PatchState
  /// `verified` or `unverified`.
  public let confidence: String
  /// Why a fact is unverified.
  public let reason: String?
  /// What running the patch's scenarios on the branch's tree showed.
  public let verdict: String
  /// Whether the verdict agrees with the state.
  public let consistent: Bool
  /// Each scenario run: its file and which expectation it matched.
  public let scenarios: [ScenarioRun]

  public struct ScenarioRun: Hashable, Codable, Sendable {
    public let file: String
    public let match: String
  }
}

/// One row: a branch.
public struct MatrixRow: Hashable, Codable, Sendable {
  public let name: String
  public let status: String
  public let cells: [MatrixCell]
}

/// The regression matrix per stable branch: each branch's tree composed from the fixture,
/// every patch's scenarios run on it, and a verdict per cell.
public enum RegressionMatrix {
  /// Patches that add or change a feature rather than fix a bug: their verdicts say "old
  /// behaviour" and "applied" instead of "bug reproduces" and "fixed".
  static let features: Set<String> = [PatchCatalog.shmemBackupV14.slug, PatchCatalog.zeroCopyInsertFolio.slug]

  /// Runs every patch's scenarios on every branch's tree. Branches with the same stack share
  /// their runs.
  public static func compute(branches: [StableBranch], scenarios: [Scenario]) throws -> [MatrixRow] {
    var cache: [[String]: [String: Outcome]] = [:]
    return try branches.map { branch in
      let tree = branch.tree
      var cells: [MatrixCell] = []
      for entry in branch.patches {
        let outcome: Outcome
        if let hit = cache[tree.stack]?[entry.patch] {
          outcome = hit
        } else {
          outcome = try run(entry.patch, tree: tree, scenarios: scenarios.filter { $0.patch == entry.patch })
          cache[tree.stack, default: [:]][entry.patch] = outcome
        }
        let consistent =
          !outcome.unexpected
          && (entry.state == .absent ? outcome.shown == .absent : outcome.shown == nil || outcome.shown == entry.state)
        cells.append(
          MatrixCell(
            patch: entry.patch, state: entry.state,
            confidence: entry.confidence == .verified ? "verified" : "unverified",
            reason: reason(entry.confidence), verdict: outcome.verdict, consistent: consistent,
            scenarios: outcome.runs))
      }
      return MatrixRow(name: branch.name, status: branch.status.description, cells: cells)
    }
  }

  static func reason(_ c: Confidence) -> String? {
    if case .unverified(let why) = c { return why }
    return nil
  }

  /// What one patch's scenarios showed on one tree.
  struct Outcome {
    let verdict: String
    /// The state the runs showed; `nil` when they cannot tell (nothing reachable).
    let shown: PatchState?
    /// A run matched neither expectation, or a no-change run differed.
    let unexpected: Bool
    let runs: [MatrixCell.ScenarioRun]
  }

  /// Runs a patch's scenarios on a tree and turns the matches into a verdict: all delta
  /// scenarios as after ("fixed: k/k delta scenarios", or "applied" for a feature), all as
  /// before ("bug reproduces: ..." with the first one's headline, or "old behaviour"), a mix,
  /// or an unexpected outcome. Scenarios the tree makes unreachable are not counted.
  static func run(_ slug: String, tree: KernelTree, scenarios: [Scenario]) throws -> Outcome {
    guard let model = PatchModels.model(slug), tree.hasCode(of: model) else {
      return Outcome(verdict: "n/a", shown: .absent, unexpected: false, runs: [])
    }
    let results = try scenarios.map { try ScenarioLibrary.run($0, on: tree) }
    let runs = results.map {
      MatrixCell.ScenarioRun(file: ($0.scenario.file as NSString).lastPathComponent, match: describe($0.match))
    }
    let feature = features.contains(slug)
    let runnable = results.filter {
      if case .notApplicable = $0.match { return false }
      return true
    }
    if let odd = runnable.first(where: {
      if case .neither = $0.match { return true }
      return $0.scenario.kind == .noChange && $0.match != .both
    }) {
      return Outcome(
        verdict: "unexpected: \((odd.scenario.file as NSString).lastPathComponent): \(odd.observed)", shown: nil,
        unexpected: true, runs: runs)
    }
    let deltas = runnable.filter { $0.scenario.kind == .delta }
    let after = deltas.filter { $0.match == .after }.count
    if deltas.isEmpty {
      if case .notApplicable(let why)? = results.first?.match {
        return Outcome(verdict: "not shown by the model here: \(why)", shown: nil, unexpected: false, runs: runs)
      }
      return Outcome(verdict: "no delta scenario", shown: nil, unexpected: false, runs: runs)
    }
    if after == deltas.count {
      return Outcome(
        verdict: "\(feature ? "applied" : "fixed"): \(after)/\(deltas.count) delta scenarios", shown: .after,
        unexpected: false, runs: runs)
    }
    if after == 0 {
      return Outcome(
        verdict:
          "\(feature ? "old behaviour" : "bug reproduces"): \((deltas.first { $0.scenario.primary } ?? deltas[0]).scenario.beforeHeadline)",
        shown: .before, unexpected: false, runs: runs)
    }
    return Outcome(
      verdict: "mixed: \(after)/\(deltas.count) delta scenarios behave as after", shown: nil, unexpected: true,
      runs: runs)
  }

  static func describe(_ m: ScenarioMatch) -> String {
    switch m {
    case .before: "before"
    case .after: "after"
    case .both: "both"
    case .neither(let why): "neither: \(why)"
    case .notApplicable(let why): "not applicable: \(why)"
    }
  }

  // MARK: Output

  /// A Markdown table (one row per branch, one column per patch) with footnotes for the
  /// unverified facts and a legend.
  public static func markdown(_ rows: [MatrixRow]) -> String {
    let slugs = rows.first?.cells.map(\.patch) ?? []
    var notes: [String] = []
    var out = [
      "| branch | status | " + slugs.joined(separator: " | ") + " |",
      "|---|---|" + String(repeating: "---|", count: slugs.count),
    ]
    for row in rows {
      var cells: [String] = []
      for c in row.cells {
        var text = "\(c.state) · \(c.verdict)"
        if let reason = c.reason {
          notes.append("\(row.name) \(c.patch): \(reason)")
          text += " (UNVERIFIED [\(notes.count)])"
        }
        if !c.consistent { text = "⚠ MISMATCH: " + text }
        cells.append(text.replacingOccurrences(of: "|", with: "\\|"))
      }
      out.append("| \(row.name) | \(row.status) | " + cells.joined(separator: " | ") + " |")
    }
    out.append("")
    out.append(
      "State from fixtures/stable-branches.json: absent (the code the patch changes is not there), before (there, unpatched), after (applied). Verdict from running the patch's scenarios (fixtures/scenarios) on the branch's tree."
    )
    if !notes.isEmpty {
      out.append("")
      out.append("UNVERIFIED:")
      out += notes.enumerated().map { "[\($0.offset + 1)] \($0.element)" }
    }
    return out.joined(separator: "\n")
  }

  /// `{"branches": [{"name", "status", "cells": [{"patch", "state", "confidence", "reason"?,
  /// "verdict", "consistent", "scenarios"}]}]}`.
  public static func json(_ rows: [MatrixRow]) throws -> String {
    struct Output: Encodable { let branches: [MatrixRow] }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(Output(branches: rows)), as: UTF8.self)
  }

  /// `branch,status,patch,state,confidence,verdict`, one line per cell, RFC 4180 quoting.
  public static func csv(_ rows: [MatrixRow]) -> String {
    func field(_ s: String) -> String {
      s.contains(where: { ",\"\n".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
    var out = ["branch,status,patch,state,confidence,verdict"]
    for row in rows {
      for c in row.cells {
        out.append(
          [row.name, row.status, c.patch, c.state.rawValue, c.confidence, c.verdict].map(field).joined(separator: ","))
      }
    }
    return out.joined(separator: "\n")
  }

  /// What changed since a previous `--format json` run, the way stable test reports say
  /// "compared to": regressions (a cell that was fixed or applied and no longer is), fixes
  /// (the reverse), and other changes.
  public static func compare(_ rows: [MatrixRow], previous data: Data, path: String) throws -> String {
    struct Input: Decodable { let branches: [MatrixRow] }
    let old: Input
    do {
      old = try JSONDecoder().decode(Input.self, from: data)
    } catch {
      throw StableBranchError(description: "\(path): not a bo-repro matrix JSON file")
    }
    var before: [String: MatrixCell] = [:]
    for row in old.branches { for c in row.cells { before["\(row.name) \(c.patch)"] = c } }
    func good(_ v: String) -> Bool { v.hasPrefix("fixed") || v.hasPrefix("applied") }
    func bad(_ v: String) -> Bool {
      ["bug reproduces", "old behaviour", "unexpected", "mixed"].contains { v.hasPrefix($0) }
    }
    var regressions: [String] = []
    var fixes: [String] = []
    var changes: [String] = []
    for row in rows {
      for c in row.cells {
        let key = "\(row.name) \(c.patch)"
        guard let prev = before[key] else {
          changes.append("new: \(key): \(c.state) · \(c.verdict)")
          continue
        }
        guard prev.verdict != c.verdict || prev.state != c.state else { continue }
        let line = "\(key): \(prev.state) · \(prev.verdict) -> \(c.state) · \(c.verdict)"
        if good(prev.verdict) && bad(c.verdict) {
          regressions.append(line)
        } else if bad(prev.verdict) && good(c.verdict) {
          fixes.append(line)
        } else {
          changes.append(line)
        }
      }
    }
    var out = [
      "compared to \(path): \(regressions.count) regression(s), \(fixes.count) fix(es), \(changes.count) other change(s)"
    ]
    out += regressions.map { "REGRESSION \($0)" }
    out += fixes.map { "FIXED      \($0)" }
    out += changes.map { "CHANGED    \($0)" }
    return out.joined(separator: "\n")
  }
}
