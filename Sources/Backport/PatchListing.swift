import Foundation
import JSONText
import PatchText
import Patches

/// The `bo-repro patches` listing.
public enum PatchListing {
  /// One block per patch: slug, subject, author, upstream commit or "not merged", and the
  /// files touched with their +/- counts.
  public static func text(_ set: PatchSet) -> String {
    var out: [String] = []
    for p in ordered(set) {
      let catalog = PatchCatalog.patch(p.slug)
      out.append(p.slug)
      var subject = p.subject
      if let series = catalog?.series { subject += "  [\(series.position) of \"\(series.title)\"]" }
      out.append("  subject:  \(subject)")
      out.append("  author:   \(p.author)")
      out.append("  date:     \(p.date)")
      out.append("  upstream: \(upstreamText(p, catalog))")
      let width = p.files.map(\.path.count).max() ?? 0
      for (n, f) in p.files.enumerated() {
        let label = n == 0 ? "  files:    " : "            "
        let pad = String(repeating: " ", count: width - f.path.count)
        out.append("\(label)\(f.path)\(pad)  +\(f.insertions) -\(f.deletions)")
      }
      out.append("")
    }
    out.append("\(set.patches.count) patches in \(set.directory)")
    return out.joined(separator: "\n")
  }

  /// The catalog's order (DESIGN.md), then any other patches by file name.
  public static func ordered(_ set: PatchSet) -> [PatchFile] {
    let rank = Dictionary(uniqueKeysWithValues: PatchCatalog.all.enumerated().map { ($1.slug, $0) })
    return set.patches.enumerated().sorted {
      (rank[$0.element.slug] ?? Int.max, $0.offset) < (rank[$1.element.slug] ?? Int.max, $1.offset)
    }.map(\.element)
  }

  /// The upstream column: the commit (12 digits) with what the patch or catalog says of it.
  static func upstreamText(_ p: PatchFile, _ catalog: UpstreamPatch?) -> String {
    guard let commit = p.upstreamCommit else {
      if case .mergedCommitUnknown(let release, _)? = catalog?.status {
        return "merged, upstream commit unknown; \(release)"
      }
      return "not merged"
    }
    var text = String(commit.prefix(12))
    if case .merged(_, let release, _)? = catalog?.status { text += " (\(release))" }
    if p.commit == nil { text += "; this file is a posted version, not the commit itself" }
    return text
  }

  /// The same as JSON: `{"schema": 1, "command": "patches", "directory", "patches": [{"slug",
  /// "subject", "author", "date", "upstream", "status", "files": [{"path", "insertions",
  /// "deletions", "oldBlob", "newBlob"}]}]}`; `upstream` is the commit or null.
  public static func json(_ set: PatchSet) -> JSONValue {
    [
      "schema": 1,
      "command": "patches",
      "directory": .string(set.directory),
      "patches": .array(
        ordered(set).map { p in
          [
            "slug": .string(p.slug), "subject": .string(p.subject), "author": .string(p.author.description),
            "date": .string(p.date), "upstream": JSONValue(p.upstreamCommit),
            "status": .string(upstreamText(p, PatchCatalog.patch(p.slug))),
            "files": .array(
              p.files.map {
                [
                  "path": .string($0.path), "insertions": .int($0.insertions), "deletions": .int($0.deletions),
                  "oldBlob": .string($0.oldBlob), "newBlob": .string($0.newBlob),
                ]
              }),
          ]
        }),
    ]
  }
}
