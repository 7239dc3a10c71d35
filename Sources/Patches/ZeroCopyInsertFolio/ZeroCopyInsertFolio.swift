// ZeroCopyInsertFolioModel: one upstream patch as a before/after pair.
// Holds: this patch's catalog link (this file) and the seam functions its hunks touch, as
// they were before (Before.swift) and after (After.swift) the patch.
// May import: BOCore, Patches
// Must not: import Foundation, a tree, the harness, another patch's model, or ask which
// patch is applied: the tree installs these functions, the core calls them.

import BOCore
import Patches

/// "drm/ttm: Use ttm_backup_insert_folio() for zero-copy swapout" (2/2, posted 2026-05-12,
/// with 1/2 "mm/shmem: add shmem_insert_folio()"; not known to be merged).
///
/// Before: the v14 backup loop, split to order 0, then allocate a shmem page and copy, per
/// 4 KiB page. After: each pool page is handed to shmem whole, as a compound folio of its
/// order, without allocating or copying; a failed higher-order insert splits the page and
/// retries at order 0.
///
/// `shmem_insert_folio()` (patch 1/2) is not public; its model in `BOCore/Shmem` follows the
/// kerneldoc of `ttm_backup_insert_folio()` and names its failure conditions as assumptions
/// (UNVERIFIED).
public enum ZeroCopyInsertFolio: PatchModel {
  public static let patch = PatchCatalog.zeroCopyInsertFolio
  public static let requires = [PatchCatalog.shmemBackupV14.slug]
  /// Native order rewrote the same backup loop after this patch's pre-image (its hunks do
  /// not apply there; `PatchInteractionTests`): no tree carries both.
  public static let excludes = [PatchCatalog.nativeOrderBackup.slug]
  /// `ttm_backup.c@81df4cb5606b` is the gfp fix's post-image and `ttm_pool.c@d380a3c7fe40`
  /// is "Drop tt->restore"'s.
  public static let writtenOn = [
    PatchCatalog.gfpRetryMayfailReadback.slug, PatchCatalog.dropRestoreAfterRestore.slug,
  ]

  public static func install(_ variant: Variant, into functions: inout KernelFunctions) {
    switch variant {
    case .before: Before.install(into: &functions.ttm)
    case .after: After.install(into: &functions.ttm)
    }
  }
}
