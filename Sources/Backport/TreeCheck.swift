import Foundation
import PatchText
import Patches

/// A patch checked against a real tree's files (`review --tree DIR`, `--git REPO --ref REF`):
/// per hunk, whether it applies as is, with an offset, with fuzz or only with whitespace
/// ignored, is already applied, or conflicts, and for a conflict the tree's lines where its
/// context was expected, explained in terms of the known patches where one explains them.
public struct TreeCheckReport: Sendable {
  /// The whole patch's outcome, worst hunk first: conflicts over fuzz over offset.
  public enum Outcome: String, Sendable {
    case applies = "applies"
    case appliesWithOffset = "applies-with-offset"
    case appliesWithFuzz = "applies-with-fuzz"
    case appliesIgnoringWhitespace = "applies-ignoring-whitespace"
    case alreadyApplied = "already-applied"
    /// Some hunks applied already, the others apply: the patch was partly backported before.
    case partlyApplied = "partly-applied"
    case conflicts
    /// A file the patch changes is not in the tree.
    case missingFile = "missing-file"
  }
  /// One hunk's placement, described.
  public struct HunkResult: Sendable {
    public let file: String
    public let header: String
    public let function: String?
    public let placement: HunkPlacement
    /// `applies`, `applies at +27 lines`, `applies with fuzz 1 at -3 lines`,
    /// `already applied (line 545)`, `conflicts at line 540`.
    public let summary: String
    /// For a conflict: each expected line and what the tree has there.
    public let treeLines: [String]
  }
  /// The tree, as `TreeOrigin` describes it.
  public let tree: String
  public let outcome: Outcome
  public let hunks: [HunkResult]
  /// Why hunks conflict, in terms of the known patches ("ttm_backup.c here lacks ... which
  /// gfp-retry-mayfail-readback (c6135f67aa37) adds").
  public let explanations: [String]
  /// The known patches an explanation names as missing from the tree: needed for the code.
  public let missingForCode: [String]
  /// Files a later patch of a series sees: the post-image of each file that took the patch.
  public let results: [String: String]
}

/// A kernel source with some files replaced: the tree as a series' later patches see it.
public struct OverlaySource: KernelSource {
  public let base: any KernelSource
  public var overrides: [String: String]
  public var origin: TreeOrigin { base.origin }
  public init(base: any KernelSource, overrides: [String: String] = [:]) {
    self.base = base
    self.overrides = overrides
  }
  public func file(_ path: String) throws -> SourceFile {
    if let text = overrides[path] { return .text(blob: GitBlob.id(of: text), text: text) }
    return try base.file(path)
  }
}

public enum TreeCheck {
  /// Checks `patch` against `source`'s files; `set` and `scan` (the tree's scan) explain
  /// conflicts in terms of the known patches (`slug` is the patch itself, left out of them).
  public static func check(
    _ patch: PatchFile, slug: String?, source: any KernelSource, set: PatchSet, scan: TreeScan?
  ) throws -> TreeCheckReport {
    var hunks: [TreeCheckReport.HunkResult] = []
    var explanations: [String] = []
    var missing: [String] = []
    var results: [String: String] = [:]
    var missingFile = false
    for f in patch.files {
      let file = try source.file(f.path)
      var text: String?
      var problem: String?
      switch file {
      case .text(_, let t): text = t
      case .missing: problem = f.isNewFile ? nil : "the tree has no \(f.path)"
      case .unreadable(_, let reason): problem = "\(f.path) cannot be read: \(reason)"
      }
      if let problem {
        missingFile = true
        explanations.append(problem + ".")
        continue
      }
      let check = f.check(against: text, blob: file.blob)
      if let r = check.result { results[f.path] = r }
      let name = (f.path as NSString).lastPathComponent
      for (h, placement) in zip(f.hunks, check.hunks) {
        let function = functionName(inSection: h.section)
        let summary: String
        // The hunk lines the tree does not have where the hunk lands: for a conflict, at its
        // best alignment; for fuzz, the context the fuzz left out (where git cherry-pick stops).
        var mismatches: [HunkPlacement.Mismatch] = []
        switch placement {
        case .applies(let offset, let fuzz):
          let at = offset == 0 ? "" : " at \(offset > 0 ? "+" : "")\(offset) lines"
          summary = fuzz == 0 ? "applies" + at : "applies with fuzz \(fuzz)" + at + " (git apply refuses it)"
          if fuzz > 0, let text {
            var tree = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if tree.last == "" { tree.removeLast() }
            mismatches = h.mismatches(in: tree, at: max(h.oldStart - 1, 0) + offset)
          }
        case .appliesIgnoringWhitespace(let offset):
          summary =
            "applies only with whitespace ignored" + (offset == 0 ? "" : " at \(offset > 0 ? "+" : "")\(offset) lines")
        case .alreadyApplied(let line):
          summary = "already applied (its post-image is at line \(line))"
        case .conflict(let line, let found):
          summary = "conflicts: its context was expected at line \(line)"
          mismatches = found
          if found.isEmpty {
            explanations.append("\(name) \(h.header): conflicts, no line of the tree differs by itself.")
          }
        }
        let treeLines = mismatches.prefix(6).map { m in
          "line \(m.line): expected \"\(m.expected.trimmingCharacters(in: .whitespaces))\", the tree has "
            + (m.found.map { "\"\($0.trimmingCharacters(in: .whitespaces))\"" } ?? "the end of the file")
        }
        for e in explain(mismatches, file: f.path, slug: slug, set: set, scan: scan) {
          if !explanations.contains(e.line) { explanations.append(e.line) }
          if let q = e.missing, !missing.contains(q) { missing.append(q) }
        }
        hunks.append(
          TreeCheckReport.HunkResult(
            file: f.path, header: h.header, function: function, placement: placement, summary: summary,
            treeLines: treeLines))
      }
    }
    let placements = hunks.map(\.placement)
    let outcome: TreeCheckReport.Outcome
    if missingFile {
      outcome = .missingFile
    } else if placements.contains(where: { if case .conflict = $0 { true } else { false } }) {
      outcome = .conflicts
    } else if placements.allSatisfy({ if case .alreadyApplied = $0 { true } else { false } }) {
      outcome = .alreadyApplied
    } else if placements.contains(where: { if case .alreadyApplied = $0 { true } else { false } }) {
      outcome = .partlyApplied
    } else if placements.contains(where: { if case .appliesIgnoringWhitespace = $0 { true } else { false } }) {
      outcome = .appliesIgnoringWhitespace
    } else if placements.contains(where: { if case .applies(_, let fuzz) = $0 { fuzz > 0 } else { false } }) {
      outcome = .appliesWithFuzz
    } else if placements.contains(where: { if case .applies(let offset, _) = $0 { offset != 0 } else { false } }) {
      outcome = .appliesWithOffset
    } else {
      outcome = .applies
    }
    return TreeCheckReport(
      tree: source.origin.description, outcome: outcome, hunks: hunks, explanations: explanations,
      missingForCode: missing, results: results)
  }

  /// What a known patch says about a conflict's lines: a line the hunk expects that only a
  /// known patch adds (the tree lacks that patch), or a line the tree has that a known patch
  /// adds (the tree carries code the patch was not written on).
  static func explain(
    _ mismatches: [HunkPlacement.Mismatch], file: String, slug: String?, set: PatchSet, scan: TreeScan?
  ) -> [(line: String, missing: String?)] {
    let name = (file as NSString).lastPathComponent
    func adds(_ q: PatchFile) -> Set<String> {
      Set(
        q.files.filter { ($0.path as NSString).lastPathComponent == name }.flatMap { f in
          f.hunks.flatMap { h in h.lines.filter { $0.kind == .added }.map { PatchRecogniser.key($0.text) } }
        }
      ).filter { $0.count >= 6 }
    }
    func label(_ q: PatchFile) -> String {
      let commit = PatchCatalog.patch(q.slug)?.upstreamCommit.map { " (\($0.prefix(12)))" } ?? ""
      let state = scan?.patch(q.slug).map { "; this tree: \($0.state)" } ?? ""
      return "\(q.slug)\(commit)\(state)"
    }
    func tokens(_ s: String) -> Set<String> {
      Set(s.split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init).filter { $0.count >= 3 })
    }
    var out: [(String, String?)] = []
    for m in mismatches {
      let expected = PatchRecogniser.key(m.expected)
      if let q = set.patches.first(where: { $0.slug != slug && adds($0).contains(expected) }) {
        let new = tokens(m.expected).subtracting(tokens(m.found ?? ""))
        let what = new.isEmpty ? "" : " (the `\(new.sorted().joined(separator: "`, `"))` it adds)"
        out.append(
          (
            "\(name) here lacks \"\(m.expected.trimmingCharacters(in: .whitespaces))\"\(what), which \(label(q)) adds: the hunk was written on a tree carrying it.",
            q.slug
          ))
      } else if let found = m.found,
        let q = set.patches.first(where: {
          $0.slug != slug && adds($0).contains(PatchRecogniser.key(found))
        })
      {
        out.append(
          (
            "\(name):\(m.line) has \"\(found.trimmingCharacters(in: .whitespaces))\", which \(label(q)) adds: the tree carries code the patch was not written on.",
            nil
          ))
      }
    }
    var seen: Set<String> = []
    return out.filter { seen.insert($0.0).inserted }
  }
}
