import Foundation
import JSONText
import PatchText

/// `bo-repro history`'s text and JSON.
public enum HistoryReport {
  /// The line that decided a run's state: the first hunk's evidence for a clear state, the
  /// roll-up's first note (what is missing, why it cannot decide) otherwise.
  public static func decidingLine(_ scan: PatchScan) -> String {
    switch scan.state {
    case .before, .after, .adapted: scan.evidence.first ?? scan.notes.first ?? ""
    default: scan.notes.first ?? scan.evidence.first ?? ""
    }
  }

  /// "before in v5.15 .. v5.15.55, after from v5.15.56": one phrase per run.
  public static func summary(_ runs: [StateRun], _ points: [HistoryPoint]) -> String {
    if runs.count == 1, let r = runs.first {
      return points.count == 1
        ? "\(r.state) in \(points[0].name)"
        : "\(r.state) in all \(points.count) points (\(points[0].name) .. \(points[points.count - 1].name))"
    }
    var seen: Set<ScanState> = []
    var phrases: [String] = []
    for (k, r) in runs.enumerated() {
      let again = seen.contains(r.state) ? " again" : ""
      seen.insert(r.state)
      let span = r.first == r.last ? points[r.first].name : "\(points[r.first].name) .. \(points[r.last].name)"
      let changedBehaviour = k > 0 && runs[k - 1].state == r.state ? " (behaviour: \(r.verdict))" : ""
      phrases.append(
        k == runs.count - 1 && k > 0
          ? "\(r.state)\(again) from \(points[r.first].name)\(changedBehaviour)"
          : "\(r.state)\(again) in \(span)\(changedBehaviour)")
    }
    return phrases.joined(separator: ", ")
  }

  public static func text(_ h: History) -> String {
    let s = h.stats
    var out = [
      "history: \(h.repository): \(s.points) point(s) in \(h.groups.count) group(s); read \(s.commitsRead) commits, \(s.treesRead) trees, \(s.blobsRead) blobs (\(s.objects) objects through one git cat-file); \(s.fileDecisions) file decisions, \(s.patchScans) patch scans, \(s.treeStatesRun) tree state(s) run"
    ]
    for (g, group) in h.groups.enumerated() {
      let points = group.points
      out.append("")
      let span = points.count == 1 ? points[0].name : "\(points[0].name) .. \(points[points.count - 1].name)"
      out.append(
        "\(group.name): \(span) (\(points.count) \(group.kind == .range ? "commit" : "point")\(points.count == 1 ? "" : "s"))"
      )
      for p in points where p.problem != nil { out.append("  unknown: \(p.name): \(p.problem!)") }
      for (i, slug) in h.patches.enumerated() {
        let runs = h.runs(group: g, patch: i)
        out.append("  \(slug): \(summary(runs, points))")
        // A patch whose code no point has needs no more than its summary.
        if runs.count == 1, runs[0].state == .absent { continue }
        for r in runs {
          let point = points[r.first]
          let scan = h.scans[r.scan]
          // A range's point is named by its commit already.
          let commit = point.commit.map { point.name.hasPrefix($0.prefix(12)) ? "" : " (\($0.prefix(12)))" } ?? ""
          out.append(
            "    \(r.state.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) from \(point.name)\(commit)\(scan.exact ? " exact" : ""): \(point.problem ?? decidingLine(scan))"
          )
          out.append("              behaviour: \(r.verdict)\(r.consistent ? "" : " (does not agree with the state)")")
        }
      }
    }
    return out.joined(separator: "\n")
  }

  /// `{"schema": 1, "command": "history", "repository", "patches", "stats", "groups": [{"name",
  /// "kind", "points", "first", "last", "unknown": [{"point", "reason"}], "patches": [{"patch",
  /// "summary", "changes": [{"state", "from", "to", "points", "commit", "version", "exact",
  /// "evidence", "notes", "verdict", "consistent"}]}]}]}`.
  public static func json(_ h: History) -> JSONValue {
    let s = h.stats
    return [
      "schema": 1, "command": "history", "repository": .string(h.repository), "patches": JSONValue(h.patches),
      "stats": [
        "points": .int(s.points), "commits": .int(s.commitsRead),
        "trees": .int(s.treesRead), "blobs": .int(s.blobsRead),
        "fileDecisions": .int(s.fileDecisions), "patchScans": .int(s.patchScans),
        "treeStates": .int(s.treeStatesRun), "objects": .int(s.objects),
      ],
      "groups": .array(
        h.groups.enumerated().map { g, group in
          let points = group.points
          return [
            "name": .string(group.name), "kind": .string(group.kind.rawValue), "points": .int(points.count),
            "first": .string(points[0].name), "last": .string(points[points.count - 1].name),
            "unknown": .array(
              points.filter { $0.problem != nil }.map { ["point": .string($0.name), "reason": .string($0.problem!)] }),
            "patches": .array(
              h.patches.indices.map { i in
                let runs = h.runs(group: g, patch: i)
                return [
                  "patch": .string(h.patches[i]), "summary": .string(summary(runs, points)),
                  "changes": .array(
                    runs.map { r in
                      let scan = h.scans[r.scan]
                      return [
                        "state": .string(r.state.rawValue), "from": .string(points[r.first].name),
                        "to": .string(points[r.last].name), "points": .int(r.last - r.first + 1),
                        "commit": JSONValue(points[r.first].commit),
                        "version": JSONValue(points[r.first].version?.description), "exact": .bool(scan.exact),
                        "evidence": .string(points[r.first].problem ?? decidingLine(scan)),
                        "notes": JSONValue(scan.notes),
                        "verdict": .string(r.verdict), "consistent": .bool(r.consistent),
                      ]
                    }),
                ]
              }),
          ]
        }),
    ]
  }
}
