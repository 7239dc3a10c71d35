import Foundation
import Harness
import PatchMail
import PatchText
import Patches

/// A mailbox reviewed in order (`bo-repro review series.mbox --onto 5.15`): each patch sees
/// the ones before it as applied, on the branch data and, with a tree, in the tree's files.
/// A message that cannot be read is kept in its place and the rest reviewed.
public struct SeriesReview: Sendable {
  public enum Item: Sendable {
    case reviewed(ReviewReport)
    /// A message that could not be read as a patch mail, with the one-line reason.
    case unreadable(index: Int, source: String, error: String)
    /// A message with no patch (a cover letter, a reply without one).
    case skipped(index: Int, source: String, why: String)
  }
  public let source: String
  public let items: [Item]

  public var reports: [ReviewReport] {
    items.compactMap { if case .reviewed(let r) = $0 { r } else { nil } }
  }
}

/// Where a series is reviewed: a branch of the branch data, or a real tree.
public enum ReviewTarget {
  /// The branch data's branch (`--onto`), or, when `nil`, the one each mail names
  /// (`[PATCH 5.15 ...]`, a FAILED mail's branch), looked up by `resolve`.
  case branch(StableBranch?, resolve: (String) -> StableBranch?)
  /// A real tree (`--tree`, `--git --ref`), scanned for every patch's state; `name` is the
  /// branch name reports use.
  case tree(any KernelSource, name: String)
}

extension BackportReview {
  /// Reviews every message of `mailbox` in order. A patch whose review says `apply` is taken
  /// as applied for those after it: on the branch data its state becomes `after`; in a tree,
  /// its post-image replaces the files it changes.
  public static func review(
    mailbox: PatchMailbox, target: ReviewTarget, set: PatchSet, scenarios: [Scenario]
  ) throws -> SeriesReview {
    var items: [SeriesReview.Item] = []
    var applied: [String] = []
    var overlay: OverlaySource?
    var scanner: TreeScanner?
    if case .tree(let source, _) = target {
      overlay = OverlaySource(base: source)
      scanner = TreeScanner(patches: PatchListing.ordered(set))
    }
    for item in mailbox.items {
      let mail: PatchMail
      switch item {
      case .unreadable(let index, let error):
        items.append(.unreadable(index: index, source: error.source, error: error.message))
        continue
      case .mail(let m):
        mail = m
      }
      guard let patch = mail.patch else {
        items.append(
          .skipped(
            index: mail.index, source: mail.source,
            why: mail.failed != nil
              ? "a FAILED mail whose original commit could not be read"
              : "no patch in the message (a cover letter or a reply)"))
        continue
      }
      var branch: StableBranch
      var scan: TreeScan?
      switch target {
      case .branch(let given, let resolve):
        let named = mail.failed?.branch ?? mail.subject.branches.first
        guard let b = given ?? named.flatMap(resolve) else {
          items.append(
            .unreadable(
              index: mail.index, source: mail.source,
              error: named.map { "the mail names branch \($0), which the branch data does not have: give --onto" }
                ?? "the mail names no branch: give --onto BRANCH"))
          continue
        }
        branch = b
        if !applied.isEmpty { branch = branch.applying(applied, note: "applied earlier in this series") }
      case .tree(_, let name):
        let s = try scanner!.scan(overlay!)
        scan = s
        branch = StableBranch(name: name, scan: s)
      }
      let report = try review(
        patch: patch, onto: branch, set: set, scenarios: scenarios, mail: mail, tree: overlay, treeScan: scan,
        byFileName: false, earlierInSeries: applied)
      items.append(.reviewed(report))
      if report.verdict == .apply {
        if report.modelled { applied.append(report.patch) }
        if let results = report.treeCheck?.results { overlay?.overrides.merge(results) { $1 } }
      }
    }
    return SeriesReview(source: mailbox.source, items: items)
  }
}

extension StableBranch {
  /// The branch with `slugs` applied (state `after`), for a series' later patches.
  public func applying(_ slugs: [String], note: String) -> StableBranch {
    var out = StableBranch(
      name: name, status: status,
      patches: patches.map { p in
        slugs.contains(p.patch) ? BranchPatch(patch: p.patch, state: .after, evidence: note, confidence: .verified) : p
      }, recorded: recorded)
    out.recorded = recorded
    return out
  }
}
