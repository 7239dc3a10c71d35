import BOCore
import KernelTrees
import ModelTestSupport
import Patches
import ShmemBackupV14Model
import Testing

/// shmem-backup-v14: the legacy all-or-nothing `ttm_tt_swapout()` (before) against the
/// page-by-page `ttm_pool_backup()` (after). Every test runs both variants and states what
/// each must do, so swapping the variants fails it.
@Suite(
  "shmem-backup-v14: page-by-page backup replaces the all-or-nothing swapout",
  .tags(.shmemBackupV14),
  .bug(
    "https://git.kernel.org/torvalds/c/e7b5d23e5d4705ae93ef6af891b7b7bcccbe1257",
    id: "e7b5d23e5d47", "drm/ttm: Provide a shmem backup implementation"))
struct ShmemBackupV14Tests {
  /// A tt size and the largest order the pool allocates it in.
  struct Shape: CustomTestStringConvertible, Sendable {
    let pages: Int
    let order: Int
    var testDescription: String { "\(pages) pages, order \(order)" }
  }

  static let shapes = [
    Shape(pages: 1, order: 0), Shape(pages: 16, order: 0), Shape(pages: 16, order: 2),
    Shape(pages: 256, order: 4), Shape(pages: 512, order: 9),
  ]

  // MARK: Peak memory

  /// Legacy swapout copies the whole tt into shmem before it frees anything, so memory in use
  /// peaks at a full second copy; v14 splits, copies one page and frees it, so the peak is one
  /// page above the start. With writeback (v14 only; legacy has no such flag) the copies go
  /// to swap at once and memory in use drops by the tt's size.
  @Test(
    "Peak memory in use during swapout: legacy holds a second copy, v14 one page",
    arguments: Variant.allCases, shapes)
  func peakMemory(variant: Variant, shape: Shape) throws {
    for writeback in [false, true] {
      let rig = TTMRig(ShmemBackupV14.self, variant, memory: 4096, swap: 4096, poolOrder: shape.order)
      let bo = try rig.filledBO(pages: shape.pages)
      let start = rig.machine.mem.pagesInUse
      rig.machine.resetPeakPagesInUse()
      let ret = try rig.device.swapout(bo, flags: TTMBackupFlags(writeback: writeback))
      #expect(ret == shape.pages)
      let extra = rig.machine.mem.peakPagesInUse - start
      let settled = rig.machine.mem.pagesInUse - start
      switch variant {
      case .before:
        #expect(extra == shape.pages, "legacy: a full second copy (writeback \(writeback))")
        #expect(settled == 0)
        #expect(rig.machine.swap.slotsInUse == 0)
        #expect(bo.tt.isSwapped && !bo.tt.isBackedUp)
      case .after:
        #expect(extra == 1, "v14: one page in flight (writeback \(writeback))")
        #expect(settled == (writeback ? -shape.pages : 0))
        #expect(rig.machine.swap.slotsInUse == (writeback ? shape.pages : 0))
        #expect(bo.tt.isBackedUp && !bo.tt.isSwapped)
        #expect(bo.tt.slotCounts.handles == shape.pages)
      }
      #expect(rig.machine.vmstat.bytesCopied == shape.pages * PAGE_SIZE, "both copy every page once")
      #expect(try rig.device.populate(bo) == 0)
      #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
      let audit = try rig.teardown([bo])
      #expect(audit.isClean, "\(audit)")
    }
  }

  // MARK: Progress under pressure

  /// What limits the swapout.
  enum Pressure: CustomTestStringConvertible, Sendable {
    /// `free` pages left free, the rest held by a bystander task; `swap` swap slots.
    case memory(free: Int, swap: Int)
    /// Plenty of memory, but `fail_page_alloc` fails the `k`-th allocation.
    case failAlloc(k: Int)
    /// Plenty of memory, `backup_fault_inject` armed.
    case backupFaultInject

    var testDescription: String {
      switch self {
      case .memory(let free, let swap): "\(free) free pages, \(swap) swap slots"
      case .failAlloc(let k): "allocation \(k) fails"
      case .backupFaultInject: "backup_fault_inject"
      }
    }
  }

  /// What a swapout achieved.
  enum Progress: Equatable, CustomStringConvertible {
    /// Every page swapped out or backed up.
    case all
    /// Nothing: the tt is fully populated as before, with this error.
    case nothing(Errno)
    /// The first `n` pages are handles, the rest still resident.
    case prefix(Int)

    var description: String {
      switch self {
      case .all: "all"
      case .nothing(let err): "nothing (\(err))"
      case .prefix(let n): "prefix of \(n)"
      }
    }
  }

  static let n = 32

  static let pressures: [Pressure] = [
    .memory(free: 0, swap: 0), .memory(free: 1, swap: 0), .memory(free: n - 1, swap: 0), .memory(free: n, swap: 0),
    .memory(free: 0, swap: 4 * n), .memory(free: 1, swap: 4 * n), .memory(free: n / 2, swap: 4 * n),
    .memory(free: 2 * n, swap: 4 * n), .failAlloc(k: 1), .failAlloc(k: 5), .failAlloc(k: n), .backupFaultInject,
  ]

  /// The expected outcome, from the code of each side:
  /// - legacy, no swap: the copies must fit in RAM; short of that the `GFP_KERNEL` allocation
  ///   OOM-kills the bystander and then everything is copied;
  /// - legacy with swap: reclaim writes the copies already made to swap, so one free page is
  ///   enough; with none, the first allocation OOM-kills;
  /// - legacy with a failed allocation: the file is dropped, nothing happens (all or nothing),
  ///   and `ttm_bo_swapout_cb()` turns `ttm_tt_swapout()`'s -ENOMEM into -EBUSY ("Consider
  ///   -ENOMEM and -ENOSPC non-fatal", 6.12 and 6.18; 5.15's `ttm_bo_swapout()` returned the
  ///   -ENOMEM); `backup_fault_inject` does not exist there;
  /// - v14 without swap: -EBUSY before touching anything (`ttm_backup_bytes_avail()`);
  /// - v14 with swap: each page frees the page it used, so one free page is enough; with none,
  ///   the `__GFP_RETRY_MAYFAIL` allocation fails without a kill and `ttm_bo_shrink()` turns
  ///   the -ENOMEM into -EBUSY;
  /// - v14 with the k-th allocation failing: the k-1 pages before it stay backed up;
  /// - v14 with `backup_fault_inject`: half the pages, rounded up.
  static func expected(_ variant: Variant, _ pressure: Pressure) -> (progress: Progress, kill: Bool) {
    switch (variant, pressure) {
    case (.before, .memory(let free, let swap)):
      return (.all, swap == 0 ? free < n : free == 0)
    case (.before, .failAlloc):
      return (.nothing(.EBUSY), false)
    case (.before, .backupFaultInject):
      return (.all, false)
    case (.after, .memory(let free, let swap)):
      return (swap == 0 || free == 0 ? .nothing(.EBUSY) : .all, false)
    case (.after, .failAlloc(let k)):
      return (k == 1 ? .nothing(.EBUSY) : .prefix(k - 1), false)
    case (.after, .backupFaultInject):
      return (.prefix((n + 1) / 2), false)
    }
  }

  @Test(
    "Progress under pressure: legacy all or nothing (or an OOM kill), v14 a prefix restore brings back",
    arguments: Variant.allCases, pressures)
  func progressUnderPressure(variant: Variant, pressure: Pressure) throws {
    let n = Self.n
    let swap: Int
    if case .memory(_, let s) = pressure { swap = s } else { swap = 4 * n }
    let rig = TTMRig(ShmemBackupV14.self, variant, memory: 1024, swap: swap)
    let bo = try rig.filledBO(pages: n)
    let chrome: PID
    switch pressure {
    case .memory(let free, _):
      chrome = try rig.leaveFree(free)
    case .failAlloc(let k):
      chrome = try rig.leaveFree(4 * n)
      rig.machine.failPageAllocFilter = .none
      rig.machine.faults.arm(.failPageAlloc, .nth(k))
    case .backupFaultInject:
      chrome = try rig.leaveFree(4 * n)
      rig.machine.faults.arm(.backupFaultInject, .nth(1))
    }
    let ret = try rig.device.swapout(bo)
    rig.machine.faults.disarm(.failPageAlloc)
    rig.machine.faults.disarm(.backupFaultInject)

    let (progress, kill) = Self.expected(variant, pressure)
    let slots = bo.tt.slotCounts
    switch progress {
    case .all:
      #expect(ret == n)
      #expect(slots.pages == 0)
    case .nothing(let err):
      #expect(ret == err.negated, "returned \(kernelReturnDescription(ret))")
      #expect(bo.tt.isPopulated && slots.pages == n)
      #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
    case .prefix(let k):
      #expect(ret == k)
      #expect(bo.tt.pages.prefix(k).allSatisfy { if case .handle = $0 { true } else { false } })
      #expect(bo.tt.pages.dropFirst(k).allSatisfy { if case .page = $0 { true } else { false } })
    }
    #expect(rig.machine.vmstat.oomKill == (kill ? 1 : 0))
    #expect((rig.machine.task(chrome)?.isOOMVictim ?? false) == kill)

    // Whatever happened, the content comes back once memory is available again.
    if !kill { rig.machine.exitTask(chrome) }
    #expect(try rig.device.populate(bo) == 0)
    #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
    let audit = try rig.teardown([bo])
    #expect(audit.isClean, "\(audit)")
  }

  // MARK: OOM exposure

  /// Legacy swapout allocates its shmem pages with the caller's `GFP_KERNEL` masked by the
  /// mapping (still `GFP_KERNEL`): an allocation the OOM killer serves. v14 allocates with
  /// `GFP_KERNEL | __GFP_HIGH | __GFP_NOWARN | __GFP_RETRY_MAYFAIL`, which may dip into the
  /// min reserve but never kills. With no free page at all, the legacy path kills the
  /// bystander; v14 gives up quietly.
  @Test(
    "OOM exposure: which gfp each path allocates with, and what the allocator does with it",
    arguments: Variant.allCases)
  func oomExposure(variant: Variant) throws {
    let rig = TTMRig(ShmemBackupV14.self, variant, memory: 512, swap: 512)
    let bo = try rig.filledBO(pages: 8)
    let chrome = try rig.leaveFree(0)
    rig.machine.allocationTrace = []
    let ret = try rig.device.swapout(bo)
    let shmemAllocs = (rig.machine.allocationTrace ?? []).filter {
      if case .shmem = $0.owner { true } else { false }
    }
    try #require(!shmemAllocs.isEmpty)
    let expectedGFP: GFP =
      variant == .before ? .GFP_KERNEL : [.GFP_KERNEL, .__GFP_HIGH, .__GFP_NOWARN, .__GFP_RETRY_MAYFAIL]
    // shmem allocates the folio with folio_alloc(), which adds __GFP_COMP.
    #expect(shmemAllocs.allSatisfy { $0.gfp == expectedGFP.union(.__GFP_COMP) }, "\(shmemAllocs)")
    #expect(expectedGFP.hexString == (variant == .before ? "0xcc0" : "0x6ce0"))
    #expect(expectedGFP.mayInvokeOOMKiller(order: 0) == (variant == .before))
    switch variant {
    case .before:
      #expect(ret == 8)
      #expect(rig.machine.vmstat.oomKill == 1)
      #expect(!rig.machine.dmesg.grep("Out of memory: Killed process \(chrome) (chrome)").isEmpty)
    case .after:
      #expect(ret == Errno.EBUSY.negated)
      #expect(rig.machine.vmstat.oomKill == 0)
      #expect(rig.machine.dmesg.grep("page allocation failure").isEmpty, "__GFP_NOWARN")
      #expect(bo.tt.isPopulated)
      rig.machine.exitTask(chrome)
    }
    #expect(try rig.device.populate(bo) == 0)
    #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
    let audit = try rig.teardown([bo])
    #expect(audit.isClean, "\(audit)")
  }

  // MARK: Purge

  /// v14 can purge: the pages are freed at their order without a copy and the content is
  /// gone (the BO is repopulated with fresh pages). Legacy swapout has no purge: it copies
  /// everything and the content survives.
  @Test("Purge frees without copying in v14; legacy always copies", arguments: Variant.allCases, [0, 3])
  func purge(variant: Variant, order: Int) throws {
    let rig = TTMRig(ShmemBackupV14.self, variant, memory: 1024, swap: 1024, poolOrder: order)
    let bo = try rig.filledBO(pages: 64)
    bo.purgeable = true
    let copiedBefore = rig.machine.vmstat.bytesCopied
    let inUse = rig.machine.mem.pagesInUse
    let ret = try rig.device.swapout(bo, flags: TTMBackupFlags(purge: true))
    #expect(ret == 64)
    let copied = rig.machine.vmstat.bytesCopied - copiedBefore
    switch variant {
    case .before:
      #expect(copied == 64 * PAGE_SIZE)
      #expect(rig.machine.mem.pagesInUse == inUse)
    case .after:
      #expect(copied == 0)
      #expect(rig.machine.mem.pagesInUse == inUse - 64)
      #expect(bo.tt.slotCounts.null == 64)
    }
    #expect(try rig.device.populate(bo) == 0)
    #expect(rig.device.checkContent(bo, seed: 7).isEmpty == (variant == .before))
    let audit = try rig.teardown([bo])
    #expect(audit.isClean, "\(audit)")
  }

  // MARK: Restore

  /// v14's restore keeps its state across an error and resumes: `backup_fault_inject` on an
  /// interruptible context makes `ttm_pool_restore_commit()` return -EINTR after some pages
  /// are back; the next populate finishes. Legacy swapin has no such point and completes in
  /// one go.
  @Test("An interrupted restore resumes where it stopped", arguments: Variant.allCases, [1, 3, 8])
  func resumableRestore(variant: Variant, failAt: Int) throws {
    let rig = TTMRig(ShmemBackupV14.self, variant, memory: 1024, swap: 1024)
    let bo = try rig.filledBO(pages: 8)
    #expect(try rig.device.swapout(bo) == 8)
    rig.machine.faults.arm(.backupFaultInject, .nth(failAt))
    let first = try rig.device.populate(bo, TTMOperationContext(interruptible: true))
    rig.machine.faults.disarm(.backupFaultInject)
    switch variant {
    case .before:
      #expect(first == 0)
    case .after:
      #expect(first == Errno.EINTR.negated)
      #expect(bo.tt.restore != nil && bo.tt.isBackedUp && !bo.tt.isPopulated)
      // Pages before the failing one are back (handle 0 marks them); the rest still handles.
      #expect(bo.tt.slotCounts.handles == 8 - (failAt - 1))
      #expect(try rig.device.populate(bo, TTMOperationContext(interruptible: true)) == 0)
      #expect(bo.tt.restore == nil)
    }
    #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
    let audit = try rig.teardown([bo])
    #expect(audit.isClean, "\(audit)")
  }

  /// A tt dropped in the middle of a restore leaves nothing behind: the half-restored page,
  /// the restored pages, the handles still in shmem and the restore state are all freed
  /// (`ttm_pool_drop_backed_up()`). The legacy swapin has no fault point and no restore
  /// state: it completes at once, and teardown is clean too.
  @Test("Dropping a half-restored tt frees everything", arguments: Variant.allCases)
  func dropHalfRestored(variant: Variant) throws {
    let rig = TTMRig(ShmemBackupV14.self, variant, memory: 1024, swap: 1024, poolOrder: 2)
    let bo = try rig.filledBO(pages: 16)
    #expect(try rig.device.swapout(bo, flags: TTMBackupFlags(writeback: true)) == 16)
    rig.machine.faults.arm(.backupFaultInject, .nth(6))
    let ret = try rig.device.populate(bo, TTMOperationContext(interruptible: true))
    switch variant {
    case .before:
      #expect(ret == 0)
      #expect(bo.tt.restore == nil && bo.tt.isPopulated)
      #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
    case .after:
      #expect(ret == Errno.EINTR.negated)
      #expect(bo.tt.restore != nil && !bo.tt.isPopulated)
    }
    let audit = try rig.teardown([bo])
    #expect(audit.isClean, "\(audit)")
  }
}
