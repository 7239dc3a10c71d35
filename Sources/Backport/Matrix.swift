import Foundation
import Harness
import JSONText
import KernelTrees
import PatchText
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
  /// Where the state comes from: `hand-kept` or `scan`.
  public var source: String = "hand-kept"

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
  static let features: Set<String> = PatchCatalog.features

  /// Runs every patch's scenarios on every branch's tree. Branches with the same stack share
  /// their runs.
  public static func compute(branches: [StableBranch], scenarios: [Scenario]) throws -> [MatrixRow] {
    var cache: [[String]: [String: Outcome]] = [:]
    return try branches.map { branch in
      let composed = Result { try branch.compose() }
      var cells: [MatrixCell] = []
      for entry in branch.patches {
        let outcome: Outcome
        if entry.state == .absent {
          // The code the patch changes is not in the tree: nothing of it to run, whatever
          // the model could compose.
          outcome = Outcome(verdict: "n/a", shown: .absent, unexpected: false, runs: [])
        } else if !entry.state.runnable {
          // A scan that found the patch partly applied, reworked or undecidable: running
          // either side would claim what the code does not show.
          outcome = Outcome(
            verdict: "not run: \(entry.state): \(entry.evidence)", shown: nil, unexpected: false, runs: [])
        } else if case .failure(let error) = composed {
          outcome = Outcome(
            verdict: "not run: the model cannot compose this tree: \(error)", shown: nil, unexpected: false, runs: [])
        } else if case .success(let tree) = composed, let hit = cache[tree.stack]?[entry.patch] {
          outcome = hit
        } else {
          let tree = try composed.get()
          outcome = try run(entry.patch, tree: tree, scenarios: scenarios.filter { $0.patch == entry.patch })
          cache[tree.stack, default: [:]][entry.patch] = outcome
        }
        let expected: PatchState = entry.state == .adapted ? .after : entry.state
        let consistent =
          !outcome.unexpected
          && (expected == .absent ? outcome.shown == .absent : outcome.shown == nil || outcome.shown == expected)
        cells.append(
          MatrixCell(
            patch: entry.patch, state: entry.state,
            confidence: entry.confidence == .verified ? "verified" : "unverified",
            reason: reason(entry.confidence), verdict: outcome.verdict, consistent: consistent,
            scenarios: outcome.runs, source: entry.source))
      }
      return MatrixRow(name: branch.name, status: branch.status.description, cells: cells)
    }
  }

  /// The cells of one tree known only by its patches' states (a point of a branch's
  /// history, a scan): each patch's scenarios run on the tree those states compose, as the
  /// matrix would. A patch `states` does not name is unknown, and not run.
  public static func cells(branch: String, states: [String: ScanState], scenarios: [Scenario]) throws -> [MatrixCell] {
    let row = StableBranch(
      name: branch, status: BranchStatus(kind: "scanned", projectedEOL: nil, confidence: .verified),
      patches: PatchCatalog.all.map { entry in
        BranchPatch(
          patch: entry.slug, state: states[entry.slug] ?? .unknown,
          evidence: states[entry.slug] == nil
            ? "not looked for" : "either side would claim what the code does not show", confidence: .verified,
          source: "scan")
      })
    return try compute(branches: [row], scenarios: scenarios)[0].cells
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
  /// `branches` and `scenarios` name where the states and the scenarios came from.
  public static func markdown(
    _ rows: [MatrixRow], branches: String = "fixtures/stable-branches.json", scenarios: String = "fixtures/scenarios",
    recorded: [StableBranch] = []
  ) -> String {
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
      "State from \(branches): absent (the code the patch changes is not there), before (there, unpatched), after (applied). Verdict from running the patch's scenarios (\(scenarios)) on the branch's tree."
    )
    if rows.contains(where: { $0.cells.contains { !([.absent, .before, .after] as [PatchState]).contains($0.state) } })
    {
      out.append(
        "From a scan of the code, also: adapted (applied in other words: its after side runs), partial (some hunks applied), rewritten (the functions are there, neither image is), unknown (cannot decide); the last three are not run."
      )
    }
    if !notes.isEmpty {
      out.append("")
      out.append("UNVERIFIED:")
      out += notes.enumerated().map { "[\($0.offset + 1)] \($0.element)" }
    }
    let withRecording = recorded.filter { b in b.recorded != nil && rows.contains { $0.name == b.name } }
    if !withRecording.isEmpty {
      out.append("")
      out.append(
        "Recorded scans (real files of the branch, read from public trees and scanned; a snapshot at a release, which may predate the branch head the states above describe):"
      )
      for b in withRecording {
        let r = b.recorded!
        let sources = Set(r.files.map(\.from)).sorted()
        let cells = PatchCatalog.all.compactMap { entry -> String? in
          guard let state = r.states[entry.slug] else { return nil }
          let head = b.patch(entry.slug)?.state
          let agrees =
            head.map { state.applied == $0.applied && (state == .absent) == ($0 == .absent) }
            ?? false
          return "\(entry.slug) \(state)" + (agrees ? "" : " (head: \(head?.rawValue ?? "?"))")
        }
        out.append(
          "- \(b.name) at \(r.at) (\(r.files.count) file(s) from \(sources.joined(separator: "; "))): \(cells.joined(separator: ", "))"
        )
      }
    }
    return out.joined(separator: "\n")
  }

  /// `{"schema": 1, "command": "matrix", "branches": [{"name", "status", "cells": [{"patch",
  /// "state", "confidence", "reason", "verdict", "consistent", "scenarios": [{"file",
  /// "match"}]}]}]}` (README.md "JSON output"); `reason` is null for a verified fact.
  public static func json(_ rows: [MatrixRow]) -> JSONValue {
    [
      "schema": 1,
      "command": "matrix",
      "branches": .array(
        rows.map { row in
          [
            "name": .string(row.name), "status": .string(row.status),
            "cells": .array(
              row.cells.map { c in
                [
                  "patch": .string(c.patch), "state": .string(c.state.rawValue), "confidence": .string(c.confidence),
                  "reason": JSONValue(c.reason), "source": .string(c.source), "verdict": .string(c.verdict),
                  "consistent": .bool(c.consistent),
                  "scenarios": .array(c.scenarios.map { ["file": .string($0.file), "match": .string($0.match)] }),
                ]
              }),
          ]
        }),
    ]
  }

  /// `branch,status,patch,state,confidence,reason,verdict`, one line per cell, RFC 4180
  /// quoting; `reason` is empty for a verified fact.
  public static func csv(_ rows: [MatrixRow]) -> String {
    var out = ["branch,status,patch,state,confidence,reason,verdict"]
    for row in rows {
      for c in row.cells {
        out.append(
          [row.name, row.status, c.patch, c.state.rawValue, c.confidence, c.reason ?? "", c.verdict].map(csvField)
            .joined(separator: ","))
      }
    }
    return out.joined(separator: "\n")
  }

  /// What changed since a previous `--format json` run, the way stable test reports say
  /// "compared to". `only` restricts the comparison to those branches (the rows `--branch`
  /// picked), so that rows left out of this run are not reported as removed.
  public static func compare(
    _ rows: [MatrixRow], previous data: Data, path: String, only: Set<String>? = nil
  ) throws -> MatrixComparison {
    let old = try PreviousMatrix(data: data, path: path)
    var before: [String: PreviousMatrix.Cell] = [:]
    var order: [String] = []
    for row in old.rows where only?.contains(row.name) ?? true {
      for c in row.cells {
        let key = "\(row.name) \(c.patch)"
        if before.updateValue(c, forKey: key) == nil { order.append(key) }
      }
    }
    func good(_ v: String) -> Bool { v.hasPrefix("fixed") || v.hasPrefix("applied") }
    func bad(_ v: String) -> Bool {
      ["bug reproduces", "old behaviour", "unexpected", "mixed"].contains { v.hasPrefix($0) }
    }
    var changes: [MatrixComparison.Change] = []
    var seen: Set<String> = []
    for row in rows {
      for c in row.cells {
        let key = "\(row.name) \(c.patch)"
        seen.insert(key)
        let now = MatrixComparison.Cell(state: c.state.rawValue, confidence: c.confidence, verdict: c.verdict)
        guard let prev = before[key] else {
          changes.append(.init(kind: .new, branch: row.name, patch: c.patch, previous: nil, current: now))
          continue
        }
        // A previous file without confidences cannot show a confidence change.
        let then = MatrixComparison.Cell(
          state: prev.state, confidence: prev.confidence ?? c.confidence, verdict: prev.verdict)
        guard then != now else { continue }
        let kind: MatrixComparison.Kind =
          if good(prev.verdict) && bad(c.verdict) {
            .regression
          } else if bad(prev.verdict) && good(c.verdict) {
            .fix
          } else {
            .changed
          }
        changes.append(.init(kind: kind, branch: row.name, patch: c.patch, previous: then, current: now))
      }
    }
    for key in order where !seen.contains(key) {
      let c = before[key]!
      let branch = String(key.prefix { $0 != " " })
      changes.append(
        .init(
          kind: .removed, branch: branch, patch: c.patch,
          previous: .init(state: c.state, confidence: c.confidence, verdict: c.verdict), current: nil))
    }
    return MatrixComparison(comparedTo: path, changes: changes)
  }
}

/// The differences between a matrix run and a previous `--format json` run.
public struct MatrixComparison: Hashable, Encodable, Sendable {
  /// How a cell changed.
  public enum Kind: String, Hashable, Encodable, Sendable {
    /// Fixed or applied before, a bug or an unexpected outcome now.
    case regression
    /// The reverse.
    case fix
    /// Any other change of state, confidence or verdict.
    case changed
    /// A cell the previous run did not have.
    case new
    /// A cell the previous run had and this one does not.
    case removed
  }

  /// A cell's state, confidence and verdict.
  public struct Cell: Hashable, Encodable, Sendable {
    public let state: String
    /// `nil` when the previous file did not say.
    public let confidence: String?
    public let verdict: String

    var text: String { "\(state) · \(verdict)" + (confidence == "unverified" ? " (unverified)" : "") }
  }

  public struct Change: Hashable, Encodable, Sendable {
    public let kind: Kind
    public let branch: String
    public let patch: String
    public let previous: Cell?
    public let current: Cell?
  }

  /// The previous file, as given.
  public let comparedTo: String
  public let changes: [Change]

  public var regressions: Int { changes.filter { $0.kind == .regression }.count }
  public var fixes: Int { changes.filter { $0.kind == .fix }.count }

  /// `compared to FILE: ...` and one line per change, regressions first.
  public var text: String {
    let other = changes.count - regressions - fixes
    var out = [
      "compared to \(comparedTo): \(regressions) regression(s), \(fixes) fix(es), \(other) other change(s)"
    ]
    let labels: [(Kind, String)] = [
      (.regression, "REGRESSION"), (.fix, "FIXED     "), (.changed, "CHANGED   "), (.new, "NEW       "),
      (.removed, "REMOVED   "),
    ]
    for (kind, label) in labels {
      for c in changes where c.kind == kind {
        let from = c.previous.map(\.text) ?? "-"
        let to = c.current.map(\.text) ?? "-"
        out.append("\(label) \(c.branch) \(c.patch): \(from) -> \(to)")
      }
    }
    return out.joined(separator: "\n")
  }

  /// Whether the comparison fails a CI gate: a regression, or a branch or cell that
  /// vanished.
  public var failing: Bool { changes.contains { $0.kind == .regression || $0.kind == .removed } }

  /// `{"schema": 1, "command": "matrix-compare", "comparedTo", "regressions", "fixes",
  /// "removed", "failing", "changes": [{"kind", "branch", "patch", "previous", "current"}]}`;
  /// `previous` and `current` are `{"state", "confidence", "verdict"}` or null.
  public var json: JSONValue {
    func cell(_ c: Cell?) -> JSONValue {
      guard let c else { return .null }
      return ["state": .string(c.state), "confidence": JSONValue(c.confidence), "verdict": .string(c.verdict)]
    }
    return [
      "schema": 1,
      "command": "matrix-compare",
      "comparedTo": .string(comparedTo),
      "regressions": .int(regressions),
      "fixes": .int(fixes),
      "removed": .int(changes.filter { $0.kind == .removed }.count),
      "failing": .bool(failing),
      "changes": .array(
        changes.map {
          [
            "kind": .string($0.kind.rawValue), "branch": .string($0.branch), "patch": .string($0.patch),
            "previous": cell($0.previous), "current": cell($0.current),
          ]
        }),
    ]
  }

  /// `kind,branch,patch,previous,current`, RFC 4180 quoting.
  public var csv: String {
    var out = ["kind,branch,patch,previous,current"]
    for c in changes {
      out.append(
        [c.kind.rawValue, c.branch, c.patch, c.previous?.text ?? "", c.current?.text ?? ""].map(csvField)
          .joined(separator: ","))
    }
    return out.joined(separator: "\n")
  }
}

/// A previous `--format json` matrix, read leniently: only what issue-level consumers rely on
/// is required (each branch's `name`, each cell's `patch`, `state` and `verdict`); `status`,
/// `confidence` and the rest may be missing. A missing or mistyped field is one error line
/// naming its place.
struct PreviousMatrix {
  struct Cell {
    let patch: String
    let state: String
    let confidence: String?
    let verdict: String
  }
  struct Row {
    let name: String
    let cells: [Cell]
  }
  let rows: [Row]

  init(data: Data, path: String) throws {
    func fail(_ place: String, _ problem: String) -> StableBranchError {
      StableBranchError(description: "\(path): \(place.isEmpty ? "" : place + ": ")\(problem)")
    }
    guard let root = try? JSONSerialization.jsonObject(with: data) else {
      throw fail("", "not valid JSON (expected a 'matrix --format json' output)")
    }
    if let top = root as? [String: Any], let schema = top["schema"] as? Int, schema > 1 {
      throw fail("schema", "schema \(schema) is newer than this bo-repro reads (1)")
    }
    guard let top = root as? [String: Any], let list = top["branches"] else {
      throw fail("", "missing key 'branches' (expected a 'matrix --format json' output)")
    }
    guard let branches = list as? [Any] else { throw fail("branches", "expected an array") }
    func string(_ dict: [String: Any], _ key: String, _ place: String, required: Bool = true) throws -> String? {
      guard let value = dict[key] else {
        if required { throw fail(place, "missing key '\(key)'") }
        return nil
      }
      guard let s = value as? String else { throw fail("\(place).\(key)", "expected a string") }
      return s
    }
    rows = try branches.enumerated().map { i, entry in
      let place = "branches[\(i)]"
      guard let row = entry as? [String: Any] else { throw fail(place, "expected an object") }
      let name = try string(row, "name", place)!
      guard let cells = row["cells"] else { throw fail(place, "missing key 'cells'") }
      guard let list = cells as? [Any] else { throw fail(place + ".cells", "expected an array") }
      return Row(
        name: name,
        cells: try list.enumerated().map { j, entry in
          let cplace = "\(place).cells[\(j)]"
          guard let cell = entry as? [String: Any] else { throw fail(cplace, "expected an object") }
          return Cell(
            patch: try string(cell, "patch", cplace)!, state: try string(cell, "state", cplace)!,
            confidence: try string(cell, "confidence", cplace, required: false),
            verdict: try string(cell, "verdict", cplace)!)
        })
    }
  }
}

/// An RFC 4180 field: quoted when it holds a comma, a quote or a newline.
func csvField(_ s: String) -> String {
  s.contains(where: { ",\"\n".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}
