import BOCore
import DropRestoreAfterRestoreModel
import KernelTrees
import ModelTestSupport
import Patches
import Testing

/// drop-restore-after-restore: a resumed restore that completes with nothing left to
/// allocate must free `tt->restore` and apply the deferred caching. Both variants run on a v14
/// tree; every test states the outcome of each.
@Suite(
  "drop-restore-after-restore: a completed resumed restore drops tt->restore",
  .tags(.dropRestoreAfterRestore),
  .bug(
    "https://lore.kernel.org/dri-devel/20260505200443.3300962-2-matthew.brost@intel.com/",
    id: "a46ab76b6cf5", "drm/ttm: Drop tt->restore after successful restore (stable 7.2.5)"))
struct DropRestoreAfterRestoreTests {
  /// Interrupted on its last block and resumed, the restore completes in both variants with
  /// intact content. Before, `tt->restore` stays and the caching staged for a write-combined
  /// tt is never applied; after, the state is freed and `set_pages_array_wc()` runs over the
  /// restored pages.
  @Test(
    "The resumed restore leaves tt->restore behind before the fix",
    arguments: Variant.allCases, [TTMCaching.cached, .writeCombined])
  func staleState(variant: Variant, caching: TTMCaching) throws {
    let rig = TTMRig(DropRestoreAfterRestore.self, variant, memory: 512, swap: 512, poolOrder: 1)
    let bo = try rig.filledBO(pages: 4, caching: caching)
    let before = rig.device.cachingLog.count
    let (first, resumed) = try rig.interruptAndResumeRestore(bo)
    #expect(first == Errno.EINTR.negated)
    #expect(resumed == 0)
    #expect(bo.tt.isPopulated && !bo.tt.isBackedUp)
    #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
    let applied = rig.device.cachingLog.dropFirst(before).filter { $0.tt == bo.tt.id && $0.caching == caching }
    switch variant {
    case .before:
      #expect(bo.tt.restore != nil, "stale tt->restore")
      if caching == .writeCombined {
        #expect(!applied.contains { $0.range.contains(2) }, "caching of the last block not applied")
      }
    case .after:
      #expect(bo.tt.restore == nil)
      if caching == .writeCombined {
        #expect(applied.contains { $0.range.contains(2) }, "set_pages_array_wc() on the last block")
      }
    }
    let audit = try rig.teardown([bo])
    switch variant {
    case .before:
      #expect(audit.leakedPages == ["kmalloc: ttm_pool_tt_restore": 1], "\(audit)")
    case .after:
      #expect(audit.isClean, "\(audit)")
    }
  }

  /// What the stale state leads to. The next backup works, but the restore after it finds
  /// the stale state, which says nothing is left to allocate, and returns 0 at once: the tt
  /// is marked populated while every slot still holds a backup handle (what the GPU would be
  /// pointed at; the kernel crashed in `sg_alloc_append_table_from_pages()`). A backup of that
  /// tt takes a handle for a page and oopses. After the fix the same sequence round-trips.
  @Test("The stale state makes the next restore a no-op over handles", arguments: Variant.allCases)
  func consequences(variant: Variant) throws {
    let rig = TTMRig(DropRestoreAfterRestore.self, variant, memory: 512, swap: 512, poolOrder: 1)
    let bo = try rig.filledBO(pages: 4)
    _ = try rig.interruptAndResumeRestore(bo)
    #expect(try rig.device.swapout(bo) == 4)
    rig.machine.allocationTrace = []
    #expect(try rig.device.populate(bo) == 0)
    let allocations = rig.machine.allocationTrace?.count ?? 0
    switch variant {
    case .before:
      #expect(allocations == 0, "nothing restored")
      #expect(bo.tt.isPopulated && bo.tt.slotCounts.handles == 4)
      #expect(
        rig.device.checkContent(bo, seed: 7).map(\.found) == ["handle(1)", "handle(2)", "handle(3)", "handle(4)"])
      #expect {
        try rig.device.swapout(bo)
      } throws: { error in
        guard case .oops(let message, let chain) = error as? KernelHalt else { return false }
        return message.hasPrefix("BUG: kernel NULL pointer dereference, address: 000000000000002b")
          && chain.starts(with: ["ttm_pool_page_order", "ttm_pool_split_for_swap", "ttm_pool_backup", "ttm_tt_backup"])
      }
    case .after:
      #expect(allocations > 0)
      #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
      #expect(try rig.teardown([bo]).isClean)
    }
  }
}
