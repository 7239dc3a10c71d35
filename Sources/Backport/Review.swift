import Foundation
import Harness
import JSONText
import KernelTrees
import PatchMail
import PatchText
import Patches

/// What a backport review finds for one patch onto one branch: the code, the prerequisites
/// from the patch texts, the conflicts, the series, the behaviour change, the verdict. It is
/// data first, so that the command line can print it as text or JSON and exit with the
/// verdict's status.
public struct ReviewReport: Sendable {
  /// The answer a stable maintainer acts on.
  public enum Verdict: String, Sendable, CaseIterable {
    /// The code is there, the patch is not, nothing it needs is missing: apply it.
    case apply
    /// The code the patch changes does not exist on the branch.
    case notNeeded = "not-needed"
    /// The branch carries it.
    case alreadyApplied = "already-applied"
    /// Needed, but it needs patches the branch lacks, or conflicts with what it carries.
    case blocked
    /// The package cannot decide (a patch it does not model).
    case unknown
    /// The patch carries only some of the upstream patch's hunks: no verdict of the full fix.
    case partial
  }

  /// For a FAILED mail: one of its "Possible dependencies", and whether the code and the
  /// behaviour need it.
  public struct DependencyAssessment: Sendable, Hashable {
    /// How much a dependency is needed.
    public enum Need: String, Sendable, Hashable {
      /// The failing patch itself (the stable scripts list it first).
      case itself
      case needed
      /// The tree (or branch) carries it already.
      case carried
      case notNeeded = "not-needed"
      /// Not a patch the package models: cannot say.
      case unknown
    }
    public let commit: String
    public let subject: String
    /// The package's slug for it, when it is one of its patches.
    public let patch: String?
    public let code: Need
    public let behaviour: Need
    public let why: String
  }

  /// A patch this one needs, from the patch texts.
  public struct Prerequisite: Sendable, Hashable {
    /// The package's slug for it, or `nil` for a series sibling outside the package.
    public let slug: String?
    /// Its upstream commit (full, where known).
    public let commit: String?
    public let subject: String
    /// Where it stands when it has no mainline commit ("not merged", "stable 7.2.5 (a46ab76b6cf5)").
    public let status: String?
    /// Why it is needed, one sentence.
    public let why: String
    /// Whether the branch already carries it (then it is no dependency).
    public let carried: Bool

    /// `sha ("subject")` as the stable scripts' "Possible dependencies:" list writes it.
    public var dependencyLine: String {
      if let commit { return "\(commit.prefix(12)) (\"\(subject)\")" }
      if status == "not merged" { return "(not merged) (\"\(subject)\")" }
      return "(mainline commit unknown) (\"\(subject)\")" + (status.map { " [\($0)]" } ?? "")
    }
  }

  /// Another patch on the branch that changes the same functions.
  public struct Conflict: Sendable, Hashable {
    public let slug: String
    public let functions: [String]
    /// Whether every changing hunk still applies to that patch's upstream post-image.
    public let applies: Bool
    /// What each hunk does there, one line per file and kind.
    public let notes: [String]
  }

  /// One scenario run on the branch's tree without and with the patch.
  public struct Behaviour: Sendable, Hashable {
    public let scenario: String
    public let title: String
    public let kind: ScenarioKind
    /// Whether the runs came out as the scenario says (a delta changes, a no-change does not).
    public let expected: Bool
    public let before: String
    public let after: String
    public let observedWithout: String
    public let observedWith: String
  }

  public let patch: String
  /// Whether the package models this patch (catalog, model, scenarios).
  public let modelled: Bool
  public let subject: String
  /// The patch file reviewed.
  public let file: String
  /// How a file outside `patches/` was recognised, if it was.
  public let recognisedBy: String?
  public let upstreamCommit: String?
  /// Where it stands upstream, when it has no mainline commit.
  public let upstreamStatus: String?
  /// The `Fixes:` trailers.
  public let fixes: [String]
  public let branch: String
  public let branchStatus: String
  /// The state the branch data gives (`nil` for a patch the package does not model).
  public let state: PatchState?
  public let stateEvidence: String?
  /// Why the state is unverified, if it is.
  public let stateUnverified: String?
  /// Lines about the files' pre-images: chains, unknown upstream prerequisites, what the patch
  /// was written on.
  public let preImageNotes: [String]
  public let prerequisites: [Prerequisite]
  public let conflicts: [Conflict]
  /// The series: `2/3 of "title"`, one line per sibling, the partial-series risk.
  public let series: [String]
  /// The siblings the behaviour needs, by position.
  public let neededSiblings: [String]
  public let behaviour: [Behaviour]
  /// Why no scenario ran, when none did.
  public let behaviourNotRun: String?
  /// Commands that run the proof.
  public let proof: [String]
  public let verdict: Verdict
  /// The verdict in one sentence.
  public let reason: String

  /// How the patch was recognised (basis, evidence, hunk coverage), when it was.
  public var recognition: PatchRecognition? = nil
  /// The mail it came from, when it came from one.
  public var mail: PatchMail? = nil
  /// The check against a real tree, with `--tree` or `--git`.
  public var treeCheck: TreeCheckReport? = nil
  /// For a FAILED mail: its "Possible dependencies", each assessed.
  public var dependencies: [DependencyAssessment] = []
  /// The patches of the series reviewed before this one and taken as applied.
  public var earlierInSeries: [String] = []

  /// The prerequisites the branch lacks, as a "Possible dependencies:" list would name them.
  public var possibleDependencies: [Prerequisite] { prerequisites.filter { !$0.carried } }
}

/// The backport review aid: for a patch and a branch, a short note a stable reviewer can act
/// on (`bo-repro review PATCH --onto BRANCH`).
public enum BackportReview {
  /// The note for `patch` onto `branch`, as text.
  public static func note(
    patch given: PatchFile, onto branch: StableBranch, set: PatchSet, scenarios: [Scenario]
  ) throws -> String {
    try review(patch: given, onto: branch, set: set, scenarios: scenarios).text
  }

  /// Reviews `patch` (from `set`, or any patch file) onto `branch`; a file outside `set` is
  /// recognised by ``PatchSet/recognise(_:)``.
  ///
  /// - The code: whether what the patch changes exists on the branch, and whether the patch is
  ///   already there.
  /// - Prerequisites, from the patch texts: a file whose `index` pre-image is another patch's
  ///   post-image must follow that patch; context and removed lines that only another patch
  ///   adds; a pre-image no known patch produces means unknown upstream prerequisites. A
  ///   pre-image holding every line another patch adds was written on it: reported, not
  ///   demanded. A prerequisite the branch carries is no dependency. Other patches applied on
  ///   the branch that change the same functions are named as conflicts, with how each hunk
  ///   fits their upstream post-image (``Hunk/fit(in:)``).
  /// - The series: siblings, what each does for the patch, and the partial-series risk; a
  ///   needed sibling is a prerequisite.
  /// - The behaviour change: the patch's scenarios run on the branch's tree without and with
  ///   the patch, and which change outcome.
  /// - The verdict: apply, not needed, already applied, blocked (with the possible
  ///   dependencies), or unknown.
  ///
  /// A patch from a mail (`mail`) is recognised by ``PatchRecogniser`` (upstream commit,
  /// patch-id, hunk content, subject); one carrying only some of the upstream hunks is
  /// `partial`, with no verdict of the full fix. With `tree`, the patch is also checked
  /// against the tree's files (``TreeCheck``), and a conflict there blocks it.
  public static func review(
    patch given: PatchFile, onto branch: StableBranch, set: PatchSet, scenarios: [Scenario],
    mail: PatchMail? = nil, tree: (any KernelSource)? = nil, treeScan: TreeScan? = nil, byFileName: Bool = true,
    earlierInSeries: [String] = []
  ) throws -> ReviewReport {
    // A patch outside patches/ is recognised when it is one of the package's patches under
    // another name; its own text is what is checked below.
    let match = PatchRecogniser.recognise(
      given, references: mail?.upstream ?? [], patchID: mail?.patchID, in: set, byFileName: byFileName)
    // A subject alone, or an upstream id whose changes are not there, is no recognition.
    let recognised = match.flatMap { $0.coverage.carriesAny ? $0.patch : nil }
    let patch = given
    let slug = recognised?.slug ?? given.slug
    let catalog = recognised == nil ? nil : PatchCatalog.patch(slug)
    let entry = recognised == nil ? nil : branch.patch(slug)
    let carries = { (q: String) in branch.patch(q)?.state.applied == true }

    // Prerequisites from the texts.
    var notes: [String] = []
    var prerequisites: [ReviewReport.Prerequisite] = []
    func prerequisite(_ q: String, why: String) {
      guard !prerequisites.contains(where: { $0.slug == q }) else { return }
      let c = PatchCatalog.patch(q)
      var status: String?
      switch c?.status {
      case .notMerged?: status = "not merged"
      case .mergedCommitUnknown(let release, _)?: status = release
      default: status = nil
      }
      prerequisites.append(
        ReviewReport.Prerequisite(
          slug: q, commit: c?.upstreamCommit, subject: c?.subject ?? q, status: status, why: why, carried: carries(q)))
    }
    let others = set.patches.filter { $0.slug != slug }
    for file in patch.files {
      if file.isNewFile {
        notes.append("\(file.path): new file, no pre-image.")
        continue
      }
      if let producer = others.first(where: { q in
        q.files.contains { $0.path == file.path && $0.newBlob == file.oldBlob }
      }) {
        let carried = carries(producer.slug)
        notes.append(
          "\(file.path): pre-image \(file.oldBlob) is the post-image of \(producer.slug)"
            + (carried ? ", which \(branch.name) carries." : ": it must come first."))
        prerequisite(producer.slug, why: "\(file.path): the pre-image is its post-image")
      } else {
        notes.append(
          "\(file.path): pre-image \(file.oldBlob) is produced by no known patch: unknown upstream prerequisites.")
      }
    }
    let kernelFiles = ((set.directory as NSString).deletingLastPathComponent as NSString)
      .appendingPathComponent("fixtures/kernel-files")
    // Context and removed lines only another patch adds: that patch must come first (an
    // unmerged one cannot be where a merged tree got them: an unknown patch added them).
    var lineNotes: [String] = []
    for q in others {
      let lines = linesOnlyAddedBy(q, neededBy: patch, kernelFiles: kernelFiles)
      guard let first = lines.first else { continue }
      if case .notMerged? = PatchCatalog.patch(q.slug)?.status {
        lineNotes.append(
          "context or removed lines (\(lines.count)) that among the known patches only the unmerged \(q.slug) adds, e.g. \"\(first)\": an unknown upstream patch adding the same lines must come first."
        )
      } else if !prerequisites.contains(where: { $0.slug == q.slug }) {
        let carried = carries(q.slug)
        lineNotes.append(
          "context or removed lines that only \(q.slug) adds (\(lines.count)), e.g. \"\(first)\""
            + (carried ? ": \(branch.name) carries it." : ": it must come first."))
        prerequisite(q.slug, why: "the hunks' context or removed lines include lines only it adds")
      }
    }
    // A pre-image holding every line another patch adds says what the patch was written on:
    // not a prerequisite by itself (a backport may be adapted, as 7.1.y's native order was),
    // but not a conflict either where the branch carries it.
    var writtenOn: [String] = []
    for q in others where !prerequisites.contains(where: { $0.slug == q.slug }) {
      guard let (path, count) = changesContained(q, inPreImageOf: patch, kernelFiles: kernelFiles) else { continue }
      if case .notMerged? = PatchCatalog.patch(q.slug)?.status {
        notes.append(
          "\(path): the pre-image holds every line the unmerged \(q.slug) adds there (\(count)): an unknown upstream patch adding the same lines came first."
        )
      } else {
        notes.append(
          "\(path): the pre-image holds every line \(q.slug) adds there (\(count)): the patch was written on a tree carrying \(q.slug); needed only where a hunk touches those lines, and no hunk's context or removed lines need them."
        )
        writtenOn.append(q.slug)
      }
    }
    notes += lineNotes

    // Conflicts: other patches on the branch changing the same functions.
    var conflicts: [ReviewReport.Conflict] = []
    if entry?.state == .before || entry == nil {
      let touched = functions(patch)
      for q in others
      where carries(q.slug) && !prerequisites.contains(where: { $0.slug == q.slug }) && !writtenOn.contains(q.slug) {
        let shared = touched.intersection(functions(q))
        guard !shared.isEmpty else { continue }
        let fits = hunkFits(patch, against: q, kernelFiles: kernelFiles)
        let clean = !fits.isEmpty && fits.allSatisfy { if case .applies = $0.fit { true } else { false } }
        var lines = describe(fits, q: q)
        if !fits.isEmpty {
          lines.append(
            "(\(branch.name)'s own file is not in fixtures/kernel-files; \(q.slug)'s upstream post-image stands in for it.)"
          )
        }
        conflicts.append(ReviewReport.Conflict(slug: q.slug, functions: shared.sorted(), applies: clean, notes: lines))
      }
    }

    // The series.
    var series: [String] = []
    var neededSiblings: [String] = []
    if let s = catalog?.series {
      series.append("\(s.position) of \"\(s.title)\".")
      let unmerged: Bool
      if case .notMerged? = catalog?.status { unmerged = true } else { unmerged = false }
      for sibling in s.siblings {
        let state = sibling.commit.map { "merged as \($0.prefix(12))" } ?? (unmerged ? "not merged" : "commit unknown")
        series.append(
          "\(sibling.position) \"\(sibling.subject)\": \(state); \(sibling.role) (\(sibling.needed ? "needed" : "not needed") for the behaviour modelled here)."
        )
      }
      neededSiblings = s.siblings.filter(\.needed).map(\.position)
      if unmerged {
        series.append(
          "partial-series risk: the series is not merged; this patch needs what its siblings add and cannot go alone.")
      } else if neededSiblings.isEmpty {
        series.append(
          "partial-series risk: low; no sibling is needed for the behaviour modelled here (see each above).")
      } else {
        series.append(
          "partial-series risk: alone, \(s.position) changes no modelled behaviour; it needs \(neededSiblings.joined(separator: ", ")). Backport them with it, or check that \(branch.name) has them."
        )
      }
      // A needed sibling is a prerequisite where the branch has not got this patch's code yet;
      // the package knows no branch carries a sibling without the patch itself.
      if entry?.state == .before {
        for sibling in s.siblings where sibling.needed {
          prerequisites.append(
            ReviewReport.Prerequisite(
              slug: nil, commit: sibling.commit, subject: sibling.subject,
              status: sibling.commit == nil ? (unmerged ? "not merged" : "commit unknown") : nil,
              why: "series sibling \(sibling.position): \(sibling.role)", carried: false))
        }
      }
    }

    // Behaviour.
    let mine = recognised == nil ? [] : scenarios.filter { $0.patch == slug }
    var behaviour: [ReviewReport.Behaviour] = []
    var notRun: String?
    var composeError: String?
    if let entry, entry.state == .before, PatchModels.model(slug) != nil {
      // A scanned branch may carry a stack the model cannot compose.
      switch Result(catching: { () throws -> (KernelTree, KernelTree) in
        let base = try branch.compose()
        return (base, try KernelTree(base: branch.name, stack: base.stack + [slug]))
      }) {
      case .failure(let error):
        composeError = "\(error)"
        notRun = "the model cannot compose \(branch.name) + \(slug): \(error)."
      case .success(let (base, patched)):
        behaviour = try mine.map { try Self.behaviour($0, base: base, patched: patched) }
      }
    } else {
      notRun =
        switch entry?.state {
        case .after?, .adapted?: "it is already applied on \(branch.name)"
        case .partial?, .rewritten?, .unknown?: "\(branch.name)'s code shows it \(entry!.state)"
        case .absent?: "the code it changes is absent from \(branch.name)"
        default: "the package has no model of it"
        }
    }

    // The proof.
    var proof: [String] = []
    if let model = PatchModels.model(slug), recognised != nil {
      proof.append("swift test --filter \(String(describing: model))Tests")
    }
    if !mine.isEmpty {
      proof.append(
        "swift run bo-repro run "
          + mine.map { "fixtures/scenarios/" + ($0.file as NSString).lastPathComponent }.joined(separator: " "))
    }

    // The verdict.
    let verdict: ReviewReport.Verdict
    let reason: String
    let missing = prerequisites.filter { !$0.carried }
    let blocking = conflicts.filter { !$0.applies }
    switch entry?.state {
    case .absent?:
      verdict = .notNeeded
      reason = "the code this patch changes does not exist on \(branch.name)."
    case .after?, .adapted?:
      verdict = .alreadyApplied
      reason = "\(branch.name) carries it\(entry?.state == .adapted ? " (adapted: in other words than upstream)" : "")."
    case .partial?, .rewritten?, .unknown?:
      verdict = .unknown
      reason = "\(branch.name)'s code shows the patch \(entry!.state): \(entry!.evidence)."
    case .before?:
      if !missing.isEmpty || !blocking.isEmpty || composeError != nil {
        verdict = .blocked
        var why: [String] = []
        if !missing.isEmpty { why.append("it needs \(missing.count) patch(es) \(branch.name) lacks") }
        if !blocking.isEmpty {
          why.append(
            "it does not apply over \(blocking.map(\.slug).joined(separator: ", ")), which \(branch.name) carries")
        }
        if missing.isEmpty && blocking.isEmpty, let composeError { why.append(composeError) }
        reason = "needed, but " + why.joined(separator: "; ") + "."
      } else {
        verdict = .apply
        reason =
          "needed: the code is on \(branch.name), the patch is not, and nothing it needs is missing"
          + (conflicts.isEmpty
            ? "." : " (its hunks still apply over \(conflicts.map(\.slug).joined(separator: ", "))).")
      }
    case nil:
      verdict = .unknown
      reason = "the package does not model this patch; only the text checks apply."
    }

    var verdict_ = verdict
    var reason_ = reason
    var notRun_ = notRun
    var behaviour_ = behaviour
    // Recognised, but only part of the upstream patch: no verdict of the full fix.
    if let match, match.coverage.carriesAny, !match.coverage.isComplete,
      entry?.state == .before || entry?.state == nil
    {
      let c = match.coverage
      verdict_ = .partial
      let carried = c.items.filter { $0.state != .missing }.count
      var why = ["it carries \(carried) of the \(c.items.count) hunks of \(slug)"]
      if !c.missingFiles.isEmpty { why.append("nothing of \(c.missingFiles.joined(separator: ", "))") }
      why.append("missing: " + c.missingHunks.joined(separator: ", "))
      why += c.buildBreaks
      reason_ =
        "partial: " + why.joined(separator: "; ")
        + ". No verdict of the full fix: backport the missing hunks, or say why they are not needed."
      behaviour_ = []
      notRun_ = "it is a partial backport; the scenarios model the full fix"
    }
    if let match, !match.coverage.carriesAny {
      verdict_ = .unknown
      reason_ =
        "the patch names \(match.patch.slug) (by \(match.detail)) but carries none of its changed lines; it is not that patch as the package knows it."
    }
    // Against a real tree.
    var treeCheck: TreeCheckReport?
    if let tree {
      let check = try TreeCheck.check(given, slug: recognised?.slug, source: tree, set: set, scan: treeScan)
      treeCheck = check
      if verdict_ == .apply || verdict_ == .blocked || verdict_ == .unknown && recognised == nil {
        switch check.outcome {
        case .conflicts:
          verdict_ = .blocked
          reason_ =
            "it does not apply to \(check.tree): "
            + (check.explanations.first ?? "a hunk's context is not in the tree")
        case .missingFile where entry?.state != .absent:
          verdict_ = .blocked
          reason_ = "\(check.tree) lacks a file it changes: " + (check.explanations.first ?? "")
        case .alreadyApplied:
          verdict_ = .alreadyApplied
          reason_ = "every hunk's post-image is already in \(check.tree)."
        default:
          break
        }
      }
    }

    var unverified: String?
    if case .unverified(let why)? = entry?.confidence { unverified = why }
    var upstreamStatus: String?
    switch catalog?.status {
    case .notMerged?: upstreamStatus = "not merged"
    case .mergedCommitUnknown(let release, _)?: upstreamStatus = "merged, upstream commit unknown; \(release)"
    default: upstreamStatus = nil
    }
    var report = ReviewReport(
      patch: slug, modelled: recognised != nil, subject: patch.subject, file: given.path,
      recognisedBy: match.flatMap { $0.basis != .fileName || $0.patch.slug != given.slug ? $0.detail : nil },
      upstreamCommit: catalog?.upstreamCommit ?? patch.upstreamCommit, upstreamStatus: upstreamStatus,
      fixes: patch.trailers("Fixes"), branch: branch.name, branchStatus: branch.status.description,
      state: entry?.state, stateEvidence: entry?.evidence, stateUnverified: unverified, preImageNotes: notes,
      prerequisites: prerequisites, conflicts: conflicts, series: series, neededSiblings: neededSiblings,
      behaviour: behaviour_, behaviourNotRun: notRun_, proof: proof, verdict: verdict_, reason: reason_)
    report.recognition = match
    report.mail = mail
    report.treeCheck = treeCheck
    report.earlierInSeries = earlierInSeries
    if let failed = mail?.failed {
      report.dependencies = assess(failed, slug: recognised?.slug, report: report, branch: branch, scan: treeScan)
    }
    return report
  }

  /// One scenario run on the branch's tree without and with the patch.
  static func behaviour(_ s: Scenario, base: KernelTree, patched: KernelTree) throws -> ReviewReport.Behaviour {
    let now = try ScenarioLibrary.run(s, on: base)
    let then = try ScenarioLibrary.run(s, on: patched)
    let name = (s.file as NSString).lastPathComponent
    let expected: Bool =
      switch s.kind {
      case .delta: now.match == .before && then.match == .after
      case .noChange: now.match == .both && then.match == .both
      }
    return ReviewReport.Behaviour(
      scenario: name, title: s.title, kind: s.kind, expected: expected, before: s.beforeHeadline,
      after: s.afterHeadline, observedWithout: RegressionMatrix.describe(now.match),
      observedWith: RegressionMatrix.describe(then.match))
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
            "\(name)@\(f.blob.prefix(12)) (\(q.slug)'s upstream post-image): hunk \(f.hunk.header)\(where_) is already present there (\"\(first)\"): drop it from the backport."
          )
        case .doesNotApply:
          failing.append("\(f.hunk.header)\(where_)")
        }
      }
      if !failing.isEmpty {
        out.append(
          "\(name)@\(these[0].blob.prefix(12)) (\(q.slug)'s upstream post-image): \(failing.count) hunk(s) do not apply: \(failing.joined(separator: ", "))."
        )
      }
      if !applies.isEmpty {
        out.append(
          "\(name)@\(these[0].blob.prefix(12)) (\(q.slug)'s upstream post-image): \(applies.count) hunk(s) apply: \(applies.joined(separator: ", "))."
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

extension ReviewReport {
  /// The note as a reviewer reads it: the patch and its upstream id, the verdict, then the
  /// code, the prerequisites and their "Possible dependencies:" list, the series, the
  /// behaviour change and the proof. A section is printed only with something in it, and no
  /// line refers to one that is not printed.
  public var text: String {
    var out = ["review: \(patch) (\"\(subject)\") onto \(branch) [\(branchStatus)]"]
    if let upstreamCommit {
      out.append("upstream: \(upstreamCommit.prefix(12)) (\"\(subject)\")")
    } else if let upstreamStatus {
      out.append("upstream: \(upstreamStatus)")
    }
    for f in fixes { out.append("Fixes: \(f)") }
    if let mail {
      let s = mail.subject
      var prefix = s.extras
      if let c = s.counter { prefix.append("\(c.number)/\(c.total)") }
      if s.revision > 1 { prefix.append("v\(s.revision)") }
      out.append(
        "mail: \(mail.source): \"\(mail.failed.map { "FAILED for \($0.branch): " } ?? "")\(s.subject)\""
          + (prefix.isEmpty ? "" : " [\(prefix.joined(separator: " "))]") + (s.isReply ? " (a reply)" : ""))
      for r in mail.upstream { out.append("  upstream reference: \(r.commit.prefix(12)) (\(r.form.rawValue))") }
      for c in mail.stableCc { out.append("  Cc: \(c.address)" + (c.note.map { " # \($0)" } ?? "")) }
      for n in mail.readingNotes { out.append("  (\(n))") }
    }
    if !earlierInSeries.isEmpty {
      out.append("(seen after \(earlierInSeries.joined(separator: ", ")), earlier in the series, taken as applied)")
    }
    if let recognisedBy { out.append("(\(file) recognised as \(patch) by \(recognisedBy))") }
    out.append("verdict: \(verdict.rawValue): \(reason)")
    out.append("")

    if let recognition, recognition.basis != .fileName || !recognition.coverage.isComplete {
      let c = recognition.coverage
      out.append("hunks of \(recognition.patch.slug) (by their changed lines, whitespace and context ignored):")
      for i in c.items {
        out.append(
          "  \(i.state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \((i.file as NSString).lastPathComponent) \(i.header)"
            + (i.function.map { " (\($0))" } ?? "")
            + (i.state == .carried ? "" : ": \(i.matched) of \(i.total) changed lines"))
      }
      if !c.missingFiles.isEmpty { out.append("  missing files: \(c.missingFiles.joined(separator: ", "))") }
      for b in c.buildBreaks { out.append("  \(b)") }
      if !c.extraFiles.isEmpty { out.append("  also changes: \(c.extraFiles.joined(separator: ", "))") }
      out.append("")
    }

    if let t = treeCheck {
      out.append("tree: \(t.tree): \(t.outcome.rawValue)")
      for h in t.hunks {
        out.append(
          "  \((h.file as NSString).lastPathComponent) \(h.header)\(h.function.map { " (\($0))" } ?? ""): \(h.summary)")
        out += h.treeLines.map { "    " + $0 }
      }
      out += t.explanations.map { "  " + $0 }
      out.append("")
    }

    if let failed = mail?.failed {
      out.append(
        "FAILED to apply to \(failed.branch)-stable"
          + (failed.commit.map { " (\($0.prefix(12)))" } ?? "") + "; its \"Possible dependencies:\":")
      if dependencies.isEmpty { out.append("  (the list is empty)") }
      for d in dependencies {
        out.append(
          "  \(d.commit.prefix(12)) (\"\(d.subject)\"): code \(d.code.rawValue), behaviour \(d.behaviour.rawValue): \(d.why)"
        )
      }
      out.append("")
    }

    out.append("code:")
    let unverified = stateUnverified.map { " (UNVERIFIED: \($0))" } ?? ""
    switch state {
    case .absent?:
      out.append("  absent: the code this patch changes does not exist on \(branch) (\(stateEvidence ?? "")).")
      out.append("  nothing to backport.")
    case .after?, .adapted?:
      out.append(
        "  already applied on \(branch)\(state == .adapted ? " (adapted)" : ""): \(stateEvidence ?? "")\(unverified).")
    case .partial?, .rewritten?, .unknown?:
      out.append("  \(state!) on \(branch): \(stateEvidence ?? "")\(unverified).")
    case .before?:
      out.append("  present, patch not applied\(unverified): \(stateEvidence ?? "").")
    case nil:
      out.append(
        "  not a patch this package models (no catalog entry, model or scenarios): only the text checks below apply.")
    }

    out.append("")
    out.append("prerequisites (from the patch texts):")
    out += preImageNotes.map { "  " + $0 }
    for c in conflicts {
      out.append(
        "  conflict: \(c.slug), applied on \(branch), changes the same functions (by hunk context: \(c.functions.joined(separator: ", ")))"
          + (c.notes.isEmpty
            ? "; the patch may not apply as is."
            : c.applies
              ? "; every hunk still applies to its upstream post-image."
              : "; the patch will not apply as is to its upstream post-image."))
      out += c.notes.map { "    " + $0 }
    }
    let carried = prerequisites.filter(\.carried).compactMap(\.slug)
    if !carried.isEmpty {
      out.append("  already on \(branch): \(carried.joined(separator: ", ")).")
    }
    if !possibleDependencies.isEmpty {
      out.append("")
      out.append("Possible dependencies:")
      for d in possibleDependencies { out.append("  \(d.dependencyLine)") }
    }

    out.append("")
    out.append("series:")
    if series.isEmpty { out.append("  a single patch.") }
    out += series.map { "  " + $0 }

    out.append("")
    out.append(
      neededSiblings.isEmpty
        ? "behaviour on \(branch):"
        : "behaviour on \(branch), with the siblings it needs (\(neededSiblings.joined(separator: ", "))):")
    if let behaviourNotRun {
      out.append(
        behaviourNotRun.hasPrefix("the model") ? "  \(behaviourNotRun)" : "  nothing to run: \(behaviourNotRun).")
    } else {
      if conflicts.contains(where: { !$0.applies }) {
        out.append(
          "  (with the conflicts above, the composed tree runs the later patch's version of the shared code, so the outcome may not change)"
        )
      }
      for b in behaviour {
        switch b.kind {
        case .delta:
          out.append(
            "  \(b.expected ? "changes" : "CHECK  ") \(b.scenario): \(b.title): \(b.before) -> \(b.after)"
              + (b.expected ? "" : " (observed \(b.observedWithout) -> \(b.observedWith))"))
        case .noChange:
          out.append("  \(b.expected ? "same   " : "CHECK  ") \(b.scenario): \(b.title)")
        }
      }
    }

    out.append("")
    out.append("proof:")
    if proof.isEmpty { out.append("  none: no model or scenario covers this patch.") }
    out += proof.map { "  " + $0 }
    return out.joined(separator: "\n")
  }

  /// The note as JSON (schema 1, README.md "JSON output"): every key present, null where
  /// there is no value.
  public var json: JSONValue {
    [
      "schema": 1,
      "command": "review",
      "patch": .string(patch),
      "modelled": .bool(modelled),
      "subject": .string(subject),
      "file": .string(file),
      "recognisedBy": JSONValue(recognisedBy),
      "upstream": ["commit": JSONValue(upstreamCommit), "status": JSONValue(upstreamStatus)],
      "fixes": JSONValue(fixes),
      "branch": ["name": .string(branch), "status": .string(branchStatus)],
      "verdict": .string(verdict.rawValue),
      "reason": .string(reason),
      "code": [
        "state": JSONValue(state?.rawValue), "evidence": JSONValue(stateEvidence),
        "unverified": JSONValue(stateUnverified),
      ],
      "preImageNotes": JSONValue(preImageNotes),
      "prerequisites": .array(
        prerequisites.map {
          [
            "patch": JSONValue($0.slug), "commit": JSONValue($0.commit), "subject": .string($0.subject),
            "status": JSONValue($0.status), "why": .string($0.why), "carried": .bool($0.carried),
          ]
        }),
      "possibleDependencies": JSONValue(possibleDependencies.map(\.dependencyLine)),
      "conflicts": .array(
        conflicts.map {
          [
            "patch": .string($0.slug), "functions": JSONValue($0.functions), "applies": .bool($0.applies),
            "notes": JSONValue($0.notes),
          ]
        }),
      "series": JSONValue(series),
      "neededSiblings": JSONValue(neededSiblings),
      "behaviour": .array(
        behaviour.map {
          [
            "scenario": .string($0.scenario), "title": .string($0.title), "kind": .string($0.kind.rawValue),
            "expected": .bool($0.expected), "before": .string($0.before), "after": .string($0.after),
            "observedWithout": .string($0.observedWithout), "observedWith": .string($0.observedWith),
          ]
        }),
      "behaviourNotRun": JSONValue(behaviourNotRun),
      "proof": JSONValue(proof),
      "recognition": recognition.map(Self.json) ?? .null,
      "mail": mail.map(Self.json) ?? .null,
      "tree": treeCheck.map(Self.json) ?? .null,
      "dependencies": .array(
        dependencies.map {
          [
            "commit": .string($0.commit), "subject": .string($0.subject), "patch": JSONValue($0.patch),
            "code": .string($0.code.rawValue), "behaviour": .string($0.behaviour.rawValue), "why": .string($0.why),
          ]
        }),
      "earlierInSeries": JSONValue(earlierInSeries),
    ]
  }

  static func json(_ r: PatchRecognition) -> JSONValue {
    let c = r.coverage
    return [
      "patch": .string(r.patch.slug), "basis": .string(r.basis.rawValue), "detail": .string(r.detail),
      "complete": .bool(c.isComplete),
      "hunks": .array(
        c.items.map {
          [
            "file": .string($0.file), "header": .string($0.header), "function": JSONValue($0.function),
            "state": .string($0.state.rawValue), "matched": .int($0.matched),
            "total": .int($0.total),
          ]
        }),
      "missingFiles": JSONValue(c.missingFiles), "missingHunks": JSONValue(c.missingHunks),
      "buildBreaks": JSONValue(c.buildBreaks), "extraFiles": JSONValue(c.extraFiles),
    ]
  }

  static func json(_ m: PatchMail) -> JSONValue {
    let s = m.subject
    let failed: JSONValue =
      m.failed.map { f in
        [
          "branch": .string(f.branch), "commit": JSONValue(f.commit), "quotedSubject": .string(f.quotedSubject),
          "shape": .string(f.shape), "commands": JSONValue(f.commands),
          "possibleDependencies": .array(
            f.possibleDependencies.map { ["commit": .string($0.commit), "subject": .string($0.subject)] }),
        ]
      } ?? .null
    return [
      "source": .string(m.source), "index": .int(m.index), "subject": .string(s.raw),
      "prefix": [
        "reply": .bool(s.isReply), "flags": JSONValue(s.flags), "extras": JSONValue(s.extras),
        "revision": .int(s.revision),
        "counter": s.counter.map { ["number": .int($0.number), "total": .int($0.total)] }
          ?? .null,
        "branches": JSONValue(s.branches),
      ],
      "author": .string(m.author), "messageID": JSONValue(m.messageID),
      "upstream": .array(m.upstream.map { ["commit": .string($0.commit), "form": .string($0.form.rawValue)] }),
      "stableCc": .array(m.stableCc.map { ["address": .string($0.address), "note": JSONValue($0.note)] }),
      "patchID": JSONValue(m.patchID), "failed": failed, "readingNotes": JSONValue(m.readingNotes),
    ]
  }

  static func json(_ t: TreeCheckReport) -> JSONValue {
    [
      "tree": .string(t.tree), "outcome": .string(t.outcome.rawValue),
      "hunks": .array(
        t.hunks.map {
          [
            "file": .string($0.file), "header": .string($0.header), "function": JSONValue($0.function),
            "summary": .string($0.summary), "treeLines": JSONValue($0.treeLines),
          ]
        }),
      "explanations": JSONValue(t.explanations), "missingForCode": JSONValue(t.missingForCode),
    ]
  }
}
