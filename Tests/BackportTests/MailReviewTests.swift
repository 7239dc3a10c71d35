import Foundation
import Harness
import PackageTestSupport
import PatchMail
import PatchText
import Testing

@testable import Backport

/// `review` given what the stable workflow sends: review and AUTOSEL mails, backports with
/// their own blob ids and line numbers, half a fix, FAILED mails, series; recognised by
/// content, checked against a real tree's files.
@Suite("Review of patch mails")
struct MailReviewTests {
  static let inputs = Result {
    (
      try PatchSet(directory: patchesDirectory), try StableBranchSet(contentsOf: branchesFile),
      try ScenarioLibrary.load(directory: scenariosDirectory)
    )
  }

  /// The real 5.15-stable backport of 9fc33eaaa979: its index line and hunk header as
  /// 5.15.56 has them (`panfrost_drv.c@1ffaef5ec5ff..de533f372764`, `@@ -422,8 +422,8 @@`).
  static func fiveFifteen(_ rest: String) -> String {
    rest.replacingOccurrences(of: "index 087e69b98d06..b1e6d238674f", with: "index 1ffaef5ec5ff..de533f372764")
      .replacingOccurrences(of: "@@ -433,8 +433,8 @@", with: "@@ -422,8 +422,8 @@")
  }

  static func mailbox(_ text: String, _ name: String = "mail") throws -> PatchMailbox {
    PatchMailbox(mbox: try Mbox(bytes: Array(text.utf8), source: name), source: name)
  }

  static func reviews(
    _ text: String, onto branch: String? = nil, tree: (any KernelSource)? = nil, treeName: String = "tree"
  ) throws -> [ReviewReport] {
    let (set, branches, scenarios) = try inputs.get()
    let target: ReviewTarget =
      tree.map { .tree($0, name: treeName) }
      ?? .branch(branch.flatMap { branches.branch($0) }, resolve: { branches.branch($0) })
    return try BackportReview.review(mailbox: try mailbox(text), target: target, set: set, scenarios: scenarios)
      .reports
  }

  static func recognise(_ mail: PatchMail, in set: PatchSet) throws -> PatchRecognition {
    let patch = try #require(mail.patch)
    return try #require(PatchRecogniser.recognise(patch, references: mail.upstream, patchID: mail.patchID, in: set))
  }

  /// A tree holding `files` (basename@blob from fixtures/kernel-files, at their kernel
  /// paths) and a Makefile for `version`.
  static func tree(_ version: String, _ files: [(String, String)]) throws -> TemporaryTree {
    let t = try TemporaryTree()
    try t.write("Makefile", TemporaryTree.makefile(version))
    for (path, blob) in files {
      try t.write(path, try requireKernelFile((path as NSString).lastPathComponent, blob))
    }
    return t
  }

  @Test("a real 5.15 backport mail: recognised by its upstream line, never in conflict with itself")
  func fiveFifteenBackport() throws {
    let mail = try StableMails.review(
      "madvise-list-move", branch: "5.15", subject: { $0.lowercased() }, edit: Self.fiveFifteen)
    let r = try #require(try Self.reviews(mail, onto: "5.15").first)
    #expect(r.patch == "madvise-list-move")
    #expect(r.recognition?.basis == .upstreamCommit)
    #expect(r.recognition?.coverage.isComplete == true)
    #expect(r.conflicts.isEmpty)
    // 5.15.y carries it (5.15.56): already applied, not blocked by itself.
    #expect(r.verdict == .alreadyApplied)
    #expect(r.mail?.subject.extras == ["5.15"])
    #expect(r.mail?.readingNotes.contains { $0.contains("preamble was cut") } == true)
    #expect(r.mail?.author.contains("Dmitry Osipenko") == true)
    // The same mail onto the branch its subject names, without --onto.
    #expect(try Self.reviews(mail).first?.branch == "5.15.y")
  }

  @Test("the basis, strongest first: upstream commit, patch-id, hunk content, subject")
  func recognitionOrder() throws {
    let (set, _, _) = try Self.inputs.get()
    let p = try StableMails.parts("madvise-list-move")
    // No upstream line, another subject, other blob ids and line numbers: the patch-id.
    let plain = """
      From 4444444444444444444444444444444444444444 Mon Sep 17 00:00:00 2001
      From: Someone <someone@example.org>
      Date: Tue, 19 Jul 2022 13:53:14 +0200
      Subject: [PATCH 5.15.y] panfrost: fix the madvise list

      A backport.
      \(Self.fiveFifteen(p.rest))

      """
    let byID = try #require(try Self.mailbox(plain).mails.first)
    let r1 = try Self.recognise(byID, in: set)
    #expect(r1.basis == .patchID)
    #expect(r1.patch.slug == "madvise-list-move")
    // A changed context line changes the patch-id: the changed lines still decide.
    let context = plain.replacingOccurrences(of: "\n \tif (args->retained)", with: "\n \tif (args->retained != 0)")
    #expect(context != plain)
    let byContent = try #require(try Self.mailbox(context).mails.first)
    #expect(byContent.patchID != byID.patchID)
    let r2 = try Self.recognise(byContent, in: set)
    #expect(r2.basis == .hunkContent)
    #expect(r2.coverage.isComplete)
    // The subject alone is a hint, never a recognition with a verdict.
    let other = plain.replacingOccurrences(of: "madv_list", with: "purge_list")
      .replacingOccurrences(of: "shrinker_list", with: "other_list")
      .replacingOccurrences(
        of: "Subject: [PATCH 5.15.y] panfrost: fix the madvise list", with: "Subject: [PATCH] \(p.subject.uppercased())"
      )
    let bySubject = try #require(try Self.mailbox(other).mails.first)
    let r3 = try Self.recognise(bySubject, in: set)
    #expect(r3.basis == .subject)
    let report = try #require(try Self.reviews(other, onto: "5.15").first)
    #expect(report.verdict == .unknown)
    #expect(!report.modelled)
  }

  @Test(
    "half of c6135f67: partial, the missing hunks named, and the build break",
    arguments: [
      (
        "drivers/gpu/drm/ttm/ttm_backup.c",
        "ttm_pool.c still calls ttm_backup_copy_page() with 4 arguments, but ttm_backup.c now defines it with 5: will not build"
      ),
      (
        "drivers/gpu/drm/ttm/ttm_pool.c",
        "ttm_pool.c calls ttm_backup_copy_page() with 5 arguments, but ttm_backup.c still defines it with 4: will not build"
      ),
    ])
  func halfOfTheFix(_ kept: String, _ breakLine: String) throws {
    let mail = try StableMails.autosel("gfp-retry-mayfail-readback", branch: "6.18")
    // Keep only the diff of one file.
    var sections = mail.components(separatedBy: "\ndiff --git ")
    let head = sections.removeFirst()
    let keptSection = try #require(sections.first { $0.hasPrefix("a/\(kept) ") })
    let trimmed = keptSection.components(separatedBy: "\n-- \n")[0]
    let half = head + "\ndiff --git " + trimmed + "\n-- \n2.53.0\n"
    let r = try #require(try Self.reviews(half, onto: "6.18").first)
    #expect(r.patch == "gfp-retry-mayfail-readback")
    #expect(r.recognition?.basis == .upstreamCommit)
    #expect(r.verdict == .partial)
    #expect(r.behaviour.isEmpty)
    #expect(r.recognition?.coverage.buildBreaks.contains(breakLine) == true)
    #expect(r.text.contains(breakLine))
    #expect(!r.text.contains("partial-series risk: low") || r.text.contains("verdict: partial"))
    #expect(r.recognition?.coverage.missingFiles.contains("include/drm/ttm/ttm_backup.h") == true)
    #expect(r.reason.contains("No verdict of the full fix"))
  }

  @Test("the whole AUTOSEL mail, quoted-printable with CRLF line ends, is the whole fix: apply on 6.18")
  func autoselEncoded() throws {
    let mail = StableMails.crlf(
      StableMails.withQuotedPrintableBody(try StableMails.autosel("gfp-retry-mayfail-readback", branch: "6.18")))
    let r = try #require(try Self.reviews(mail).first)
    #expect(r.branch == "6.18.y")
    #expect(r.patch == "gfp-retry-mayfail-readback")
    #expect(r.recognition?.coverage.isComplete == true)
    #expect(r.mail?.subject.isAutosel == true)
    #expect(r.verdict == .apply)
    #expect(r.behaviour.contains { $0.kind == .delta && $0.expected })
    // The email answer quotes the subject and the upstream id and cites each scenario.
    let email = r.email
    #expect(email.hasPrefix("> Subject: [PATCH AUTOSEL 6.18 04/12] drm/ttm: Avoid invoking the OOM killer"))
    #expect(email.contains("> commit c6135f67aa37a4a744869f726d706bda091e6dfa upstream."))
    #expect(email.contains("Please apply."))
    for b in r.behaviour { #expect(email.contains("[\(b.scenario)]")) }
  }

  @Test("against a tree: applies at 5.15.0, at an offset on the 5.19 parent, already applied at 5.15.56")
  func againstTrees() throws {
    let mail = try StableMails.review("madvise-list-move", branch: "5.15", edit: Self.fiveFifteen)
    let path = "drivers/gpu/drm/panfrost/panfrost_drv.c"
    let cases: [(String, String, TreeCheckReport.Outcome, ReviewReport.Verdict)] = [
      ("5.15.0", "1ffaef5ec5ff", .applies, .apply),
      ("5.19.0", "087e69b98d06", .appliesWithOffset, .apply),
      ("5.15.56", "de533f372764", .alreadyApplied, .alreadyApplied),
    ]
    for (version, blob, outcome, verdict) in cases {
      let t = try Self.tree(version, [(path, blob)])
      let r = try #require(try Self.reviews(mail, tree: try DirectorySource(root: t.root)).first)
      #expect(r.treeCheck?.outcome == outcome, "\(version)")
      #expect(r.verdict == verdict, "\(version)")
      if outcome == .appliesWithOffset {
        #expect(r.treeCheck?.hunks.first?.summary == "applies at +11 lines")
      }
    }
  }

  /// native-order-backup's ttm_backup.h context is c6135f67's post-image: on a tree without
  /// c6135f67 it fails there, and the FAILED mail's dependency list is judged from the code.
  @Test("a FAILED mail: which hunk fails and why, and which dependencies are really needed")
  func failedMail() throws {
    let mail = try StableMails.failed(
      "native-order-backup", branch: "7.0",
      dependencies: [
        ("c6135f67aa37", "drm/ttm: Avoid invoking the OOM killer when reading back swapped content"),
        ("0123456789ab", "drm/ttm: a patch the package does not model"),
      ])
    let t = try Self.tree(
      "7.0.0",
      [
        ("drivers/gpu/drm/ttm/ttm_backup.c", "6bd4c123d94c"), ("include/drm/ttm/ttm_backup.h", "c33cba111171"),
        ("drivers/gpu/drm/ttm/ttm_pool.c", "80d0ad41456a"), ("drivers/gpu/drm/ttm/ttm_pool_internal.h", "24c179fd69d1"),
      ])
    let r = try #require(try Self.reviews(mail, tree: try DirectorySource(root: t.root), treeName: "7.0.y").first)
    #expect(r.mail?.failed?.branch == "7.0")
    #expect(r.patch == "native-order-backup")
    #expect(r.recognition?.basis == .upstreamCommit || r.recognition?.basis == .patchID)
    // git cherry-pick stops; patch(1) would take the ttm_backup.h hunk with fuzz.
    #expect([.conflicts, .appliesWithFuzz].contains(r.treeCheck?.outcome))
    #expect(r.treeCheck?.hunks.contains { !$0.placement.appliesCleanly } == true)
    #expect(r.verdict == .blocked)
    let why = try #require(r.treeCheck?.explanations.first { $0.hasPrefix("ttm_backup.h here lacks") })
    #expect(why.contains("`additional_gfp`"))
    #expect(why.contains("gfp-retry-mayfail-readback (c6135f67aa37)"))
    let gfp = try #require(r.dependencies.first { $0.commit == "c6135f67aa37" })
    #expect(gfp.code == .needed)
    let unknown = try #require(r.dependencies.first { $0.commit == "0123456789ab" })
    #expect(unknown.code == .unknown && unknown.behaviour == .unknown)
  }

  /// A truncated message between two patches.
  static let broken = """
    From 5555555555555555555555555555555555555555 Mon Sep 17 00:00:00 2001
    From: Sasha Levin <sashal@kernel.org>
    Subject: [PATCH AUTOSEL 7.0 02/03] drm/ttm: truncated

    A patch cut off in the middle of its hunk.
    ---
    diff --git a/drivers/gpu/drm/ttm/ttm_pool.c b/drivers/gpu/drm/ttm/ttm_pool.c
    index 1111111..2222222 100644
    --- a/drivers/gpu/drm/ttm/ttm_pool.c
    +++ b/drivers/gpu/drm/ttm/ttm_pool.c
    @@ -1,5 +1,5 @@
     one

    """

  @Test("a series in a tree: the second copy sees the first applied; an unreadable message is marked")
  func seriesInATree() throws {
    let first = try StableMails.review("madvise-list-move", branch: "5.15", counter: "01/03", edit: Self.fiveFifteen)
    let again = try StableMails.review("madvise-list-move", branch: "5.15", counter: "03/03", edit: Self.fiveFifteen)
    let t = try Self.tree("5.15.0", [("drivers/gpu/drm/panfrost/panfrost_drv.c", "1ffaef5ec5ff")])
    let (set, _, scenarios) = try Self.inputs.get()
    let s = try BackportReview.review(
      mailbox: try Self.mailbox(first + Self.broken + again),
      target: .tree(try DirectorySource(root: t.root), name: "5.15.y"), set: set, scenarios: scenarios)
    #expect(s.items.count == 3)
    guard case .unreadable(let index, _, let error) = s.items[1] else {
      Issue.record("the truncated message should be unreadable")
      return
    }
    #expect(index == 2)
    #expect(error.contains("does not parse"))
    let reports = s.reports
    #expect(reports.map(\.patch) == ["madvise-list-move", "madvise-list-move"])
    #expect(reports[0].verdict == .apply && reports[0].treeCheck?.outcome == .applies)
    // The second sees the tree with the first applied: its post-image is there.
    #expect(reports[1].earlierInSeries == ["madvise-list-move"])
    #expect(reports[1].treeCheck?.outcome == .alreadyApplied)
    #expect(reports[1].verdict == .alreadyApplied)
  }

  @Test("a series on the branch data: gfp first, then native-order no longer lacks it")
  func seriesOnTheBranchData() throws {
    let gfp = try StableMails.autosel("gfp-retry-mayfail-readback", branch: "7.0", counter: "01/02")
    let native = try StableMails.autosel("native-order-backup", branch: "7.0", counter: "02/02")
    let together = try Self.reviews(gfp + native, onto: "7.0")
    let alone = try Self.reviews(native, onto: "7.0")
    #expect(together.map(\.patch) == ["gfp-retry-mayfail-readback", "native-order-backup"])
    #expect(together[0].verdict == .apply)
    let before = try #require(alone.first?.prerequisites.first { $0.slug == "gfp-retry-mayfail-readback" })
    let after = try #require(together[1].prerequisites.first { $0.slug == "gfp-retry-mayfail-readback" })
    #expect(!before.carried && after.carried)
    #expect(together[1].earlierInSeries == ["gfp-retry-mayfail-readback"])
  }
}
