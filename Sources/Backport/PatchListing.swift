import Foundation
import Harness
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
  static func ordered(_ set: PatchSet) -> [PatchFile] {
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

  /// The same as JSON: an array of objects with `slug`, `subject`, `author`, `date`,
  /// `upstream` (or null) and `files` (`path`, `insertions`, `deletions`, `oldBlob`,
  /// `newBlob`).
  public static func json(_ set: PatchSet) throws -> String {
    struct File: Encodable {
      let path: String
      let insertions: Int
      let deletions: Int
      let oldBlob: String
      let newBlob: String
    }
    struct Entry: Encodable {
      let slug: String
      let subject: String
      let author: String
      let date: String
      let upstream: String?
      let files: [File]
    }
    let entries = ordered(set).map { p in
      Entry(
        slug: p.slug, subject: p.subject, author: p.author.description, date: p.date,
        upstream: p.upstreamCommit,
        files: p.files.map {
          File(
            path: $0.path, insertions: $0.insertions, deletions: $0.deletions, oldBlob: $0.oldBlob, newBlob: $0.newBlob)
        })
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(entries), as: UTF8.self)
  }
}
