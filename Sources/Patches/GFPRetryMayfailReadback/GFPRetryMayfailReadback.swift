// GFPRetryMayfailReadbackModel: one upstream patch as a before/after pair.
// Holds: this patch's catalog link (this file) and the seam functions its hunks touch, as
// they were before (Before.swift) and after (After.swift) the patch.
// May import: BOCore, Patches
// Must not: import Foundation, a tree, the harness, another patch's model, or ask which
// patch is applied: the tree installs these functions, the core calls them.

import BOCore
import Patches

/// "drm/ttm: Avoid invoking the OOM killer when reading back swapped content" (c6135f67aa37,
/// v7.1; AUTOSEL-proposed for 7.0/6.19/6.18).
///
/// `ttm_backup_copy_page()` gains `additional_gfp` and reads back with
/// `mapping_gfp_mask(mapping) | additional_gfp`; `ttm_pool_restore_commit()` passes
/// `__GFP_RETRY_MAYFAIL | __GFP_NOWARN` when `ctx->gfp_retry_mayfail` is set, so a swap-in
/// under memory pressure returns -ENOMEM instead of invoking the OOM killer. The page
/// allocation and the restore-state allocation already honoured the flag before.
public enum GFPRetryMayfailReadback: PatchModel {
  public static let patch = PatchCatalog.gfpRetryMayfailReadback
  public static let requires = [PatchCatalog.shmemBackupV14.slug]

  public static func install(_ variant: Variant, into functions: inout KernelFunctions) {
    switch variant {
    case .before: Before.install(into: &functions.ttm)
    case .after: After.install(into: &functions.ttm)
    }
  }
}
