import BOCore
import GFPRetryMayfailReadbackModel
import KernelTrees
import ModelTestSupport
import Patches
import Testing

/// gfp-retry-mayfail-readback: with `ctx->gfp_retry_mayfail`, the swap-in readback of a
/// restore fails with -ENOMEM instead of OOM-killing a bystander. Both variants run on a v14
/// tree; every case states the outcome of each.
@Suite(
  "gfp-retry-mayfail-readback: readback honours gfp_retry_mayfail",
  .tags(.gfpRetryMayfailReadback),
  .bug(
    "https://git.kernel.org/torvalds/c/c6135f67aa37a4a744869f726d706bda091e6dfa",
    id: "c6135f67aa37", "drm/ttm: Avoid invoking the OOM killer when reading back swapped content"))
struct GFPRetryMayfailReadbackTests {
  /// The allocation the memory pressure hits first during the restore.
  enum PressurePoint: String, CaseIterable, Sendable {
    /// `kzalloc()` of `struct ttm_pool_tt_restore`.
    case restoreState = "restore-state allocation"
    /// The fresh page `__ttm_pool_alloc()` allocates.
    case pageAllocation = "page allocation"
    /// The swap-in folio `ttm_backup_copy_page()` reads into.
    case readback = "swap-in readback"
  }

  /// Where the backed-up content is when the restore starts.
  enum Residence: String, CaseIterable, Sendable {
    /// Written to swap (backup with writeback).
    case swap
    /// Still in the shmem page cache.
    case pageCache = "page cache"
  }

  struct Case: CustomTestStringConvertible, Sendable {
    var retryMayfail: Bool
    var point: PressurePoint
    var residence: Residence
    var interruptible: Bool

    var testDescription: String {
      "gfp_retry_mayfail=\(retryMayfail), pressure on \(point.rawValue), content in \(residence.rawValue)"
        + (interruptible ? ", interruptible" : "")
    }
  }

  /// What a restore under pressure did.
  struct Outcome: Equatable, CustomStringConvertible {
    /// What the first populate returned.
    var ret: Int
    /// Whether the bystander was OOM-killed.
    var killed: Bool
    /// Whether an allocation-failure warning was logged.
    var warned: Bool
    /// Whether the tt kept its restore state after an error.
    var restoreKept: Bool
    /// The gfp of the swap-in allocations, if any.
    var readbackGFP: Set<GFP>

    var description: String {
      "ret \(kernelReturnDescription(ret)), killed \(killed), warned \(warned), restore kept \(restoreKept), readback \(readbackGFP.map(\.description).sorted())"
    }
  }

  static let pages = 4

  /// Runs one restore under pressure and checks what every run must satisfy: once the
  /// pressure is gone the restore completes with intact content, and teardown is clean.
  func run(_ variant: Variant, _ c: Case) throws -> Outcome {
    let rig = TTMRig(GFPRetryMayfailReadback.self, variant, memory: 512, swap: 512)
    let bo = try rig.filledBO(pages: Self.pages)
    #expect(try rig.device.swapout(bo, flags: TTMBackupFlags(writeback: c.residence == .swap)) == Self.pages)
    // Free pages at the start of the restore: the restore state takes one page (model: a
    // fresh slab page), each new tt page one, each swap-in one.
    let free =
      switch c.point {
      case .restoreState: 0
      case .pageAllocation: 1
      case .readback: 2
      }
    let chrome = try rig.leaveFree(free)
    rig.machine.allocationTrace = []
    let ctx = TTMOperationContext(interruptible: c.interruptible, gfpRetryMayfail: c.retryMayfail)
    let ret = try rig.device.populate(bo, ctx)
    let readbacks = (rig.machine.allocationTrace ?? []).filter {
      if case .shmem = $0.owner { true } else { false }
    }
    let outcome = Outcome(
      ret: ret, killed: rig.machine.vmstat.oomKill > 0,
      warned: !rig.machine.dmesg.grep("page allocation failure").isEmpty,
      restoreKept: ret != 0 && bo.tt.restore != nil, readbackGFP: Set(readbacks.map(\.gfp)))
    if ret != 0 {
      #expect(bo.tt.isBackedUp && !bo.tt.isPopulated, "a failed restore leaves the tt backed up")
      if !outcome.killed { rig.machine.exitTask(chrome) }
      #expect(try rig.device.populate(bo, ctx) == 0, "the same restore completes once the pressure is gone")
    }
    #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
    let audit = try rig.teardown([bo])
    #expect(audit.isClean, "\(audit)")
    return outcome
  }

  static let movable = GFP.GFP_HIGHUSER_MOVABLE.union(.__GFP_COMP)
  static let movableMayfail = movable.union([.__GFP_RETRY_MAYFAIL, .__GFP_NOWARN])

  // MARK: The delta

  /// Before: the readback uses the mapping's `GFP_HIGHUSER_MOVABLE`, so under pressure the
  /// allocator OOM-kills the bystander and the restore succeeds. After, with the flag set:
  /// `__GFP_RETRY_MAYFAIL | __GFP_NOWARN`, -ENOMEM, no kill, no warning, the restore state
  /// kept for a later retry.
  @Test("Readback under pressure: OOM kill before, -ENOMEM after", arguments: [false, true])
  func readbackUnderPressure(interruptible: Bool) throws {
    let c = Case(retryMayfail: true, point: .readback, residence: .swap, interruptible: interruptible)
    let before = try run(.before, c)
    #expect(before == Outcome(ret: 0, killed: true, warned: false, restoreKept: false, readbackGFP: [Self.movable]))
    let after = try run(.after, c)
    #expect(
      after
        == Outcome(
          ret: Errno.ENOMEM.negated, killed: false, warned: false, restoreKept: true,
          readbackGFP: [Self.movableMayfail]))
    #expect(Self.movableMayfail.description == "GFP_HIGHUSER_MOVABLE|__GFP_NOWARN|__GFP_RETRY_MAYFAIL|__GFP_COMP")
  }

  /// The kill before the fix, as the log shows it: the readback's gfp, the victim and the
  /// kill line. After it the log holds none of them, and no allocation-failure warning
  /// either; the restore fails with -ENOMEM and completes once chrome has gone.
  @Test("Before the fix the log shows the readback invoking the OOM killer", arguments: Variant.allCases)
  func oomReport(variant: Variant) throws {
    let rig = TTMRig(GFPRetryMayfailReadback.self, variant, memory: 512, swap: 512)
    let bo = try rig.filledBO(pages: 1)
    #expect(try rig.device.swapout(bo, flags: TTMBackupFlags(writeback: true)) == 1)
    let chrome = try rig.leaveFree(2)
    let ret = try rig.device.populate(bo, TTMOperationContext(gfpRetryMayfail: true))
    let invoked = rig.machine.dmesg.grep(
      "bo-repro invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0")
    let killed = rig.machine.dmesg.grep("Out of memory: Killed process \(chrome) (chrome)")
    switch variant {
    case .before:
      #expect(ret == 0)
      #expect(!invoked.isEmpty, "\(rig.machine.dmesg.rendered)")
      #expect(!killed.isEmpty)
    case .after:
      #expect(ret == Errno.ENOMEM.negated)
      #expect(rig.machine.dmesg.grep("invoked oom-killer").isEmpty && killed.isEmpty)
      #expect(rig.machine.dmesg.grep("page allocation failure").isEmpty, "__GFP_NOWARN: no warning")
      rig.machine.exitTask(chrome)
      #expect(try rig.device.populate(bo, TTMOperationContext(gfpRetryMayfail: true)) == 0)
    }
    #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
    #expect(try rig.teardown([bo]).isClean)
  }

  // MARK: No change

  static let unchanged: [Case] =
    [false, true].flatMap { interruptible in
      [
        // Flag clear: the readback gfp is the mapping's, as before.
        Case(retryMayfail: false, point: .readback, residence: .swap, interruptible: interruptible),
        Case(retryMayfail: false, point: .pageAllocation, residence: .swap, interruptible: interruptible),
        Case(retryMayfail: false, point: .restoreState, residence: .swap, interruptible: interruptible),
        // Content still in the page cache: the readback allocates nothing.
        Case(retryMayfail: true, point: .readback, residence: .pageCache, interruptible: interruptible),
        Case(retryMayfail: false, point: .readback, residence: .pageCache, interruptible: interruptible),
        // Pressure on allocations that honoured the flag before the patch.
        Case(retryMayfail: true, point: .pageAllocation, residence: .swap, interruptible: interruptible),
        Case(retryMayfail: true, point: .restoreState, residence: .swap, interruptible: interruptible),
      ]
    }

  /// The cases the patch promises not to change: both variants behave alike, and the way the
  /// allocator's decision table says.
  @Test("No change where the patch promises none", arguments: unchanged)
  func noChange(c: Case) throws {
    let before = try run(.before, c)
    let after = try run(.after, c)
    #expect(before.ret == after.ret && before.killed == after.killed && before.warned == after.warned)
    #expect(before.restoreKept == after.restoreKept)
    switch (c.retryMayfail, c.residence, c.point) {
    case (_, .pageCache, _):
      #expect(before.ret == 0 && !before.killed)
      #expect(before.readbackGFP.isEmpty && after.readbackGFP.isEmpty, "nothing to read in")
    case (false, _, _):
      #expect(before.ret == 0 && before.killed, "an OOM kill serves a plain allocation")
      #expect(before.readbackGFP == after.readbackGFP, "same readback gfp without the flag")
    case (true, _, .restoreState):
      #expect(before.ret == Errno.ENOMEM.negated && !before.killed && !before.restoreKept)
    case (true, _, _):
      #expect(before.ret == Errno.ENOMEM.negated && !before.killed && before.restoreKept)
    }
    #expect(!before.warned, "every allocation here is __GFP_NOWARN or succeeds")
  }

  /// With idle BOs around, reclaim backs them up through the BO shrinker and the readback
  /// gets its page without a kill, whichever gfp it uses.
  @Test("Idle BOs for the shrinker: reclaim succeeds and nobody is killed", arguments: Variant.allCases)
  func shrinkerMakesRoom(variant: Variant) throws {
    let rig = TTMRig(GFPRetryMayfailReadback.self, variant, memory: 512, swap: 512, watermarks: Watermarks(min: 8))
    let bo = try rig.filledBO(pages: Self.pages, seed: 7)
    #expect(try rig.device.swapout(bo, flags: TTMBackupFlags(writeback: true)) == Self.pages)
    let idle = try (0..<6).map { try rig.filledBO(pages: 8, seed: 100 + UInt64($0)) }
    // Two pages above the min watermark: the restore state and the first page get through on
    // the min watermark, the readback does not.
    let chrome = try rig.leaveFree(rig.machine.mem.watermarks.min + 2)
    #expect(try rig.device.populate(bo, TTMOperationContext(gfpRetryMayfail: true)) == 0)
    #expect(rig.machine.vmstat.oomKill == 0)
    #expect(idle.contains { $0.tt.isBackedUp }, "the shrinker backed up an idle BO")
    #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
    rig.machine.exitTask(chrome)
    for (i, other) in idle.enumerated() {
      #expect(try rig.device.populate(other) == 0)
      #expect(rig.device.checkContent(other, seed: 100 + UInt64(i)).isEmpty, "idle BO \(i) restored intact")
    }
    let audit = try rig.teardown([bo] + idle)
    #expect(audit.isClean, "\(audit)")
  }
}
