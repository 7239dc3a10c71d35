// NullHandlePagesBackupModel: one upstream patch as a before/after pair.
// Holds: this patch's catalog link (this file) and the seam functions its hunks touch, as
// they were before (Before.swift) and after (After.swift) the patch.
// May import: BOCore, Patches
// Must not: import Foundation, a tree, the harness, another patch's model, or ask which
// patch is applied: the tree installs these functions, the core calls them.

import BOCore
import Patches

/// "drm/ttm: Account for NULL and handle pages in ttm_pool_backup" (Matthew Brost, 2026-07-02;
/// Cc stable, `Fixes: b63d715b8090`; stable 6.18.42 and 7.1.6).
///
/// Before: on x86, a write-combined or uncached tt goes back to write-back with one
/// `set_pages_array_wb()` over the whole page array, NULL and backup-handle entries included,
/// and the purge loop takes a handle for a page: a general protection fault in
/// `__cpa_process_fault()` from the shrinker. After: `set_pages_array_wb()` once per run of
/// real pages, and the purge loop skips NULL and handle entries. The backup loop itself is not
/// changed: it still takes a handle for a page (the skip in the loop came from a later,
/// unidentified patch; UNVERIFIED).
public enum NullHandlePagesBackup: PatchModel {
  public static let patch = PatchCatalog.nullHandlePagesBackup
  public static let requires = [PatchCatalog.shmemBackupV14.slug]
  /// `ttm_pool.c@3d5f2ae0a456` carries the gfp fix and "Drop tt->restore" too; the pair trees
  /// leave the latter out, a deviation: in the model the NULL and handle entries the purge
  /// meets arise only from the stale restore state that fix removes (a restore that failed
  /// part-way and resumed), while the oops in the commit message came from a tree that had
  /// it, by a path the model does not have. The matrix says so on 7.2.y and mainline ("not
  /// shown by the model here").
  public static let writtenOn = [PatchCatalog.gfpRetryMayfailReadback.slug]

  public static func install(_ variant: Variant, into functions: inout KernelFunctions) {
    switch variant {
    case .before: Before.install(into: &functions.ttm)
    case .after: After.install(into: &functions.ttm)
    }
  }
}
