import Foundation
import KernelTrees
import PatchMail
import PatchText
import Patches

extension BackportReview {
  /// A FAILED mail's "Possible dependencies", each judged: the patch itself; needed for the
  /// code (a conflicting hunk's context is a line it adds, or the patch texts chain on it);
  /// needed for the behaviour (the model of the patch requires it: without it the fixed
  /// behaviour cannot exist); carried already; not needed; or unknown (not a patch the
  /// package models, so it cannot say).
  static func assess(
    _ failed: PatchMail.Failed, slug: String?, report: ReviewReport, branch: StableBranch, scan: TreeScan?
  ) -> [ReviewReport.DependencyAssessment] {
    let requires = slug.map(requirements) ?? []
    return failed.possibleDependencies.map { dep in
      typealias Need = ReviewReport.DependencyAssessment.Need
      if let commit = failed.commit,
        PatchRecogniser.sameCommit(commit, dep.commit)
          || dep.commit.count >= 7
            && commit.hasPrefix(dep.commit)
      {
        return .init(
          commit: dep.commit, subject: dep.subject, patch: slug, code: .itself, behaviour: .itself,
          why: "the patch that failed to apply (the stable scripts list it first)")
      }
      let known = PatchCatalog.all.first { entry in
        entry.upstreamCommit.map { PatchRecogniser.sameCommit($0, dep.commit) || $0.hasPrefix(dep.commit) } == true
          || entry.subject.lowercased() == dep.subject.lowercased()
      }
      guard let q = known?.slug else {
        return .init(
          commit: dep.commit, subject: dep.subject, patch: nil, code: .unknown, behaviour: .unknown,
          why: "not a patch the package models: it cannot say whether the backport needs it")
      }
      if branch.patch(q)?.state.applied == true {
        return .init(
          commit: dep.commit, subject: dep.subject, patch: q, code: .carried, behaviour: .carried,
          why: "\(branch.name) carries it already (\(branch.patch(q)?.evidence ?? ""))")
      }
      var why: [String] = []
      let forCode =
        report.treeCheck?.missingForCode.contains(q) == true
        || report.prerequisites.contains { $0.slug == q && !$0.carried }
      if report.treeCheck?.missingForCode.contains(q) == true {
        why.append("a conflicting hunk's context is a line it adds")
      } else if let p = report.prerequisites.first(where: { $0.slug == q && !$0.carried }) {
        why.append(p.why)
      } else {
        why.append("no conflicting hunk needs its lines")
      }
      let forBehaviour = requires.contains(q)
      why.append(
        forBehaviour
          ? "the model of \(slug ?? "the patch") requires it for the fixed behaviour"
          : "the fixed behaviour does not depend on it in the model")
      return .init(
        commit: dep.commit, subject: dep.subject, patch: q, code: forCode ? .needed : .notNeeded,
        behaviour: forBehaviour ? .needed : .notNeeded, why: why.joined(separator: "; "))
    }
  }

  /// The patches the model of `slug` requires, transitively.
  static func requirements(_ slug: String) -> [String] {
    var out: [String] = []
    var queue = PatchModels.model(slug)?.requires ?? []
    while let q = queue.first {
      queue.removeFirst()
      guard !out.contains(q) else { continue }
      out.append(q)
      queue += PatchModels.model(q)?.requires ?? []
    }
    return out
  }
}
