import BOCore
import KernelTrees
import ModelTestSupport
import NullHandlePagesBackupModel
import Patches
import Testing

/// null-handle-pages-backup: `ttm_pool_backup()` must not hand NULL or backup-handle entries
/// to `set_pages_array_wb()` or the purge loop. Both variants run on a v14 tree without "Drop
/// tt->restore", where a populated tt can hold handles; every test states both outcomes.
@Suite(
  "null-handle-pages-backup: ttm_pool_backup skips NULL and handle entries",
  .tags(.nullHandlePagesBackup),
  .bug(
    "https://lore.kernel.org/dri-devel/20260702214815.4009271-1-matthew.brost@intel.com/",
    id: "22aa7fb4e7d0", "drm/ttm: Account for NULL and handle pages in ttm_pool_backup (stable 6.18.42)"))
struct NullHandlePagesBackupTests {
  /// A BO of four pages in two order-1 blocks that is populated while its first block's slots
  /// hold backup handles, reached by real calls on a tree without "Drop tt->restore": a
  /// restore interrupted and resumed leaves a stale `tt->restore`; a backup cut in half by
  /// `backup_fault_inject` backs up the first block; the next restore finds the stale state
  /// and returns at once. The page array is then [handle, handle, page, page].
  static func populatedWithHandles(_ rig: TTMRig, caching: TTMCaching) throws -> TTMBufferObject {
    let bo = try rig.filledBO(pages: 4, caching: caching)
    _ = try rig.interruptAndResumeRestore(bo)
    rig.machine.faults.arm(.backupFaultInject, .nth(1))
    #expect(try rig.device.swapout(bo) == 2)
    rig.machine.faults.disarm(.backupFaultInject)
    #expect(try rig.device.populate(bo) == 0)
    #expect(bo.tt.isPopulated && bo.tt.slotCounts == (pages: 2, handles: 2, null: 0))
    return bo
  }

  /// The kernel's call chain of the fault the fix quotes, innermost first.
  static let shrinkerChain = [
    "__cpa_process_fault", "__change_page_attr_set_clr", "set_pages_array_wb", "ttm_pool_backup", "ttm_tt_backup",
    "ttm_bo_shrink", "xe_bo_shrink", "xe_shrinker_walk", "xe_shrinker_scan",
  ]

  /// kswapd's shrinker pass purges the BO. Before: for a write-combined tt,
  /// `set_pages_array_wb()` over the whole array meets the handles: the general protection
  /// fault in `__cpa_process_fault()` with the fix's call chain; for a cached tt the purge loop
  /// takes a handle for a page and faults reading `page->private`. After: the write-back pass
  /// covers only the run of real pages, the purge loop skips the handles, and the two real
  /// pages are purged.
  @Test("Purging a tt that holds handles", arguments: Variant.allCases, [TTMCaching.writeCombined, .cached])
  func purge(variant: Variant, caching: TTMCaching) throws {
    let rig = TTMRig(NullHandlePagesBackup.self, variant, memory: 512, swap: 512, poolOrder: 1)
    let bo = try Self.populatedWithHandles(rig, caching: caching)
    bo.purgeable = true
    let shrinker = try #require(rig.device.shrinker)
    var sc = ShrinkControl(gfpMask: .GFP_KERNEL, nrToScan: 64)
    switch variant {
    case .before:
      #expect {
        try rig.asKswapd { try shrinker.scanObjects(&sc, on: rig.machine) }
      } throws: { error in
        guard case .oops(let message, let chain) = error as? KernelHalt else { return false }
        if caching == .writeCombined {
          return message == "Oops: general protection fault, kernel NULL pointer dereference 0x0: 0000 [#1] SMP NOPTI"
            && chain.starts(with: Self.shrinkerChain)
        }
        return message.hasPrefix("BUG: kernel NULL pointer dereference")
          && chain.starts(with: ["ttm_pool_page_order", "ttm_pool_backup", "ttm_tt_backup", "ttm_bo_shrink"])
      }
    case .after:
      let result = try rig.asKswapd { try shrinker.scanObjects(&sc, on: rig.machine) }
      #expect(result == .freed(2))
      #expect(bo.tt.slotCounts == (pages: 0, handles: 2, null: 2))
      if caching == .writeCombined {
        #expect(rig.device.cachingLog.last.map { ($0.range, $0.caching) } ?? (0..<0, .uncached) == (2..<4, .cached))
      }
      #expect(try rig.teardown([bo]).isClean)
    }
  }

  /// A plain backup of the same tt. Before: the same fault in `set_pages_array_wb()`. With
  /// the fix alone the write-back pass is fine, but the backup loop, which the posted fix does
  /// not touch, still takes the first handle for a page: the fault moves to
  /// `ttm_pool_page_order()`. On 7.1.y, whose native-order backup loop skips handles, the
  /// backup goes through. (Whether the 6.18.42 backport also skips handles in the loop is
  /// UNVERIFIED.)
  @Test("Backing up a write-combined tt that holds handles")
  func backup() throws {
    for tree in [
      KernelTree.pair(NullHandlePagesBackup.self, .before), KernelTree.pair(NullHandlePagesBackup.self, .after),
      StableTrees.branch("7.1.y")!.tree,
    ] {
      // 7.1.y has no "Drop tt->restore", so the same sequence reaches the same state.
      let rig = TTMRig(tree: tree, memory: 512, swap: 512, poolOrder: 1)
      let bo = try Self.populatedWithHandles(rig, caching: .writeCombined)
      let shrinker = try #require(rig.device.shrinker)
      var sc = ShrinkControl(gfpMask: .GFP_KERNEL, nrToScan: 64)
      let outcome = Result { try rig.asKswapd { try shrinker.scanObjects(&sc, on: rig.machine) } }
      switch tree.stack {
      case KernelTree.pair(NullHandlePagesBackup.self, .before).stack:
        guard case .failure(KernelHalt.oops(let message, let chain)) = outcome else {
          Issue.record("before: \(outcome)")
          continue
        }
        #expect(message.contains("general protection fault") && chain.starts(with: Self.shrinkerChain))
      case KernelTree.pair(NullHandlePagesBackup.self, .after).stack:
        guard case .failure(KernelHalt.oops(let message, let chain)) = outcome else {
          Issue.record("after: \(outcome)")
          continue
        }
        #expect(message.hasPrefix("BUG: kernel NULL pointer dereference"))
        #expect(chain.starts(with: ["ttm_pool_page_order", "ttm_pool_split_for_swap", "ttm_pool_backup"]))
      default:
        #expect(try outcome.get() == .freed(2), "7.1.y")
        #expect(bo.tt.slotCounts.handles == 4)
        #expect(try rig.teardown([bo]).isClean)
      }
    }
  }
}
