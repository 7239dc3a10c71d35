import BOCore
import KernelTrees
import ModelTestSupport
import Patches
import ShmemBackupV14Model
import Testing

/// The xe-style BO shrinker the v14 tree registers (`xe_shrinker.c` over `ttm_bo_shrink()`).
@Suite("BO shrinker (v14 tree)", .tags(.boShrinker))
struct BOShrinkerTests {
  /// Only the v14 tree's driver registers a BO shrinker; legacy TTM has none.
  @Test("Registered by the v14 driver only", arguments: Variant.allCases)
  func registration(variant: Variant) {
    let rig = TTMRig(ShmemBackupV14.self, variant)
    #expect((rig.device.shrinker != nil) == (variant == .after))
  }

  /// `xe_shrinker_count()`: swap left capped by the shrinkable pages, only with `__GFP_FS`,
  /// plus the purgeable pages.
  @Test("Count: shrinkable pages only with __GFP_FS and swap, purgeable pages always")
  func count() throws {
    let rig = TTMRig(ShmemBackupV14.self, .after, memory: 1024, swap: 8)
    try rig.filledBO(pages: 16)
    let purgeable = try rig.filledBO(pages: 4)
    purgeable.purgeable = true
    let shrinker = try #require(rig.device.shrinker)
    #expect(shrinker.countObjects(ShrinkControl(gfpMask: .GFP_KERNEL, nrToScan: 0), on: rig.machine) == 8 + 4)
    #expect(shrinker.countObjects(ShrinkControl(gfpMask: .GFP_NOFS, nrToScan: 0), on: rig.machine) == 4)
  }

  /// The purge pass ends at the first suitable BO that is not purgeable (`xe_bo_shrink()`
  /// returns -EBUSY, `xe_shrinker_walk()` returns it); without `__GFP_FS` there is no backup
  /// pass, so nothing is freed. With `__GFP_FS` the backup pass backs up the idle BO and
  /// purges the purgeable one, in LRU order.
  @Test("Purge pass stops at a BO it cannot purge; the backup pass takes the LRU in order")
  func purgePassOrder() throws {
    let rig = TTMRig(ShmemBackupV14.self, .after, memory: 1024, swap: 1024)
    let a = try rig.filledBO(pages: 8, seed: 1)
    let b = try rig.filledBO(pages: 8, seed: 2)
    b.purgeable = true
    let shrinker = try #require(rig.device.shrinker)
    var nofs = ShrinkControl(gfpMask: .GFP_NOFS, nrToScan: 64)
    #expect(try shrinker.scanObjects(&nofs, on: rig.machine) == .stop)
    #expect(a.tt.isPopulated && b.tt.isPopulated)
    var fs = ShrinkControl(gfpMask: .GFP_KERNEL, nrToScan: 64)
    #expect(try shrinker.scanObjects(&fs, on: rig.machine) == .freed(16))
    #expect(fs.nrScanned == 16)
    #expect(a.tt.isBackedUp && a.tt.slotCounts.handles == 8)
    #expect(b.tt.isBackedUp && b.tt.slotCounts.null == 8, "purged, not backed up")
    #expect(try rig.device.populate(a) == 0)
    #expect(rig.device.checkContent(a, seed: 1).isEmpty)
    #expect(try rig.device.populate(b) == 0)
    #expect(!b.purgeable, "xe_ttm_tt_populate() clears purgeable")
    #expect(try rig.teardown([a, b]).isClean)
  }

  /// `ttm_bo_shrink_suitable()`: pinned BOs never, busy BOs not from direct reclaim (which
  /// does not wait for the GPU), reserved BOs not (the walk only trylocks).
  @Test("Pinned, busy and reserved BOs are skipped")
  func skips() throws {
    let rig = TTMRig(ShmemBackupV14.self, .after, memory: 1024, swap: 1024)
    let pinned = try rig.filledBO(pages: 4, seed: 1)
    pinned.pinCount = 1
    let busy = try rig.filledBO(pages: 4, seed: 2)
    busy.busy = true
    let reserved = try rig.filledBO(pages: 4, seed: 3)
    reserved.reserved = true
    let idle = try rig.filledBO(pages: 4, seed: 4)
    let shrinker = try #require(rig.device.shrinker)
    var sc = ShrinkControl(gfpMask: .GFP_KERNEL, nrToScan: 64)
    #expect(try shrinker.scanObjects(&sc, on: rig.machine) == .freed(4))
    #expect(pinned.tt.isPopulated && busy.tt.isPopulated && reserved.tt.isPopulated)
    #expect(idle.tt.isBackedUp)
    reserved.reserved = false
    pinned.pinCount = 0
    #expect(try rig.device.populate(idle) == 0)
    #expect(rig.device.checkContent(idle, seed: 4).isEmpty)
    #expect(try rig.teardown([pinned, busy, reserved, idle]).isClean)
  }
}
