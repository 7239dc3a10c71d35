// ShmemBackupV14Model: one upstream patch as a before/after pair.
// Holds: this patch's catalog link (this file) and the seam functions its hunks touch, as
// they were before (Before.swift) and after (After.swift) the patch.
// May import: BOCore, Patches
// Must not: import Foundation, a tree, the harness, another patch's model, or ask which
// patch is applied: the tree installs these functions, the core calls them.

import BOCore
import Patches

/// "drm/ttm: Provide a shmem backup implementation" (v14 2/8; merged from v16 as
/// e7b5d23e5d47, with "drm/ttm/pool, drm/ttm/tt: Provide a helper to shrink pages"
/// b63d715b8090 and the xe shrinker 00c8efc3180f, v6.15).
///
/// Before (`Before.swift`): the legacy TTM swapout of 6.1 .. 6.14, `ttm_tt_swapout()` and
/// `ttm_tt_swapin()`: a new shmem file per tt, every page copied before anything is freed,
/// all or nothing, with the caller's `GFP_KERNEL`.
///
/// After (`After.swift`): the series as merged: `ttm_pool_backup()` backs a tt up page by page
/// into a shmem file made at tt creation, freeing each page once it is copied, leaving
/// handles in the page array; a partial backup is allowed; `ttm_pool_restore_and_alloc()`
/// restores with a state that survives errors; a driver shrinker calls it from reclaim.
///
/// The After side is transliterated from the merged code as it stands in the May-2026 base
/// (`ttm_pool.c@278bbe7a11ad`, `ttm_backup.c@6bd4c123d94c`), not from the v14 posting:
/// v15 changed the handle-or-0 return to an s64 handle-or-errno, and the model follows the
/// code that branches actually carry.
public enum ShmemBackupV14: PatchModel {
  public static let patch = PatchCatalog.shmemBackupV14
  public static let requires: [String] = []

  public static func install(_ variant: Variant, into functions: inout KernelFunctions) {
    switch variant {
    case .before: Before.install(into: &functions.ttm)
    case .after: After.install(into: &functions.ttm)
    }
  }
}
