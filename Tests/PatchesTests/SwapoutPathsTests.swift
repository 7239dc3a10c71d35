import BOCore
import KernelTrees
import ModelTestSupport
import Patches
import ShmemBackupV14Model
import Testing

/// The two swapout paths of 6.15 and later, and placements: the shmem backup series added
/// `ttm_bo_shrink()` for drivers with their own shrinker (xe) next to TTM's global swapout,
/// which every other driver still gets. Each test runs both variants of shmem-backup-v14 and
/// both driver styles, and states what each must do.
@Suite("shmem-backup-v14: both swapout paths, placements and the pages limit", .tags(.shmemBackupV14))
struct SwapoutPathsTests {
  /// A variant and a driver style.
  struct Case: CustomTestStringConvertible, Sendable {
    let variant: Variant
    let style: TTMDriverStyle
    var testDescription: String { "\(variant), \(style)-style driver" }
  }

  static let cases = Variant.allCases.flatMap { v in TTMDriverStyle.allCases.map { Case(variant: v, style: $0) } }

  /// Only an xe-style driver on a tree with the series is backed up by `ttm_bo_shrink()`;
  /// every other combination is swapped out whole by `ttm_tt_swapout()`.
  static func backsUp(_ c: Case) -> Bool { c.variant == .after && c.style == .xe }

  @Test(
    "Which path reaches a BO: the driver's shrinker only for xe on 6.15+, ttm_tt_swapout() otherwise", arguments: cases)
  func pathByDriverStyle(_ c: Case) throws {
    let rig = TTMRig(ShmemBackupV14.self, c.variant, memory: 512, swap: 256, driverStyle: c.style)
    let bo = try rig.filledBO(pages: 16)
    // The shrinker exists, and the tt is EXTERNAL with a backup file, only for xe on 6.15+.
    #expect((rig.device.shrinker != nil) == Self.backsUp(c))
    #expect(bo.tt.pageFlags.contains(.EXTERNAL) == Self.backsUp(c))
    #expect((bo.tt.backup != nil) == Self.backsUp(c))
    #expect(rig.device.defaultSwapoutPath == (Self.backsUp(c) ? .shrink : .swapout))

    #expect(try rig.device.swapout(bo) == 16)
    #expect(bo.tt.isBackedUp == Self.backsUp(c))
    #expect(bo.tt.isSwapped == !Self.backsUp(c))
    #expect((bo.tt.swapStorage != nil) == !Self.backsUp(c))

    #expect(try rig.device.populate(bo) == 0)
    #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
    #expect(!bo.tt.isSwapped && !bo.tt.isBackedUp)
    let audit = try rig.teardown([bo])
    #expect(audit.isClean, "\(audit)")
  }

  /// `ttm_bo_shrink()` exists from 6.15 only; asking for it on an older tree is a clear error
  /// naming the function, and an amdgpu-style tt on a 6.15+ tree has no backup file
  /// (`ttm_tt_backup()` WARNs and does nothing).
  @Test("ttm_bo_shrink() by name: absent before 6.15, a WARN for a tt without backup", arguments: Variant.allCases)
  func shrinkByName(_ variant: Variant) throws {
    let rig = TTMRig(ShmemBackupV14.self, variant, memory: 512, swap: 256, driverStyle: .amdgpu)
    let bo = try rig.filledBO(pages: 4)
    switch variant {
    case .before:
      #expect(throws: TTMAbsentFunction.self) { try rig.device.swapout(bo, path: .shrink) }
    case .after:
      #expect(try rig.device.swapout(bo, path: .shrink) == 0)
      #expect(rig.machine.dmesg.grep("WARN_ON(IS_ERR_OR_NULL(tt->backup)) in ttm_tt_backup()").count == 1)
    }
    #expect(bo.tt.isPopulated && rig.device.checkContent(bo, seed: 7).isEmpty)
    let audit = try rig.teardown([bo])
    #expect(audit.isClean, "\(audit)")
  }

  /// `ttm_tt_populate()` counts non-EXTERNAL tts in `ttm_pages_allocated` and, over
  /// `ttm_pages_limit`, swaps the least recently used BO out with `ttm_global_swapout()`
  /// before allocating. From 6.15 xe's tts are EXTERNAL: neither counted nor swapped.
  @Test("Over ttm_pages_limit, populate swaps another BO out, except xe's EXTERNAL tts on 6.15+", arguments: cases)
  func pagesLimit(_ c: Case) throws {
    let rig = TTMRig(ShmemBackupV14.self, c.variant, memory: 512, swap: 256, driverStyle: c.style)
    rig.device.ttmPagesLimit = 24
    let a = try rig.filledBO(pages: 16, seed: 1)
    let b = try rig.filledBO(pages: 16, seed: 2)
    let external = Self.backsUp(c)
    #expect(a.tt.isSwapped == !external)
    #expect(b.tt.isPopulated)
    #expect(rig.device.ttmPagesAllocated == (external ? 0 : 16))
    // Bringing a back swaps b out in turn (a is reserved while it populates).
    #expect(try rig.device.populate(a) == 0)
    #expect(rig.device.checkContent(a, seed: 1).isEmpty)
    #expect(b.tt.isSwapped == !external)
    #expect(try rig.device.populate(b) == 0)
    #expect(rig.device.checkContent(b, seed: 2).isEmpty)
    let audit = try rig.teardown([a, b])
    #expect(audit.isClean, "\(audit)")
    #expect(rig.device.ttmPagesAllocated == 0)
  }

  /// A BO in `TTM_PL_TT` is moved to system before it is swapped out or backed up:
  /// `ttm_bo_swapout_cb()` always, `ttm_bo_shrink()` only with `allow_move`.
  @Test("A TTM_PL_TT BO moves to system first (allow_move); without allow_move the shrink backs it up in place")
  func ttPlacement() throws {
    for variant in Variant.allCases {
      for allowMove in [true, false] {
        let rig = TTMRig(ShmemBackupV14.self, variant, memory: 512, swap: 256)
        let bo = try rig.device.createBO(numPages: 8, placement: .tt)
        #expect(bo.tt.isPopulated && bo.resource.memType == .tt)
        rig.device.fill(bo, seed: 3)
        #expect(try rig.device.swapout(bo, allowMove: allowMove) == 8)
        // Legacy swapout ignores allow_move (it has none) and always moves.
        let moved = variant == .before || allowMove
        #expect(bo.resource.memType == (moved ? .system : .tt), "\(variant) allowMove \(allowMove)")
        #expect(variant == .before ? bo.tt.isSwapped : bo.tt.isBackedUp)
        #expect(try rig.device.populate(bo) == 0)
        #expect(rig.device.checkContent(bo, seed: 3).isEmpty)
        let audit = try rig.teardown([bo])
        #expect(audit.isClean, "\(audit)")
      }
    }
  }

  /// "Consider -ENOMEM and -ENOSPC non-fatal": a failed move to system is -EBUSY on both
  /// paths, and the BO stays where it was, populated and intact.
  @Test("A failed move to system (-ENOMEM) is -EBUSY on both paths", arguments: Variant.allCases)
  func moveFailureIsBusy(_ variant: Variant) throws {
    let rig = TTMRig(ShmemBackupV14.self, variant, memory: 512, swap: 256)
    let bo = try rig.device.createBO(numPages: 8, placement: .tt)
    rig.device.fill(bo, seed: 3)
    rig.machine.faults.arm(.ttmResourceAlloc, .nth(1))
    #expect(try rig.device.swapout(bo) == Errno.EBUSY.negated)
    rig.machine.faults.disarm(.ttmResourceAlloc)
    #expect(rig.machine.faults.injected(.ttmResourceAlloc) == 1)
    #expect(bo.resource.memType == .tt && bo.tt.isPopulated && !bo.tt.isSwapped && !bo.tt.isBackedUp)
    #expect(rig.device.checkContent(bo, seed: 3).isEmpty)
    let audit = try rig.teardown([bo])
    #expect(audit.isClean, "\(audit)")
  }

  /// A VRAM BO has no tt: neither path can swap it; VRAM pressure evicts the least recently
  /// used VRAM BO to `TTM_PL_TT` (a tt is created, populated and filled by a CPU copy), a
  /// second eviction takes it to system, and validating it back to VRAM destroys the tt.
  @Test("VRAM: no tt to swap; eviction to TT and system and back keeps the content", arguments: Variant.allCases)
  func vram(_ variant: Variant) throws {
    let rig = TTMRig(ShmemBackupV14.self, variant, memory: 512, swap: 256)
    rig.device.vramPages = 16
    let v = try rig.device.createBO(numPages: 8, placement: .vram)
    #expect(v.ttm == nil && v.resource.memType == .vram)
    rig.device.fill(v, seed: 4)
    // ttm_bo_shrink_suitable() wants a populated tt: the xe shrinker passes v by.
    if let shrinker = rig.device.shrinker {
      var sc = ShrinkControl(gfpMask: .GFP_KERNEL, nrToScan: 128)
      #expect(try rig.machine.memallocNoreclaim { try shrinker.scanObjects(&sc, on: rig.machine) } == .stop)
    }
    #expect((rig.device.shrinker != nil) == (variant == .after))
    #expect(try rig.device.swapout(v, path: .swapout) == Errno.EBUSY.negated)
    #expect(try rig.device.ttmGlobalSwapout(TTMOperationContext(), .GFP_KERNEL) == 0)
    #expect(try rig.device.populate(v) == Errno.EINVAL.negated)

    let copied = rig.machine.statistics
    let w = try rig.device.createBO(numPages: 12, placement: .vram)
    #expect(v.resource.memType == .tt && v.tt.isPopulated, "VRAM full: v was evicted to TT")
    #expect(rig.machine.statistics.since(copied).pagesCopied == 8)
    #expect(rig.device.checkContent(v, seed: 4).isEmpty)
    #expect(try rig.device.ttmBOEvict(v, TTMOperationContext()) == 0)
    #expect(v.resource.memType == .system && v.tt.isPopulated)
    #expect(try rig.device.ttmBOEvict(v, TTMOperationContext()) == Errno.EBUSY.negated, "system has nowhere to go")
    // Back to VRAM: full with w, which is evicted in turn.
    #expect(try rig.device.ttmBOValidate(v, to: .vram, TTMOperationContext()) == 0)
    #expect(v.ttm == nil && w.resource.memType == .tt)
    #expect(rig.device.checkContent(v, seed: 4).isEmpty)
    #expect(rig.device.vramPagesUsed == 8)
    let audit = try rig.teardown([v, w])
    #expect(audit.isClean, "\(audit)")
    #expect(rig.device.vramPagesUsed == 0)
  }
}
