import BOCore
import KernelTrees
import ModelTestSupport
import NativeOrderBackupModel
import Patches
import Testing

/// native-order-backup: `ttm_pool_backup()` backs each block up whole and frees it once at
/// its order, instead of splitting it and freeing 4 KiB at a time. Both variants run on a v14
/// tree; every test states the outcome of each.
@Suite(
  "native-order-backup: back up at native page order",
  .tags(.nativeOrderBackup),
  .bug(
    "https://git.kernel.org/torvalds/c/a3fdf74ffa5966e5b4a17f1e9c5687f73bb0d536",
    id: "a3fdf74ffa59", "drm/ttm/pool: back up at native page order"))
struct NativeOrderBackupTests {
  /// A machine whose free memory outside the tt is all order-0 (every other free frame
  /// pinned), so the only way back to a free block of the tt's order is the tt's own block.
  func fragmentedRig(_ variant: Variant, order: Int, blocks: Int) throws -> (TTMRig, TTMBufferObject) {
    let rig = TTMRig(NativeOrderBackup.self, variant, memory: 2048, swap: 2048, poolOrder: order)
    let bo = try rig.filledBO(pages: blocks << order)
    for frame in 0..<rig.machine.mem.totalPages where frame % 2 == 1 {
      rig.machine.takePageOffBuddy(Page(pfn: frame), owner: .other("pinned"))
    }
    #expect(rig.machine.mem.largestFreeOrder == 0)
    return (rig, bo)
  }

  /// Before: the split sub-pages are freed one at a time and the next copy takes the page
  /// just freed, so the copies end up inside the block and no free block of its order comes
  /// back. After: the copies come from elsewhere and the block is freed whole, so an
  /// allocation of the original order succeeds without reclaim.
  @Test("Can an allocation of the original order still succeed after backup?", arguments: Variant.allCases, [2, 4, 9])
  func fragmentation(variant: Variant, order: Int) throws {
    let (rig, bo) = try fragmentedRig(variant, order: order, blocks: 1)
    #expect(try rig.device.swapout(bo) == 1 << order)
    #expect(rig.machine.mem.largestFreeOrder.map { $0 >= order } == (variant == .after))
    let page = try rig.machine.allocPages(.GFP_NOWAIT, order: order, owner: .other("probe"))
    #expect((page != nil) == (variant == .after))
    if let page { rig.machine.freePages(page, order: order) }
    #expect(try rig.device.populate(bo) == 0)
    #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
  }

  /// From reclaim (`PF_MEMALLOC`) with free memory at or below half the min watermark (64
  /// pages; 8 or 32 free), all that `__GFP_HIGH` may use: the v14 loop's allocations ignore
  /// the watermarks and drain the reserves; above order 0, native order adds
  /// `__GFP_NOMEMALLOC`, so the backup fails fast and the reserves stay untouched. At order 0
  /// both may use the reserves. With 48 free neither needs them (no change).
  @Test(
    "Are the reserves touched?", arguments: Variant.allCases, [(0, 32), (3, 32), (0, 8), (3, 8), (3, 48)])
  func reserves(variant: Variant, orderAndFree: (order: Int, free: Int)) throws {
    let (order, free) = orderAndFree
    let rig = TTMRig(
      NativeOrderBackup.self, variant, memory: 1024, swap: 1024, watermarks: Watermarks(min: 64), poolOrder: order)
    let bo = try rig.filledBO(pages: 32)
    try rig.leaveFree(free)
    rig.machine.resetLowestFreePages()
    rig.machine.allocationTrace = []
    let ret = try rig.asKswapd { try rig.device.swapout(bo) }
    // `__GFP_HIGH` may take free memory down to min/2; below that only the PF_MEMALLOC
    // reserves are left.
    let reserves = 64 / 2
    let dipped = rig.machine.mem.lowestFreePages < min(free, reserves)
    let noMemalloc = (rig.machine.allocationTrace ?? []).filter { $0.gfp.contains(.__GFP_NOMEMALLOC) }.count
    switch (variant, order, free > reserves) {
    case (.after, 3, false):
      #expect(ret == Errno.EBUSY.negated, "no progress at order 3 without the reserves")
      #expect(!dipped)
      #expect(noMemalloc == 1)
    case (_, _, true):
      // Enough above min/2 for every allocation: neither variant needs the reserves.
      #expect(ret == 32)
      #expect(!dipped)
      #expect(noMemalloc == (variant == .after && order > 0 ? 32 : 0))
    default:
      #expect(ret == 32)
      #expect(dipped)
      #expect(noMemalloc == 0)
    }
    for task in rig.machine.tasks where task.comm == "chrome" { rig.machine.exitTask(task.pid) }
    #expect(try rig.device.populate(bo) == 0)
    #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
    #expect(try rig.teardown([bo]).isClean)
  }

  /// Native order's own fault point (`ttm_backup_fault_inject_folio()`, consulted before
  /// each sub-page but the first) fails sub-page `i` of the first block: the block was backed
  /// up short (`i` pages), so it is split, its backed-up prefix freed, and the loop goes on
  /// at order 0 from sub-page `i`, with `__GFP_NOMEMALLOC` cleared; the second block goes
  /// whole again. The v14 loop has no such point (it consults `backup_fault_inject` only to
  /// halve the tt) and backs up everything the same way. Call 1 is the halving check, so
  /// call `i + 1` is sub-page `i`.
  @Test(
    "A short backup splits, frees the prefix and continues at order 0", arguments: Variant.allCases,
    [(1, 1), (3, 1), (3, 2), (3, 7), (5, 1), (5, 16), (5, 31)])
  func splitAndRetry(variant: Variant, orderAndSubpage: (order: Int, subpage: Int)) throws {
    let (order, i) = orderAndSubpage
    let n = 1 << order
    let rig = TTMRig(NativeOrderBackup.self, variant, memory: 1024, swap: 1024, poolOrder: order)
    let bo = try rig.filledBO(pages: 2 * n)
    rig.machine.faults.arm(.backupFaultInject, .nth(i + 1))
    rig.machine.allocationTrace = []
    #expect(try rig.device.swapout(bo) == 2 * n)
    let gfps = (rig.machine.allocationTrace ?? []).map { $0.gfp.contains(.__GFP_NOMEMALLOC) }
    switch variant {
    case .before:
      #expect(rig.machine.faults.injected(.backupFaultInject) == 0)
      #expect(gfps.count == 2 * n && gfps.allSatisfy { !$0 })
    case .after:
      #expect(rig.machine.faults.injected(.backupFaultInject) == 1)
      // i pages of block 0 with NOMEMALLOC, its n - i remaining pages at order 0 without,
      // then block 1 whole with NOMEMALLOC.
      #expect(
        gfps == Array(repeating: true, count: i) + Array(repeating: false, count: n - i)
          + Array(repeating: true, count: n))
    }
    #expect(rig.machine.vmstat.nrGPUActive == 0)
    #expect(try rig.device.populate(bo) == 0)
    #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
    #expect(try rig.teardown([bo]).isClean)
  }

  /// `backup_fault_inject` firing at the halving check cuts a 12-page tt of order-2 blocks
  /// at page 6, inside the second block. The v14 loop splits as it goes and backs up the six
  /// pages; native order backs blocks up whole and stops before the cut one, so it backs up
  /// only the first block. Both restore everything intact.
  @Test("A block cut in half by the halving is left alone", arguments: Variant.allCases)
  func halvingCutsABlock(variant: Variant) throws {
    let rig = TTMRig(NativeOrderBackup.self, variant, memory: 1024, swap: 1024, poolOrder: 2)
    let bo = try rig.filledBO(pages: 12)
    rig.machine.faults.arm(.backupFaultInject, .nth(1))
    #expect(try rig.device.swapout(bo) == (variant == .before ? 6 : 4))
    #expect(rig.machine.faults.injected(.backupFaultInject) == 1)
    #expect(try rig.device.populate(bo) == 0)
    #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
    #expect(try rig.teardown([bo]).isClean)
  }

  /// A hard error from the swap write: `shmem_writeout()` has already unlocked the folio.
  /// The v14 code unlocks on any non-zero result, so it unlocks it a second time; native
  /// order unlocks only on `AOP_WRITEPAGE_ACTIVATE`. The content is safe in both; the page
  /// whose write failed stays in the page cache, so one swap slot fewer is used.
  @Test(
    "A hard writeback error: double unlock before, none after", arguments: Variant.allCases,
    [(0, 1), (0, 3), (2, 3), (2, 8)])
  func writebackError(variant: Variant, orderAndWrite: (order: Int, write: Int)) throws {
    let rig = TTMRig(NativeOrderBackup.self, variant, memory: 1024, swap: 1024, poolOrder: orderAndWrite.order)
    let bo = try rig.filledBO(pages: 8)
    rig.machine.faults.arm(.swapWriteout, .nth(orderAndWrite.write))
    #expect(try rig.device.swapout(bo, flags: TTMBackupFlags(writeback: true)) == 8)
    #expect(rig.machine.folioLockViolations.count == (variant == .before ? 1 : 0))
    #expect(rig.machine.swap.slotsInUse == 7)
    #expect(try rig.device.populate(bo) == 0)
    #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
    let audit = try rig.teardown([bo])
    #expect(audit.lockViolations == (variant == .before ? 1 : 0))
    #expect(audit.leakedPages.isEmpty && audit.swapSlotsInUse == 0)
  }

  /// No change in the common case: both variants back up and restore every page intact at
  /// every order, with and without writeback, with the same copies and accounting.
  @Test("Round trip at every order", arguments: [0, 1, 4, 9], [false, true])
  func roundTrip(order: Int, writeback: Bool) throws {
    for variant in Variant.allCases {
      let rig = TTMRig(NativeOrderBackup.self, variant, memory: 4096, swap: 4096, poolOrder: order)
      let bo = try rig.filledBO(pages: 1024)
      let freedBefore = rig.machine.mem.pagesFreed
      #expect(try rig.device.swapout(bo, flags: TTMBackupFlags(writeback: writeback)) == 1024)
      #expect(rig.machine.vmstat.nrGPUActive == 0)
      #expect(rig.machine.vmstat.bytesCopied == 1024 * PAGE_SIZE)
      #expect(rig.machine.mem.pagesFreed - freedBefore >= 1024)
      #expect(try rig.device.populate(bo) == 0)
      #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
      #expect(try rig.teardown([bo]).isClean)
    }
  }
}
