import Foundation
import KernelTrees
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
    let (set, branches, scenarios) = try Self.inputs.get()
    return try BackportReview.note(
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
        "1/3 \"drm/ttm: Don't spam the log on buffer object backing store allocation failure\": merged as 55fcf74cc233."
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
    #expect(
      text.contains(
        "drivers/gpu/drm/ttm/ttm_backup.c: pre-image 81df4cb5606b is the post-image of gfp-retry-mayfail-readback: it must come first."
      ))
    #expect(text.contains("not on 7.1.y: drop-restore-after-restore."))
    #expect(
      text.contains(
        "conflict: native-order-backup, applied on 7.1.y, changes the same functions (by hunk context: ttm_backup_copy_page, ttm_pool_backup"
      ))
    #expect(text.contains("conflict: null-handle-pages-backup, applied on 7.1.y, changes the same functions"))
    #expect(!text.contains("only native-order-backup adds"), "a generic line is not a prerequisite")
    #expect(text.contains("partial-series risk: the series is not merged"))
    #expect(text.contains("1/2 \"mm/shmem: add shmem_insert_folio()\": not merged."))
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
}
