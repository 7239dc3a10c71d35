import Foundation
import PackageTestSupport
import Testing

@testable import PatchText

/// How the zero-copy patch and the three later fixes to the same backup code relate, from
/// their texts alone: which pre-image each one needs and who produces it.
@Suite("Patch interactions in ttm_pool.c")
struct PatchInteractionTests {
  func ttmPool(_ slug: String) throws -> FileDiff {
    let patch = try PatchFile(contentsOf: "\(patchesDirectory)/\(slug).patch")
    return try #require(patch.files.first { $0.path == "drivers/gpu/drm/ttm/ttm_pool.c" })
  }

  /// The zero-copy patch was written on the tree "Drop tt->restore" produced: its pre-image is
  /// that patch's post-image, and it applies there.
  @Test("zero-copy's ttm_pool.c pre-image is Drop tt->restore's post-image")
  func zeroCopyBase() throws {
    let zeroCopy = try ttmPool("zero-copy-insert-folio")
    let dropRestore = try ttmPool("drop-restore-after-restore")
    #expect(zeroCopy.oldBlob == dropRestore.newBlob)
    let base = try #require(kernelFile("ttm_pool.c", zeroCopy.oldBlob))
    #expect(GitBlob.matches(zeroCopy.newBlob, try zeroCopy.apply(to: base)))
  }

  /// Native order and the NULL/handle fix rewrote the same function: the zero-copy patch no
  /// longer applies to a tree that carries either; a backport reviewer must rebase it.
  @Test("zero-copy does not apply once native order or the NULL/handle fix is in")
  func zeroCopyConflicts() throws {
    let zeroCopy = try ttmPool("zero-copy-insert-folio")
    for slug in ["native-order-backup", "null-handle-pages-backup"] {
      let post = try #require(kernelFile("ttm_pool.c", try ttmPool(slug).newBlob))
      #expect(throws: ApplyError.self, "\(slug)") { try zeroCopy.apply(to: post) }
    }
  }

  /// The zero-copy patch already guards the purge loop against NULL and handle entries, as the
  /// NULL/handle fix does: on a tree with that fix, its purge-loop hunk is already there in
  /// substance (the same condition, wrapped differently).
  @Test("zero-copy carries the NULL/handle fix's purge-loop guard")
  func sameGuard() throws {
    // The added lines of each hunk with all whitespace removed, so a condition wrapped over
    // two lines compares equal to the same condition on one.
    func addedCode(_ diff: FileDiff) -> [String] {
      diff.hunks.map { hunk in
        hunk.lines.filter { $0.kind == .added }.map(\.text).joined().filter { !$0.isWhitespace }
      }
    }
    let guardCondition = "if(unlikely(!page||ttm_backup_page_ptr_is_handle(page))){"
    #expect(try addedCode(ttmPool("zero-copy-insert-folio")).contains { $0.contains(guardCondition) })
    #expect(try addedCode(ttmPool("null-handle-pages-backup")).contains { $0.contains(guardCondition) })
  }

  /// Native order's pre-image is the NULL/handle fix's post-image plus four lines no known
  /// patch adds: an upstream prerequisite the package does not have.
  @Test("native order's pre-image is produced by no known patch")
  func nativeOrderUnknownBase() throws {
    let native = try ttmPool("native-order-backup")
    let produced = try patchFileNames().flatMap { name in
      try PatchFile(contentsOf: "\(patchesDirectory)/\(name)").files.map(\.newBlob)
    }
    #expect(!produced.contains(native.oldBlob))
    let nullHandle = try #require(kernelFile("ttm_pool.c", try ttmPool("null-handle-pages-backup").newBlob))
    let base = try #require(kernelFile("ttm_pool.c", native.oldBlob))
    #expect(
      base.count - nullHandle.count
        == "\t\t/* Already-handled entry from a previous attempt. */\n\t\tif (unlikely(ttm_backup_page_ptr_is_handle(page)))\n\t\t\tcontinue;\n\n"
        .count)
  }
}
