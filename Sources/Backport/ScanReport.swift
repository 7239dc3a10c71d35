import Foundation
import JSONText
import PatchText

/// `bo-repro scan`'s output: a table a reviewer reads, JSON (README.md "JSON output", the
/// stable contract), CSV.
public enum ScanReport {
  /// One tree: where it came from and its version, a line per patch with its state, then per
  /// patch the deciding line of each hunk and the roll-up's notes.
  public static func text(_ scan: TreeScan) -> String {
    var out = ["scan: \(scan.origin.description)" + version(scan)]
    let width = scan.patches.map(\.patch.count).max() ?? 0
    for p in scan.patches {
      out.append(
        "  \(p.patch.padding(toLength: width, withPad: " ", startingAt: 0))  \(p.state.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0))\(p.exact ? " (exact: blob ids)" : "")"
      )
    }
    for p in scan.patches {
      out.append("")
      out.append("\(p.patch): \(p.state)\(p.exact ? " (exact)" : "")")
      for f in p.files {
        for h in f.hunks {
          out.append(
            "  \(h.state.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(h.header)  \(h.evidence)")
        }
      }
      out += p.notes.map { "  note: \($0)" }
    }
    return out.joined(separator: "\n")
  }

  static func version(_ scan: TreeScan) -> String {
    guard let v = scan.version else { return " (no kernel version: no top-level Makefile)" }
    return " (Makefile: \(v), branch \(v.branch))"
  }

  /// `{"schema": 1, "command": "scan", "tree": {...}, "patches": [...]}` for one tree; for
  /// several, `"trees": [{"tree", "patches"}, ...]` instead of the two keys.
  public static func json(_ scans: [TreeScan]) -> JSONValue {
    if scans.count == 1 {
      let one = tree(scans[0])
      return .object([JSONMember("schema", 1), JSONMember("command", "scan")] + one.objectMembers)
    }
    return ["schema": 1, "command": "scan", "trees": .array(scans.map(tree))]
  }

  /// `{"tree": {"path", "repo", "ref", "commit", "version", "branch", "makefileBlob"},
  /// "patches": [...]}`.
  public static func tree(_ scan: TreeScan) -> JSONValue {
    [
      "tree": [
        "path": JSONValue(scan.origin.path), "repo": JSONValue(scan.origin.repository),
        "ref": JSONValue(scan.origin.ref), "commit": JSONValue(scan.origin.commit),
        "version": JSONValue(scan.version?.description), "branch": JSONValue(scan.version?.branch),
        "makefileBlob": JSONValue(scan.makefileBlob),
      ],
      "patches": .array(scan.patches.map(patch)),
    ]
  }

  /// One patch: `{"patch", "state", "exact", "evidence", "notes", "files": [{"path", "blob",
  /// "presence", "problem", "exact", "hunks": [{"header", "section", "state", "line",
  /// "evidence", "fullImage"}]}]}`.
  public static func patch(_ p: PatchScan) -> JSONValue {
    [
      "patch": .string(p.patch), "state": .string(p.state.rawValue), "exact": .bool(p.exact),
      "evidence": JSONValue(p.evidence), "notes": JSONValue(p.notes),
      "files": .array(
        p.files.map { f in
          [
            "path": .string(f.path), "blob": JSONValue(f.blob), "presence": .string(f.presence),
            "problem": JSONValue(f.problem), "exact": JSONValue(f.exact?.rawValue),
            "hunks": .array(
              f.hunks.map { h in
                [
                  "header": .string(h.header), "section": .string(h.section), "state": .string(h.state.rawValue),
                  "line": JSONValue(h.line), "evidence": .string(h.evidence), "fullImage": .bool(h.fullImage),
                ]
              }),
          ]
        }),
    ]
  }

  /// `tree,version,patch,state,exact,evidence` (the first hunk's evidence), one line per tree
  /// and patch, RFC 4180 quoting.
  public static func csv(_ scans: [TreeScan]) -> String {
    var out = ["tree,version,patch,state,exact,evidence"]
    for s in scans {
      for p in s.patches {
        out.append(
          [
            s.origin.description, s.version?.description ?? "", p.patch, p.state.rawValue, p.exact ? "yes" : "no",
            p.evidence.first ?? "",
          ].map(csvField).joined(separator: ","))
      }
    }
    return out.joined(separator: "\n")
  }
}
