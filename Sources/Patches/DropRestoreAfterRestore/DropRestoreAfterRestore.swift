// DropRestoreAfterRestoreModel: one upstream patch as a before/after pair.
// Holds: this patch's catalog link (this file) and the seam functions its hunks touch, as
// they were before (Before.swift) and after (After.swift) the patch.
// May import: BOCore, Patches
// Must not: import Foundation, a tree, the harness, another patch's model, or ask which
// patch is applied: the tree installs these functions, the core calls them.

import BOCore
import Patches

/// "drm/ttm: Drop tt->restore after successful restore" (v5 1/2, Matthew Brost; Cc stable,
/// `Fixes: b63d715b8090`; stable 7.2.5).
///
/// Before: a resumed `ttm_pool_restore_and_alloc()` whose `ttm_pool_restore_commit()`
/// finishes the last page returns 0 with nothing left to allocate, without applying the
/// deferred caching and without freeing `tt->restore`. The stale state makes the next restore
/// return at once, leaving the page array full of backup handles in a tt marked populated,
/// and the restore struct is never freed. After: apply caching, `kfree(tt->restore)`, NULL.
public enum DropRestoreAfterRestore: PatchModel {
  public static let patch = PatchCatalog.dropRestoreAfterRestore
  public static let requires = [PatchCatalog.shmemBackupV14.slug]
  /// `ttm_pool.c@278bbe7a11ad` carries the gfp fix.
  public static let writtenOn = [PatchCatalog.gfpRetryMayfailReadback.slug]

  public static func install(_ variant: Variant, into functions: inout KernelFunctions) {
    switch variant {
    case .before: Before.install(into: &functions.ttm)
    case .after: After.install(into: &functions.ttm)
    }
  }
}
