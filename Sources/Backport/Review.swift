import Foundation
import Harness
import KernelTrees
import PatchText
import Patches

/// The backport review aid: for a patch and a branch, a short note a stable reviewer can act
/// on (`bo-repro review PATCH --onto BRANCH`).
public enum BackportReview {
  /// Writes the note for `patch` (from `set`, or any patch file) onto `branch`; a file
  /// outside `set` is recognised by ``PatchSet/recognise(_:)``.
  ///
  /// - The code: whether what the patch changes exists on the branch, and whether the patch is
  ///   already there.
  /// - Prerequisites, from the patch texts: a file whose `index` pre-image is another patch's
  ///   post-image must follow that patch; context and removed lines that only another patch
  ///   adds; a pre-image no known patch produces means unknown upstream prerequisites. A
  ///   pre-image holding every line another patch adds was written on it: reported, not
  ///   demanded. Other patches applied on the branch that change the same functions are named
  ///   as conflicts, with how each hunk fits their upstream post-image (``Hunk/fit(in:)``).
  /// - The series: siblings, what each does for the patch, and the partial-series risk.
  /// - The behaviour change: the patch's scenarios run on the branch's tree without and with
  ///   the patch, and which change outcome.
  /// - The `swift test --filter` command that runs the proof.
  public static func note(
    patch given: PatchFile, onto branch: StableBranch, set: PatchSet, scenarios: [Scenario]
  ) throws -> String {
    // A file outside patches/ is recognised by its index lines (or subject) when it is one of
    // the package's patches under another name; its own text is what is checked below.
    let match = set.recognise(given)
    let recognised = match?.patch
    let patch = given
    let slug = recognised?.slug ?? given.slug
    let catalog = PatchCatalog.patch(slug)
    let entry = recognised == nil ? nil : branch.patch(slug)
    var out = ["review: \(slug) (\"\(patch.subject)\") onto \(branch.name) [\(branch.status)]"]
    if let match, match.patch.slug != given.slug {
      out.append("(\(given.path) recognised as \(match.patch.slug) by \(match.by))")
    }
    out.append("")

    // The code.
    out.append("code:")
    switch entry?.state {
    case .absent?:
      out.append("  absent: the code this patch changes does not exist on \(branch.name) (\(entry!.evidence)).")
      out.append("  nothing to backport.")
    case .after?:
      out.append("  already applied on \(branch.name): \(entry!.evidence)\(unverified(entry!.confidence)).")
    case .before?:
      out.append("  present, patch not applied\(unverified(entry!.confidence)): \(entry!.evidence).")
    case nil:
      out.append(
        "  not a patch this package models (no catalog entry, model or scenarios): only the text checks below apply.")
    }

    // Prerequisites from the texts.
    out.append("")
    out.append("prerequisites (from the patch texts):")
    let others = set.patches.filter { $0.slug != slug }
    var prerequisites: [String] = []
    for file in patch.files {
      if file.isNewFile {
        out.append("  \(file.path): new file, no pre-image.")
        continue
      }
      if let producer = others.first(where: { q in
        q.files.contains { $0.path == file.path && $0.newBlob == file.oldBlob }
      }) {
        out.append(
          "  \(file.path): pre-image \(file.oldBlob) is the post-image of \(producer.slug): it must come first.")
        prerequisites.append(producer.slug)
      } else {
        out.append(
          "  \(file.path): pre-image \(file.oldBlob) is produced by no known patch: unknown upstream prerequisites.")
      }
    }
    let kernelFiles = ((set.directory as NSString).deletingLastPathComponent as NSString)
      .appendingPathComponent("fixtures/kernel-files")
    // A pre-image holding every line another patch adds says what the patch was written on:
    // not a prerequisite by itself (a backport may be adapted, as 7.1.y's native order was),
    // but not a conflict either where the branch carries it.
    var writtenOn: [String] = []
    for q in others where !prerequisites.contains(q.slug) {
      guard let (path, count) = changesContained(q, inPreImageOf: patch, kernelFiles: kernelFiles) else { continue }
      if case .notMerged? = PatchCatalog.patch(q.slug)?.status {
        out.append(
          "  \(path): the pre-image holds every line the unmerged \(q.slug) adds there (\(count)): an unknown upstream patch adding the same lines came first."
        )
      } else {
        out.append(
          "  \(path): the pre-image holds every line \(q.slug) adds there (\(count)): the patch was written on a tree carrying \(q.slug); needed only where a hunk touches those lines (see the context check)."
        )
        writtenOn.append(q.slug)
      }
    }
    for q in others {
      let lines = linesOnlyAddedBy(q, neededBy: patch, kernelFiles: kernelFiles)
      guard let first = lines.first else { continue }
      if case .notMerged? = PatchCatalog.patch(q.slug)?.status {
        // An unmerged patch cannot be where a merged tree got these lines: some other patch
        // added the same lines.
        out.append(
          "  context or removed lines (\(lines.count)) that among the known patches only the unmerged \(q.slug) adds, e.g. \"\(first)\": an unknown upstream patch adding the same lines must come first."
        )
      } else if !prerequisites.contains(q.slug) {
        out.append(
          "  context or removed lines that only \(q.slug) adds (\(lines.count)), e.g. \"\(first)\": it must come first."
        )
        prerequisites.append(q.slug)
      }
    }
    if entry?.state == .before || entry == nil {
      let missing = Set(prerequisites).filter { branch.patch($0)?.state != .after }.sorted()
      if !missing.isEmpty {
        out.append("  not on \(branch.name): \(missing.joined(separator: ", ")).")
      }
      let touched = functions(patch)
      for q in others
      where branch.patch(q.slug)?.state == .after && !prerequisites.contains(q.slug) && !writtenOn.contains(q.slug) {
        let shared = touched.intersection(functions(q))
        guard !shared.isEmpty else { continue }
        let fits = hunkFits(patch, against: q, kernelFiles: kernelFiles)
        let clean = !fits.isEmpty && fits.allSatisfy { if case .applies = $0.fit { true } else { false } }
        out.append(
          "  conflict: \(q.slug), applied on \(branch.name), changes the same functions (by hunk context: \(shared.sorted().joined(separator: ", ")))"
            + (fits.isEmpty
              ? "; the patch may not apply as is."
              : clean
                ? "; every hunk still applies to its upstream post-image."
                : "; the patch will not apply as is to its upstream post-image."))
        out += describe(fits, q: q)
        if !fits.isEmpty {
          out.append(
            "    (\(branch.name)'s own file is not in fixtures/kernel-files; \(q.slug)'s upstream post-image stands in for it.)"
          )
        }
      }
    }

    // The series.
    out.append("")
    out.append("series:")
    var neededSiblings: [String] = []
    if let series = catalog?.series {
      out.append("  \(series.position) of \"\(series.title)\".")
      let unmerged: Bool
      if case .notMerged? = catalog?.status { unmerged = true } else { unmerged = false }
      for sibling in series.siblings {
        let state = sibling.commit.map { "merged as \($0.prefix(12))" } ?? (unmerged ? "not merged" : "commit unknown")
        out.append(
          "  \(sibling.position) \"\(sibling.subject)\": \(state); \(sibling.role) (\(sibling.needed ? "needed" : "not needed") for the behaviour modelled here)."
        )
      }
      neededSiblings = series.siblings.filter(\.needed).map(\.position)
      if unmerged {
        out.append(
          "  partial-series risk: the series is not merged; this patch needs what its siblings add and cannot go alone."
        )
      } else if neededSiblings.isEmpty {
        out.append(
          "  partial-series risk: low; no sibling is needed for the behaviour modelled here (see each above).")
      } else {
        out.append(
          "  partial-series risk: alone, \(series.position) changes no modelled behaviour; it needs \(neededSiblings.joined(separator: ", ")). Backport them with it, or check that \(branch.name) has them."
        )
      }
    } else {
      out.append("  a single patch.")
    }

    // Behaviour.
    out.append("")
    out.append(
      neededSiblings.isEmpty
        ? "behaviour on \(branch.name):"
        : "behaviour on \(branch.name), with the siblings it needs (\(neededSiblings.joined(separator: ", "))):")
    let mine = recognised == nil ? [] : scenarios.filter { $0.patch == slug }
    if let entry, entry.state == .before, PatchModels.model(slug) != nil {
      let base = branch.tree
      let patched = Result { try KernelTree(base: branch.name, stack: base.stack + [slug]) }
      switch patched {
      case .failure(let error):
        out.append("  the model cannot compose \(branch.name) + \(slug): \(error).")
      case .success(let patched):
        if out.contains(where: { $0.hasPrefix("  conflict: ") }) {
          out.append(
            "  (with the conflicts above, the composed tree runs the later patch's version of the shared code, so the outcome may not change)"
          )
        }
        for s in mine {
          out.append(try behaviourLine(s, base: base, patched: patched))
        }
      }
    } else {
      let why =
        switch entry?.state {
        case .after?: "it is already applied on \(branch.name)"
        case .absent?: "the code it changes is absent from \(branch.name)"
        default: "the package has no model of it"
        }
      out.append("  nothing to run: \(why).")
    }

    // The proof.
    out.append("")
    out.append("proof:")
    if let model = PatchModels.model(slug), recognised != nil {
      out.append("  swift test --filter \(String(describing: model))Tests")
    }
    if mine.isEmpty {
      if recognised == nil { out.append("  none: no model or scenario covers this patch.") }
    } else {
      out.append(
        "  swift run bo-repro run "
          + mine.map { "fixtures/scenarios/" + ($0.file as NSString).lastPathComponent }.joined(separator: " "))
    }
    return out.joined(separator: "\n")
  }

  /// One scenario run on the branch's tree without and with the patch.
  static func behaviourLine(_ s: Scenario, base: KernelTree, patched: KernelTree) throws -> String {
    let now = try ScenarioLibrary.run(s, on: base)
    let then = try ScenarioLibrary.run(s, on: patched)
    let name = (s.file as NSString).lastPathComponent
    switch s.kind {
    case .delta:
      let changes = now.match == .before && then.match == .after
      return "  \(changes ? "changes" : "CHECK  ") \(name): \(s.title): \(s.beforeHeadline) -> \(s.afterHeadline)"
        + (changes
          ? ""
          : " (observed \(RegressionMatrix.describe(now.match)) -> \(RegressionMatrix.describe(then.match)))")
    case .noChange:
      let same = now.match == .both && then.match == .both
      return "  \(same ? "same   " : "CHECK  ") \(name): \(s.title)"
    }
  }

  /// How each changing hunk of `patch` fits `q`'s post-image of the same file, for the files
  /// both change whose post-image `fixtures/kernel-files` holds.
  static func hunkFits(_ patch: PatchFile, against q: PatchFile, kernelFiles: String) -> [(
    file: String, blob: String, hunk: Hunk, fit: HunkFit
  )] {
    var fits: [(file: String, blob: String, hunk: Hunk, fit: HunkFit)] = []
    for f in patch.files where !f.isNewFile {
      guard let qf = q.files.first(where: { $0.path == f.path }),
        let text = kernelFile(f.path, qf.newBlob, in: kernelFiles)
      else { continue }
      for h in f.hunks where h.changes {
        fits.append((f.path, qf.newBlob, h, h.fit(in: text)))
      }
    }
    return fits
  }

  /// The lines of a conflict note: per file, which hunks are already present (with the first
  /// line they add), which apply and at what offset, and which do not.
  static func describe(_ fits: [(file: String, blob: String, hunk: Hunk, fit: HunkFit)], q: PatchFile) -> [String] {
    var out: [String] = []
    var files: [String] = []
    for f in fits where !files.contains(f.file) { files.append(f.file) }
    for file in files {
      let these = fits.filter { $0.file == file }
      let name = (file as NSString).lastPathComponent
      var applies: [String] = []
      var failing: [String] = []
      for f in these {
        let where_ = f.hunk.section.firstMatch(of: /([A-Za-z_][A-Za-z0-9_]*)\(/).map { " (\($0.1))" } ?? ""
        switch f.fit {
        case .applies(let offset):
          applies.append(offset == 0 ? "\(f.hunk.header)" : "\(f.hunk.header) at \(offset > 0 ? "+" : "")\(offset)")
        case .alreadyPresent:
          let first =
            f.hunk.lines.first { $0.kind == .added && !$0.text.trimmingCharacters(in: .whitespaces).isEmpty }?
            .text.trimmingCharacters(in: .whitespaces) ?? ""
          out.append(
            "    \(name)@\(f.blob.prefix(12)) (\(q.slug)'s upstream post-image): hunk \(f.hunk.header)\(where_) is already present there (\"\(first)\"): drop it from the backport."
          )
        case .doesNotApply:
          failing.append("\(f.hunk.header)\(where_)")
        }
      }
      if !failing.isEmpty {
        out.append(
          "    \(name)@\(these[0].blob.prefix(12)) (\(q.slug)'s upstream post-image): \(failing.count) hunk(s) do not apply: \(failing.joined(separator: ", "))."
        )
      }
      if !applies.isEmpty {
        out.append(
          "    \(name)@\(these[0].blob.prefix(12)) (\(q.slug)'s upstream post-image): \(applies.count) hunk(s) apply: \(applies.joined(separator: ", "))."
        )
      }
    }
    return out
  }

  /// `fixtures/kernel-files/NAME@BLOB12`, if there.
  static func kernelFile(_ path: String, _ blob: String, in kernelFiles: String) -> String? {
    try? String(
      contentsOfFile: "\(kernelFiles)/\((path as NSString).lastPathComponent)@\(blob.prefix(12))", encoding: .utf8)
  }

  /// Whether `patch`'s pre-image of some file holds every significant line `q` adds to that
  /// file (at least three, none of them already in `q`'s own pre-image or context): then
  /// `patch` was written on a tree that carries `q`. Returns the file and the line count.
  static func changesContained(_ q: PatchFile, inPreImageOf patch: PatchFile, kernelFiles: String) -> (
    String, Int
  )? {
    func significant(_ s: String) -> Bool { s.trimmingCharacters(in: .whitespaces).count >= 16 }
    for f in patch.files where !f.isNewFile {
      guard let qf = q.files.first(where: { $0.path == f.path }), !qf.isNewFile,
        let pre = kernelFile(f.path, f.oldBlob, in: kernelFiles)
      else { continue }
      var existing = Set(
        qf.hunks.flatMap { $0.lines.filter { $0.kind != .added }.map { $0.text.trimmingCharacters(in: .whitespaces) } })
      if let qPre = kernelFile(f.path, qf.oldBlob, in: kernelFiles) {
        existing.formUnion(qPre.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
      }
      let adds = Set(
        qf.hunks.flatMap {
          $0.lines.filter { $0.kind == .added && significant($0.text) }.map {
            $0.text.trimmingCharacters(in: .whitespaces)
          }
        }
      ).subtracting(existing)
      guard adds.count >= 3 else { continue }
      let lines = Set(pre.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
      if adds.isSubset(of: lines) { return (f.path, adds.count) }
    }
    return nil
  }

  static func unverified(_ c: Confidence) -> String {
    if case .unverified(let why) = c { return " (UNVERIFIED: \(why))" }
    return ""
  }

  /// Lines of `patch`'s context or removed lines that `q` adds and that are not in `q`'s own
  /// context or removed lines, nor anywhere in `q`'s pre-image of the file when
  /// `fixtures/kernel-files` has it: text `patch` expects that only exists once `q` is
  /// applied. Trivial lines (short, braces, blank) are ignored.
  static func linesOnlyAddedBy(_ q: PatchFile, neededBy patch: PatchFile, kernelFiles: String) -> [String] {
    func significant(_ s: String) -> Bool { s.trimmingCharacters(in: .whitespaces).count >= 16 }
    var added: [String: Set<String>] = [:]
    var existing: [String: Set<String>] = [:]
    for f in q.files {
      for h in f.hunks {
        for l in h.lines where significant(l.text) {
          let t = l.text.trimmingCharacters(in: .whitespaces)
          if l.kind == .added { added[f.path, default: []].insert(t) } else { existing[f.path, default: []].insert(t) }
        }
      }
      let pre = "\(kernelFiles)/\((f.path as NSString).lastPathComponent)@\(f.oldBlob.prefix(12))"
      if !f.isNewFile, let text = try? String(contentsOfFile: pre, encoding: .utf8) {
        for line in text.split(separator: "\n") {
          existing[f.path, default: []].insert(line.trimmingCharacters(in: .whitespaces))
        }
      }
    }
    var found: [String] = []
    for f in patch.files {
      let onlyAdded = added[f.path, default: []].subtracting(existing[f.path, default: []])
      for h in f.hunks {
        for l in h.lines where (l.kind == .context || l.kind == .removed) && significant(l.text) {
          let t = l.text.trimmingCharacters(in: .whitespaces)
          if onlyAdded.contains(t) && !found.contains(t) { found.append(t) }
        }
      }
    }
    return found
  }

  /// The functions a patch's hunks change, from the lines they add or remove: the hunk's
  /// function context, e.g. `ttm_pool_backup`.
  static func functions(_ p: PatchFile) -> Set<String> {
    var names: Set<String> = []
    for f in p.files {
      for h in f.hunks where h.lines.contains(where: { $0.kind == .added || $0.kind == .removed }) {
        if let m = h.section.firstMatch(of: /([A-Za-z_][A-Za-z0-9_]*)\(/) { names.insert(f.path + ":" + String(m.1)) }
      }
    }
    return Set(names.map { String($0.split(separator: ":").last!) })
  }
}
