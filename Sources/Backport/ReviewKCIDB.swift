import Foundation
import Harness
import JSONText
import PatchMail
import PatchText

extension KCIDB {
  /// Reviews as KCIDB (`review --format kcidb`): per review a checkout (the tree of `--tree`
  /// or `--git`, else the branch as ``stableCheckout(branch:at:)`` gives it), a build (the
  /// model's tree with the patch on it: FAIL when the patch is partial and leaves a changed
  /// signature's other side unchanged, since that tree would not build), and tests:
  /// - `bo_repro.<patch>.review`: the verdict: PASS for apply, SKIP for not needed or already
  ///   applied, FAIL for blocked or partial, ERROR for unknown; the reason as the comment;
  /// - `bo_repro.<patch>.apply`, with a tree: PASS when every hunk applies (offset, fuzz or
  ///   whitespace noted in `misc`) or is already applied, FAIL on a conflict or missing file;
  /// - `bo_repro.<patch>.<scenario>` per behaviour run: PASS when the scenario behaved as it
  ///   says (a delta changed, a no-change did not), FAIL otherwise.
  public static func document(reviews: [ReviewReport], tree: TreeOrigin?, at date: Date) -> Document {
    var doc = Document()
    for r in reviews {
      let checkout =
        tree.map { KCIDB.checkout(origin: $0, name: r.branch, at: date) } ?? stableCheckout(branch: r.branch, at: date)
      if !doc.checkouts.contains(where: { $0.id == checkout.id }) { doc.checkouts.append(checkout) }
      var build = KCIDB.build(checkout: checkout, stack: [r.patch], at: date)
      let breaks = r.recognition?.coverage.buildBreaks ?? []
      if r.verdict == .partial, !breaks.isEmpty {
        build.status = .fail
        build.comment = breaks.joined(separator: "; ")
      }
      if let i = doc.builds.firstIndex(where: { $0.id == build.id }) {
        build.id += "#\(i + 2)"
      }
      doc.builds.append(build)
      let verdictStatus: Status =
        switch r.verdict {
        case .apply: .pass
        case .notNeeded, .alreadyApplied: .skip
        case .blocked, .partial: .fail
        case .unknown: .error
        }
      var misc: [(String, JSONValue)] = [("verdict", .string(r.verdict.rawValue)), ("branch", .string(r.branch))]
      if let basis = r.recognition?.basis { misc.append(("recognisedBy", .string(basis.rawValue))) }
      if let commit = r.upstreamCommit { misc.append(("upstream", .string(commit))) }
      if let source = r.mail?.source { misc.append(("mail", .string(source))) }
      doc.tests.append(
        test(
          build: build, patch: r.patch, scenario: "review", status: verdictStatus, comment: r.reason,
          misc: JSONValue(misc), at: date))
      if let t = r.treeCheck {
        let ok = ![.conflicts, .missingFile].contains(t.outcome)
        doc.tests.append(
          test(
            build: build, patch: r.patch, scenario: "apply", status: ok ? .pass : .fail,
            comment: "\(t.outcome.rawValue) on \(t.tree)",
            misc: JSONValue([("outcome", .string(t.outcome.rawValue)), ("hunks", JSONValue(t.hunks.map(\.summary)))]),
            logExcerpt: t.explanations.isEmpty ? nil : t.explanations.joined(separator: "\n"), at: date))
      }
      for b in r.behaviour {
        doc.tests.append(
          test(
            build: build, patch: r.patch, scenario: b.scenario, status: b.expected ? .pass : .fail, comment: b.title,
            misc: JSONValue([
              ("kind", .string(b.kind.rawValue)), ("without", .string(b.observedWithout)),
              ("with", .string(b.observedWith)),
            ]), at: date))
      }
    }
    return doc
  }
}
