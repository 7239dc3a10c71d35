import Foundation
import KernelTrees
import Patches

/// The backport review aid: for a patch and a branch, a short note a stable reviewer can act
/// on (`bo-repro review PATCH --onto BRANCH`).
public enum BackportReview {
  /// Writes the note for `patch` (from `set`) onto `branch`.
  ///
  /// - The code: whether what the patch changes exists on the branch, and whether the patch is
  ///   already there.
  /// - Prerequisites, from the patch texts: a file whose `index` pre-image is another patch's
  ///   post-image must follow that patch; context and removed lines that only another patch
  ///   adds; a pre-image no known patch produces means unknown upstream prerequisites. Patches
  ///   applied on the branch that change the same functions are named as conflicts.
  /// - The series: siblings and the partial-series risk.
  /// - The behaviour change: the patch's scenarios run on the branch's tree without and with
  ///   the patch, and which change outcome.
  /// - The `swift test --filter` command that runs the proof.
  public static func note(
    patch: PatchFile, onto branch: StableBranch, set: PatchSet, scenarios: [Scenario]
  ) throws -> String {
    let slug = patch.slug
    let catalog = PatchCatalog.patch(slug)
    let entry = branch.patch(slug)
    var out = ["review: \(slug) (\"\(patch.subject)\") onto \(branch.name) [\(branch.status)]", ""]

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
      out.append("  not in the branch fixture: a patch the package does not model.")
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
    for q in others {
      let lines = linesOnlyAddedBy(q, neededBy: patch, kernelFiles: kernelFiles)
      guard let first = lines.first else { continue }
      if case .notMerged? = PatchCatalog.patch(q.slug)?.status {
        // An unmerged patch cannot be where a merged tree got these lines: some other patch
        // added the same lines.
        out.append(
          "  context or removed lines (\(lines.count)) that among the known patches only the unmerged \(q.slug) adds, e.g. \"\(first)\": an unknown upstream patch adding the same lines must come first."
        )
      } else {
        out.append(
          "  context or removed lines that only \(q.slug) adds (\(lines.count)), e.g. \"\(first)\": it must come first."
        )
        prerequisites.append(q.slug)
      }
    }
    if let entry, entry.state == .before {
      let missing = Set(prerequisites).filter { branch.patch($0)?.state != .after }.sorted()
      if !missing.isEmpty {
        out.append("  not on \(branch.name): \(missing.joined(separator: ", ")).")
      }
      let touched = functions(patch)
      for q in others where branch.patch(q.slug)?.state == .after && !prerequisites.contains(q.slug) {
        let shared = touched.intersection(functions(q))
        if !shared.isEmpty {
          out.append(
            "  conflict: \(q.slug), applied on \(branch.name), changes the same functions (by hunk context: \(shared.sorted().joined(separator: ", "))); the patch will not apply as is."
          )
        }
      }
    }

    // The series.
    out.append("")
    out.append("series:")
    if let series = catalog?.series {
      out.append("  \(series.position) of \"\(series.title)\".")
      let unmerged: Bool
      if case .notMerged? = catalog?.status { unmerged = true } else { unmerged = false }
      for sibling in series.siblings {
        let state = sibling.commit.map { "merged as \($0.prefix(12))" } ?? (unmerged ? "not merged" : "commit unknown")
        out.append("  \(sibling.position) \"\(sibling.subject)\": \(state).")
      }
      if unmerged {
        out.append(
          "  partial-series risk: the series is not merged; this patch needs what its siblings add and cannot go alone."
        )
      } else {
        out.append("  partial-series risk: check that the siblings it relies on are on \(branch.name) too.")
      }
    } else {
      out.append("  a single patch.")
    }

    // Behaviour.
    out.append("")
    out.append("behaviour on \(branch.name):")
    let mine = scenarios.filter { $0.patch == slug }
    if let entry, entry.state == .before, let model = PatchModels.model(slug) {
      let base = branch.tree
      let patched = try? KernelTree(base: branch.name, stack: base.stack + [slug])
      if patched == nil || !base.hasCode(of: model) {
        out.append("  the model cannot compose \(branch.name) + \(slug).")
      } else {
        if out.contains(where: { $0.hasPrefix("  conflict: ") }) {
          out.append(
            "  (with the conflicts above, the composed tree runs the later patch's version of the shared code, so the outcome may not change)"
          )
        }
        for s in mine {
          let now = try ScenarioLibrary.run(s, on: base)
          let then = try ScenarioLibrary.run(s, on: patched!)
          let name = (s.file as NSString).lastPathComponent
          switch s.kind {
          case .delta:
            let changes = now.match == .before && then.match == .after
            out.append(
              "  \(changes ? "changes" : "CHECK  ") \(name): \(s.title): \(s.beforeHeadline) -> \(s.afterHeadline)"
                + (changes
                  ? ""
                  : " (observed \(RegressionMatrix.describe(now.match)) -> \(RegressionMatrix.describe(then.match)))"))
          case .noChange:
            let same = now.match == .both && then.match == .both
            out.append("  \(same ? "same   " : "CHECK  ") \(name): \(s.title)")
          }
        }
      }
    } else {
      out.append("  nothing to run: the patch is \(entry?.state.rawValue ?? "not modelled") on \(branch.name).")
    }

    // The proof.
    out.append("")
    out.append("proof:")
    if let model = PatchModels.model(slug) {
      out.append("  swift test --filter \(String(describing: model))Tests")
    }
    out.append(
      "  swift run bo-repro run "
        + mine.map { "fixtures/scenarios/" + ($0.file as NSString).lastPathComponent }.joined(separator: " "))
    return out.joined(separator: "\n")
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
