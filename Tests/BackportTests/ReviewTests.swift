import Foundation
import Harness
import JSONText
import KernelTrees
import PackageTestSupport
import PatchText
import Patches
import Testing

@testable import Backport

/// The backport review aid.
@Suite("Backport review")
struct ReviewTests {
  /// The inputs every note reads, loaded once.
  static let inputs = Result {
    (
      try PatchSet(directory: patchesDirectory), try StableBranchSet(contentsOf: branchesFile),
      try ScenarioLibrary.load(directory: scenariosDirectory)
    )
  }

  func note(_ slug: String, onto branch: String) throws -> String {
    try report(slug, onto: branch).text
  }

  func report(_ slug: String, onto branch: String) throws -> ReviewReport {
    let (set, branches, scenarios) = try Self.inputs.get()
    return try BackportReview.review(
      patch: try #require(set.patch(slug)), onto: try #require(branches.branch(branch)), set: set,
      scenarios: scenarios)
  }

  static let pairs: [(String, String)] = PatchCatalog.all.flatMap { p in
    ((try? StableBranchSet(contentsOf: branchesFile).branches) ?? []).map { (p.slug, $0.name) }
  }

  @Test("review works for every patch onto every branch", arguments: pairs)
  func everyPair(_ slug: String, _ branch: String) throws {
    let text = try note(slug, onto: branch)
    #expect(text.hasPrefix("review: \(slug) "))
    #expect(text.contains("\nproof:\n  swift test --filter "))
  }

  /// The AUTOSEL question: the gfp fix onto 6.18.y. Its pre-images are v7.0 texts no modelled
  /// patch produces, the series siblings are named, and the delta scenarios change outcome.
  @Test("the gfp fix onto 6.18.y")
  func gfpOnto618() throws {
    let text = try note("gfp-retry-mayfail-readback", onto: "6.18.y")
    #expect(text.contains("present, patch not applied (UNVERIFIED: "))
    #expect(
      text.contains(
        "drivers/gpu/drm/ttm/ttm_backup.c: pre-image 6bd4c123d94c is produced by no known patch: unknown upstream prerequisites."
      ))
    #expect(
      text.contains(
        "1/3 \"drm/ttm: Don't spam the log on buffer object backing store allocation failure\": merged as 55fcf74cc233; adds __GFP_NOWARN"
      ))
    #expect(text.contains("\n  changes "))
    #expect(!text.contains("CHECK"))
    #expect(text.contains("swift test --filter GFPRetryMayfailReadbackTests"))
  }

  /// The zero-copy patch was written on "Drop tt->restore", which 7.1.y lacks, and 7.1.y
  /// carries native order and the NULL/handle fix, which rewrote the same function.
  @Test("zero-copy onto 7.1.y: missing prerequisite, conflicts, partial series")
  func zeroCopyOnto71() throws {
    let text = try note("zero-copy-insert-folio", onto: "7.1.y")
    #expect(
      text.contains(
        "drivers/gpu/drm/ttm/ttm_pool.c: pre-image d380a3c7fe40 is the post-image of drop-restore-after-restore: it must come first."
      ))
    // 7.1.y carries the gfp fix: its post-image is a pre-image here, but no dependency.
    #expect(
      text.contains(
        "drivers/gpu/drm/ttm/ttm_backup.c: pre-image 81df4cb5606b is the post-image of gfp-retry-mayfail-readback, which 7.1.y carries."
      ))
    #expect(!text.contains("gfp-retry-mayfail-readback: it must come first"))
    #expect(text.contains("\n  already on 7.1.y: gfp-retry-mayfail-readback, shmem-backup-v14.\n"))
    #expect(
      text.contains(
        "\nPossible dependencies:\n  (mainline commit unknown) (\"drm/ttm: Drop tt->restore after successful restore\") [stable 7.2.5 (a46ab76b6cf5)]\n  (not merged) (\"mm/shmem: add shmem_insert_folio()\")\n"
      ))
    #expect(try report("zero-copy-insert-folio", onto: "7.1.y").verdict == .blocked)
    #expect(
      text.contains(
        "conflict: native-order-backup, applied on 7.1.y, changes the same functions (by hunk context: ttm_backup_copy_page, ttm_pool_backup"
      ))
    #expect(text.contains("conflict: null-handle-pages-backup, applied on 7.1.y, changes the same functions"))
    #expect(text.contains("is already present there"))
    #expect(!text.contains("only native-order-backup adds"), "a generic line is not a prerequisite")
    #expect(text.contains("partial-series risk: the series is not merged"))
    #expect(text.contains("1/2 \"mm/shmem: add shmem_insert_folio()\": not merged; "))
  }

  /// Native order's pre-image holds lines that among the known patches only the unmerged
  /// zero-copy patch adds: that cannot be where 7.1.y got them, so the note calls it an
  /// unknown prerequisite instead of demanding zero-copy; and a patch already applied has no
  /// conflicts to report.
  @Test("no false prerequisite from an unmerged patch, no conflicts for an applied one")
  func noFalseAnswers() throws {
    let onto70 = try note("native-order-backup", onto: "7.0.y")
    #expect(onto70.contains("among the known patches only the unmerged zero-copy-insert-folio adds"))
    #expect(!onto70.contains("not on 7.0.y: gfp-retry-mayfail-readback, zero-copy"))
    let onto71 = try note("native-order-backup", onto: "7.1.y")
    #expect(onto71.contains("already applied on 7.1.y"))
    #expect(!onto71.contains("conflict:"))
  }

  @Test("a patch already applied, and one whose code is absent")
  func appliedAndAbsent() throws {
    #expect(try note("madvise-list-move", onto: "5.10.y").contains("already applied on 5.10.y"))
    let absent = try note("gfp-retry-mayfail-readback", onto: "6.12.y")
    #expect(absent.contains("absent: the code this patch changes does not exist on 6.12.y"))
    #expect(absent.contains("nothing to run"))
  }

  /// Issue 7: the zero-copy patch carries the NULL/handle guard in the purge loop, so on a
  /// branch with the NULL/handle fix that hunk is already there; the other hunks still apply
  /// to the fix's post-image.
  @Test("zero-copy onto 6.18.y: the purge-loop guard is already present")
  func zeroCopyGuardAlreadyPresent() throws {
    let text = try note("zero-copy-insert-folio", onto: "6.18.y")
    #expect(
      text.contains(
        "ttm_pool.c@ff043420d517 (null-handle-pages-backup's upstream post-image): hunk @@ -1070,7 +1069,8 @@ (ttm_pool_backup) is already present there (\"if (unlikely(!page ||\"): drop it from the backport."
      ))
    #expect(text.contains("(null-handle-pages-backup's upstream post-image): 3 hunk(s) apply: "))
    #expect(text.contains("(6.18.y's own file is not in fixtures/kernel-files; "))
  }

  /// Native order's pre-image holds every line the NULL/handle fix and "Drop tt->restore"
  /// add: it was written on both. That makes neither a prerequisite (7.1.y carries native
  /// order without "Drop tt->restore"), but the NULL/handle fix on 6.18.y is not a conflict
  /// either; the gfp fix, whose lines a hunk's context holds, is the one missing.
  @Test("native order onto 6.18.y: written on the NULL/handle fix, not in conflict with it")
  func nativeOnto618() throws {
    let text = try note("native-order-backup", onto: "6.18.y")
    #expect(
      text.contains(
        "drivers/gpu/drm/ttm/ttm_pool.c: the pre-image holds every line null-handle-pages-backup adds there (10): the patch was written on a tree carrying null-handle-pages-backup; needed only where a hunk touches those lines, and no hunk's context or removed lines need them."
      ))
    #expect(text.contains("\nPossible dependencies:\n  c6135f67aa37 (\"drm/ttm: Avoid invoking the OOM killer"))
    #expect(!text.contains("conflict:"))
    // Drop tt->restore onto 6.18.y: its pre-image carries the gfp fix, which its hunks do not
    // touch, so the gfp fix is not demanded.
    let dropRestore = try note("drop-restore-after-restore", onto: "6.18.y")
    #expect(!dropRestore.contains("Possible dependencies:"))
  }

  /// Zero-copy and native order rewrite the same loop: the model composes no tree with both,
  /// and the note says so instead of running one of them.
  @Test("zero-copy onto mainline: the model refuses to compose it with native order")
  func zeroCopyOntoMainline() throws {
    let text = try note("zero-copy-insert-folio", onto: "mainline")
    #expect(
      text.contains(
        "the model cannot compose mainline + zero-copy-insert-folio: 'native-order-backup' and 'zero-copy-insert-folio' rewrite the same code in different ways"
      ))
    #expect(text.contains("2 hunk(s) do not apply"))
  }

  /// 2/8 only adds ttm_backup.c: the behaviour is the series', and the note names the
  /// siblings it needs.
  @Test("v14 2/8 alone changes nothing: the note names the siblings it needs")
  func v14Siblings() throws {
    let text = try note("shmem-backup-v14", onto: "5.10.y")
    #expect(
      text.contains("partial-series risk: alone, 2/8 changes no modelled behaviour; it needs 3/8, 5/8, 6/8, 7/8."))
    #expect(text.contains("behaviour on 5.10.y, with the siblings it needs (3/8, 5/8, 6/8, 7/8):"))
    let gfp = try note("gfp-retry-mayfail-readback", onto: "6.18.y")
    #expect(gfp.contains("partial-series risk: low; no sibling is needed for the behaviour modelled here"))
  }

  /// A patch file outside patches/ is recognised by its upstream commit, then by its
  /// patch-id; an unknown one gets the text checks only, and no empty proof command.
  @Test("a file outside patches/: recognised by its commit or patch-id, or reviewed as unknown")
  func fileOutsidePatches() throws {
    let (set, branches, scenarios) = try Self.inputs.get()
    let branch = try #require(branches.branch("6.18.y"))
    let copy = try PatchFile(parsing: try patchText("gfp-retry-mayfail-readback"), path: "/tmp/x.patch")
    let recognised = try BackportReview.note(patch: copy, onto: branch, set: set, scenarios: scenarios)
    #expect(recognised.hasPrefix("review: gfp-retry-mayfail-readback "))
    #expect(
      recognised.contains("(/tmp/x.patch recognised as gfp-retry-mayfail-readback by commit c6135f67aa37 upstream.)"))
    var renamed = copy
    renamed.commit = nil
    renamed.files = renamed.files.map { f in
      var f = f
      f.newBlob = "0123456789ab"
      return f
    }
    let byID = try BackportReview.note(patch: renamed, onto: branch, set: set, scenarios: scenarios)
    #expect(byID.contains("recognised as gfp-retry-mayfail-readback by git patch-id --stable 89c3b41e99b1"))
    #expect(recognised.contains("  2/3 of \"gfp_retry_mayfail behaviour\"."))
    #expect(recognised.contains("swift test --filter GFPRetryMayfailReadbackTests"))
    let other = try patchText("madvise-list-move")
      .replacingOccurrences(
        of: "From 9fc33eaaa979d112d10fea729edcd2a2e21aa912", with: "From " + String(repeating: "0", count: 40)
      )
      .replacingOccurrences(of: "Fix shrinker list corruption by madvise IOCTL", with: "something else")
      .replacingOccurrences(of: "madv_list", with: "purge_list")
    let unknown = try PatchFile(parsing: other, path: "/tmp/y.patch")
    let text = try BackportReview.note(patch: unknown, onto: branch, set: set, scenarios: scenarios)
    #expect(text.contains("not a patch this package models"))
    #expect(text.contains("\nproof:\n  none: no model or scenario covers this patch."))
    #expect(!text.contains("bo-repro run \n") && !text.hasSuffix("bo-repro run "))
  }

  /// The verdict a script reads from the exit status: one case of each, and the note never
  /// names a section it does not print.
  @Test(
    "the verdict: apply, not needed, already applied, blocked",
    arguments: [
      ("gfp-retry-mayfail-readback", "6.18.y", ReviewReport.Verdict.apply),
      ("gfp-retry-mayfail-readback", "6.12.y", .notNeeded),
      ("madvise-list-move", "5.10.y", .alreadyApplied),
      ("native-order-backup", "6.18.y", .blocked),
      ("zero-copy-insert-folio", "mainline", .blocked),
      ("shmem-backup-v14", "6.12.y", .blocked),
    ])
  func verdicts(_ slug: String, _ branch: String, _ verdict: ReviewReport.Verdict) throws {
    let r = try report(slug, onto: branch)
    #expect(r.verdict == verdict)
    #expect(r.text.contains("\nverdict: \(verdict.rawValue): "))
    #expect(r.text.contains("\nPossible dependencies:\n") == !r.possibleDependencies.isEmpty)
    #expect(!r.text.contains("see the context check"))
    // A dependency is never something the branch carries.
    let (_, branches, _) = try Self.inputs.get()
    let b = try #require(branches.branch(branch))
    #expect(r.possibleDependencies.allSatisfy { $0.slug.map { b.patch($0)?.state != .after } ?? true })
  }

  /// The upstream commit and Fixes: tag head the note, as a stable reviewer quotes them.
  @Test("the note names the upstream commit and the Fixes: tag")
  func upstreamAndFixes() throws {
    let text = try note("madvise-list-move", onto: "5.15.y")
    #expect(
      text.contains("\nupstream: 9fc33eaaa979 (\"drm/panfrost: Fix shrinker list corruption by madvise IOCTL\")\n"))
    #expect(text.contains("\nFixes: 013b65101315 (\"drm/panfrost: Add madvise and shrinker support\")\n"))
    #expect(try note("zero-copy-insert-folio", onto: "6.18.y").contains("\nupstream: not merged\n"))
  }

  /// The JSON contract: schema 1, every key present (null where there is no value).
  @Test("--format json: every key present, null where there is no value")
  func json() throws {
    let value = try report("gfp-retry-mayfail-readback", onto: "6.12.y").json
    let root = try #require(
      try JSONSerialization.jsonObject(with: Data(value.serialized().utf8)) as? [String: Any])
    #expect(root["schema"] as? Int == 1 && root["command"] as? String == "review")
    #expect(root["verdict"] as? String == "not-needed")
    for key in [
      "patch", "modelled", "subject", "file", "recognisedBy", "upstream", "fixes", "branch", "verdict", "reason",
      "code",
      "preImageNotes", "prerequisites", "possibleDependencies", "conflicts", "series", "neededSiblings", "behaviour",
      "behaviourNotRun", "proof",
    ] {
      #expect(root[key] != nil, "\(key)")
    }
    #expect(root["recognisedBy"] is NSNull)
    #expect((root["code"] as? [String: Any])?["unverified"] is NSNull)
    #expect((root["upstream"] as? [String: Any])?["commit"] as? String == "c6135f67aa37a4a744869f726d706bda091e6dfa")
  }

  /// Issue 18: a prerequisite the branch lacks blocks the patch and is listed as a possible
  /// dependency; the same branch differing only in carrying it lets the patch apply. Native
  /// order onto 6.18.y needs the gfp fix (a hunk's context holds its lines).
  @Test("an absent prerequisite blocks; the same branch carrying it does not")
  func absentPrerequisite() throws {
    let (set, branches, scenarios) = try Self.inputs.get()
    let patch = try #require(set.patch("native-order-backup"))
    let without = try #require(branches.branch("6.18.y"))
    #expect(without.patch("gfp-retry-mayfail-readback")?.state == .before)
    let with = StableBranch(
      name: without.name, status: without.status,
      patches: without.patches.map { p in
        p.patch != "gfp-retry-mayfail-readback"
          ? p : BranchPatch(patch: p.patch, state: .after, evidence: "test: carried", confidence: p.confidence)
      })

    let blocked = try BackportReview.review(patch: patch, onto: without, set: set, scenarios: scenarios)
    let gfpWithout = try #require(blocked.prerequisites.first { $0.slug == "gfp-retry-mayfail-readback" })
    #expect(!gfpWithout.carried)
    #expect(blocked.verdict == .blocked)
    #expect(blocked.reason == "needed, but it needs 1 patch(es) 6.18.y lacks.")
    #expect(blocked.text.contains("\nPossible dependencies:\n  c6135f67aa37 "))

    let applies = try BackportReview.review(patch: patch, onto: with, set: set, scenarios: scenarios)
    let gfpWith = try #require(applies.prerequisites.first { $0.slug == "gfp-retry-mayfail-readback" })
    #expect(gfpWith.carried)
    #expect(applies.verdict == .apply)
    #expect(!applies.text.contains("Possible dependencies:"))
  }
}
