// MadviseListMoveModel: one upstream patch as a before/after pair.
// Holds: this patch's catalog link (this file) and the seam functions its hunks touch, as
// they were before (Before.swift) and after (After.swift) the patch.
// May import: BOCore, Patches
// Must not: import Foundation, a tree, the harness, another patch's model, or ask which
// patch is applied: the tree installs these functions, the core calls them.

import BOCore
import Patches

/// "drm/panfrost: Fix shrinker list corruption by madvise IOCTL" (9fc33eaaa979, v5.19-rc7;
/// stable 5.4.207, 5.10.132, 5.15.56, 5.18.13).
///
/// `panfrost_ioctl_madvise()` linked a retained DONTNEED BO into `shrinker_list` with
/// `list_add_tail()`, even when it was already on the list: a second DONTNEED corrupted the
/// list (a self-linked tail, or successors cut off the forward chain). The fix uses
/// `list_move_tail()`, which unlinks first. The WILLNEED branch (`list_del_init()`) is
/// unchanged. The code exists in every panfrost tree since 5.4, so the patch requires nothing.
public enum MadviseListMove: PatchModel {
  public static let patch = PatchCatalog.madviseListMove
  public static let requires: [String] = []

  public static func install(_ variant: Variant, into functions: inout KernelFunctions) {
    switch variant {
    case .before: Before.install(into: &functions.panfrost)
    case .after: After.install(into: &functions.panfrost)
    }
  }
}
