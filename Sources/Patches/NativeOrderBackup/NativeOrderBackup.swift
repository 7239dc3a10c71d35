// NativeOrderBackupModel: one upstream patch as a before/after pair.
// Holds: this patch's catalog link (this file) and the seam functions its hunks touch, as
// they were before (Before.swift) and after (After.swift) the patch.
// May import: BOCore, Patches
// Must not: import Foundation, a tree, the harness, another patch's model, or ask which
// patch is applied: the tree installs these functions, the core calls them.

import BOCore
import Patches

/// "drm/ttm/pool: back up at native page order" (v7, Matthew Brost; Cc stable,
/// `Fixes: b63d715b8090`; mainline a3fdf74ffa59, stable 7.1.6).
///
/// Before: `ttm_pool_backup()` splits every higher-order pool page and backs it up 4 KiB at a
/// time, freeing each sub-page as it goes, so the copies land in the frames just freed and the
/// block never comes back whole; reclaim may drain the reserves for it; after a hard writeback
/// error the folio is unlocked twice. After: `ttm_backup_backup_folio()` copies the whole
/// block into a contiguous shmem range and the block is freed once at its order; above order 0
/// the allocations carry `__GFP_NOMEMALLOC`; a short backup splits, frees the backed-up
/// prefix and continues at order 0; fault injection can cut a block short
/// (`ttm_backup_fault_inject_folio()`); writeback unlocks only on `AOP_WRITEPAGE_ACTIVATE`.
///
/// Its Before side is its verified pre-image (`ttm_pool.c@80d0ad41456a`), whose backup loop
/// skips handle entries thanks to an unidentified drm-tip patch; the pair trees
/// (`KernelTree.pair`) run it, on the gfp, "Drop tt->restore" and NULL/handle fixes the
/// pre-image carries. Branch trees without native-order take the backup loop from the
/// zero-copy patch's Before side (the v14 loop without that skip), since the skip is not
/// known to be in any release (UNVERIFIED).
public enum NativeOrderBackup: PatchModel {
  public static let patch = PatchCatalog.nativeOrderBackup
  public static let requires = [PatchCatalog.shmemBackupV14.slug]
  /// The zero-copy patch rewrites the same backup loop another way.
  public static let excludes = [PatchCatalog.zeroCopyInsertFolio.slug]
  /// `ttm_pool.c@80d0ad41456a` is the NULL/handle fix's post-image plus the four-line skip,
  /// on a tree with the gfp fix (`ttm_backup.c@81df4cb5606b`) and "Drop tt->restore".
  public static let writtenOn = [
    PatchCatalog.gfpRetryMayfailReadback.slug, PatchCatalog.dropRestoreAfterRestore.slug,
    PatchCatalog.nullHandlePagesBackup.slug,
  ]

  public static func install(_ variant: Variant, into functions: inout KernelFunctions) {
    switch variant {
    case .before: Before.install(into: &functions.ttm)
    case .after: After.install(into: &functions.ttm)
    }
  }
}
