import Foundation
import PatchMail
import PatchText
import Patches

/// Which of the package's patches a foreign patch (a stable backport, an AUTOSEL mail, a
/// distro's cherry-pick) is, how that was decided, and which of the upstream patch's hunks it
/// carries.
public struct PatchRecognition: Sendable {
  /// What decided, strongest first: the order `recognise` tries them in.
  public enum Basis: String, Sendable, CaseIterable {
    /// The file is one of the package's patches under its own name.
    case fileName = "file-name"
    /// The mail names the upstream commit (`commit X upstream.`, `[ Upstream commit X ]`,
    /// `(cherry picked from commit X)`, a FAILED mail's original commit).
    case upstreamCommit = "upstream-commit"
    /// `git patch-id --stable` equals the upstream patch's.
    case patchID = "patch-id"
    /// The changed lines (whitespace-insensitive, context ignored) are the upstream patch's.
    case hunkContent = "hunk-content"
    /// Only the subject matches (case-insensitive): a hint, not proof.
    case subject
  }

  /// The package's patch it is.
  public let patch: PatchFile
  public let basis: Basis
  /// The deciding evidence, one phrase: `commit 9fc33eaaa979 upstream. in the body`.
  public let detail: String
  /// Which upstream hunks the foreign patch carries.
  public let coverage: HunkCoverage
}

/// Which of an upstream patch's hunks a foreign patch carries, by their changed lines.
public struct HunkCoverage: Sendable {
  public enum State: String, Sendable {
    /// Every changed line of the hunk is in the foreign patch's changes to the file.
    case carried
    /// At least half of them: a backport adapted to its branch.
    case adapted
    /// Fewer.
    case missing
  }
  public struct Item: Sendable {
    public let file: String
    public let header: String
    /// The function the hunk header names, if any.
    public let function: String?
    public let state: State
    public let matched: Int
    public let total: Int
  }
  public let items: [Item]
  /// Where a changed signature is left unmatched by the hunks carried
  /// (``PatchFile/buildBreaks(applied:)``): "ttm_pool.c still calls ttm_backup_copy_page()
  /// with 4 arguments, but ttm_backup.c now defines it with 5: will not build".
  public let buildBreaks: [String]
  /// Files the foreign patch changes that the upstream patch does not.
  public let extraFiles: [String]

  /// Whether every upstream hunk is carried or adapted.
  public var isComplete: Bool { !items.contains { $0.state == .missing } }
  /// Whether any upstream hunk is.
  public var carriesAny: Bool { items.contains { $0.state != .missing } }
  /// Files none of whose hunks are carried.
  public var missingFiles: [String] {
    var files: [String] = []
    for i in items where !files.contains(i.file) { files.append(i.file) }
    return files.filter { f in items.filter { $0.file == f }.allSatisfy { $0.state == .missing } }
  }
  /// The missing hunks, `ttm_pool.c @@ -543,7 +545,8 @@ (ttm_pool_restore_commit)`.
  public var missingHunks: [String] {
    items.filter { $0.state == .missing }.map {
      "\(($0.file as NSString).lastPathComponent) \($0.header)" + ($0.function.map { " (\($0))" } ?? "")
    }
  }
}

public enum PatchRecogniser {
  /// Decides which of `set`'s patches `foreign` is, in the order of
  /// ``PatchRecognition/Basis``: the file name, an upstream commit `references` names (a
  /// 12-hex prefix suffices on either side), the patch-id, the hunk content, the subject.
  /// `nil` when nothing matches.
  public static func recognise(
    _ foreign: PatchFile, references: [PatchMail.UpstreamReference] = [], patchID: String? = nil,
    in set: PatchSet, byFileName: Bool = true
  ) -> PatchRecognition? {
    func result(_ p: PatchFile, _ basis: PatchRecognition.Basis, _ detail: String) -> PatchRecognition {
      PatchRecognition(patch: p, basis: basis, detail: detail, coverage: coverage(of: p, by: foreign))
    }
    if byFileName, let same = set.patch(foreign.slug) { return result(same, .fileName, "its file name") }
    var refs = references
    if refs.isEmpty, let c = foreign.upstreamCommit, c.count == 40 {
      refs.append(PatchMail.UpstreamReference(commit: c, form: .commitUpstream))
    }
    for ref in refs {
      for p in set.patches {
        let known = [PatchCatalog.patch(p.slug)?.upstreamCommit, p.commit].compactMap { $0 }
        if known.contains(where: { sameCommit($0, ref.commit) }) {
          return result(
            p, .upstreamCommit,
            "\(ref.form.rawValue.replacingOccurrences(of: "...", with: String(ref.commit.prefix(12))))")
        }
      }
    }
    let id = patchID ?? PatchID.compute(diffText(foreign)).first?.id
    if let id {
      for p in set.patches where patchIDs(set)[p.slug] == id {
        return result(p, .patchID, "git patch-id --stable \(id.prefix(12))")
      }
    }
    // Hunk content: the patch whose changed lines the foreign patch carries most of, with at
    // least one hunk carried whole.
    var best: (PatchFile, HunkCoverage, Int)?
    for p in set.patches {
      let c = coverage(of: p, by: foreign)
      guard c.items.contains(where: { $0.state == .carried && $0.total >= 2 }) else { continue }
      let matched = c.items.reduce(0) { $0 + $1.matched }
      if best.map({ matched > $0.2 }) ?? true { best = (p, c, matched) }
    }
    if let (p, c, _) = best {
      let carried = c.items.filter { $0.state != .missing }.count
      return PatchRecognition(
        patch: p, basis: .hunkContent, detail: "\(carried) of \(c.items.count) hunks' changed lines", coverage: c)
    }
    let subject = SubjectLine(foreign.subject).subject.lowercased()
    if let p = set.patches.first(where: { $0.subject.lowercased() == subject }) {
      return result(p, .subject, "its subject (case-insensitive); its hunks do not match")
    }
    return nil
  }

  /// Whether two commit ids name the same commit: equal, or one a prefix (12 hex or more) of
  /// the other.
  static func sameCommit(_ a: String, _ b: String) -> Bool {
    let a = a.lowercased()
    let b = b.lowercased()
    guard min(a.count, b.count) >= 12 else { return false }
    return a.hasPrefix(b) || b.hasPrefix(a)
  }

  /// The patch-ids of a set's patches, from their files.
  static func patchIDs(_ set: PatchSet) -> [String: String] {
    var out: [String: String] = [:]
    for p in set.patches {
      if let text = try? PatchFile.readText(p.path), let id = PatchID.compute(text).first?.id { out[p.slug] = id }
    }
    return out
  }

  /// A diff text for patch-id from a parsed patch (the hunks as parsed; for a patch read from
  /// a mail the mail layer passes the patch-id of the mail's own text instead).
  static func diffText(_ p: PatchFile) -> String {
    var out: [String] = []
    for f in p.files {
      out.append("diff --git a/\(f.oldPath ?? f.path) b/\(f.newPath ?? f.path)")
      out.append("--- " + (f.oldPath.map { "a/\($0)" } ?? "/dev/null"))
      out.append("+++ " + (f.newPath.map { "b/\($0)" } ?? "/dev/null"))
      for h in f.hunks {
        out.append("\(h.header) \(h.section)")
        for l in h.lines {
          switch l.kind {
          case .context: out.append(" " + l.text)
          case .added: out.append("+" + l.text)
          case .removed: out.append("-" + l.text)
          case .noNewlineMarker: out.append("\\ No newline at end of file")
          }
        }
      }
    }
    return out.joined(separator: "\n") + "\n"
  }

  /// A changed line as compared: every whitespace character removed (as `git patch-id`
  /// does), so re-indenting or re-wrapping a line does not hide it.
  static func key(_ s: String) -> String { String(s.unicodeScalars.filter { !$0.properties.isWhitespace }) }

  /// Which of `upstream`'s hunks `foreign` carries. A hunk's changed lines are looked for
  /// among the foreign patch's changed lines of the same file (the same path, else the same
  /// file name), each foreign line counted once; lines that say nothing on their own (blank,
  /// braces) are left out where the hunk has others.
  public static func coverage(of upstream: PatchFile, by foreign: PatchFile) -> HunkCoverage {
    var items: [HunkCoverage.Item] = []
    var pools: [String: (removed: [String: Int], added: [String: Int])] = [:]
    for f in upstream.files {
      let other =
        foreign.files.first { $0.path == f.path }
        ?? foreign.files.first { ($0.path as NSString).lastPathComponent == (f.path as NSString).lastPathComponent }
      if pools[f.path] == nil {
        var removed: [String: Int] = [:]
        var added: [String: Int] = [:]
        for h in other?.hunks ?? [] {
          for l in h.lines {
            if l.kind == .removed { removed[key(l.text), default: 0] += 1 }
            if l.kind == .added { added[key(l.text), default: 0] += 1 }
          }
        }
        pools[f.path] = (removed, added)
      }
      for h in f.hunks where h.changes {
        let changed = h.lines.filter { $0.kind == .added || $0.kind == .removed }
        let meaningful = changed.filter { key($0.text).count >= 3 }
        let lines = meaningful.isEmpty ? changed : meaningful
        var matched = 0
        for l in lines {
          let k = key(l.text)
          if l.kind == .removed, let n = pools[f.path]?.removed[k], n > 0 {
            pools[f.path]?.removed[k] = n - 1
            matched += 1
          } else if l.kind == .added, let n = pools[f.path]?.added[k], n > 0 {
            pools[f.path]?.added[k] = n - 1
            matched += 1
          }
        }
        let state: HunkCoverage.State =
          matched == lines.count ? .carried : matched * 2 >= lines.count && matched > 0 ? .adapted : .missing
        items.append(
          HunkCoverage.Item(
            file: f.path, header: h.header, function: functionName(inSection: h.section), state: state,
            matched: matched,
            total: lines.count))
      }
    }
    let upstreamNames = Set(upstream.files.map { ($0.path as NSString).lastPathComponent })
    let extra = foreign.files.map(\.path).filter { !upstreamNames.contains(($0 as NSString).lastPathComponent) }
    // A hunk's item, by file and header (an upstream patch has no two equal headers in a file).
    let breaks = upstream.buildBreaks { f, n in
      let file = upstream.files[f]
      let header = file.hunks[n].header
      return items.first { $0.file == file.path && $0.header == header }.map { $0.state != .missing }
    }
    return HunkCoverage(items: items, buildBreaks: breaks, extraFiles: extra)
  }
}
