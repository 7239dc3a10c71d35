import BOCore
import KernelTrees
import ModelTestSupport
import Patches
import Testing
import ZeroCopyInsertFolioModel

/// zero-copy-insert-folio: `ttm_pool_backup()` hands whole pool pages to shmem instead of
/// splitting them and copying each 4 KiB page into a freshly allocated shmem page. Both
/// variants run on a v14 tree; every test states the outcome of each.
@Suite(
  "zero-copy-insert-folio: backup without allocating or copying",
  .tags(.zeroCopyInsertFolio),
  .bug(
    "https://lore.kernel.org/dri-devel/20260512110339.6244-3-thomas.hellstrom@linux.intel.com/",
    id: "20260512110339.6244-3", "drm/ttm: Use ttm_backup_insert_folio() for zero-copy swapout (not merged)"))
struct ZeroCopyInsertFolioTests {
  static let pages = 512

  /// The shmem allocations and bytes copied during one backup.
  struct BackupCost {
    var ret: Int
    var allocations: Int
    var bytesCopied: Int
  }

  /// Fills a BO of ``pages`` pages at `order`, backs it up, and reports the cost.
  func backUp(_ rig: TTMRig, order: Int, writeback: Bool) throws -> (TTMBufferObject, BackupCost) {
    let bo = try rig.filledBO(pages: Self.pages)
    rig.machine.allocationTrace = []
    let copied = rig.machine.vmstat.bytesCopied
    let ret = try rig.device.swapout(bo, flags: TTMBackupFlags(writeback: writeback))
    let cost = BackupCost(
      ret: ret, allocations: rig.machine.allocationTrace?.count ?? 0,
      bytesCopied: rig.machine.vmstat.bytesCopied - copied)
    rig.machine.allocationTrace = nil
    return (bo, cost)
  }

  struct Setting: CustomTestStringConvertible, Sendable {
    let order: Int
    let writeback: Bool
    let largeFolios: Bool
    var testDescription: String {
      "order \(order)\(writeback ? ", writeback" : "")\(largeFolios ? ", large folios" : ", small folios only")"
    }
  }

  static let settings: [Setting] = (0...9).flatMap { order in
    [false, true].flatMap { writeback in
      [false, true].map { Setting(order: order, writeback: writeback, largeFolios: $0) }
    }
  }

  /// Before: one shmem allocation and one 4 KiB copy per page (with a mapping that takes only
  /// small folios; large folios need fewer allocations but the same copies). After: nothing
  /// allocated, nothing copied. Both leave the same handle layout (slot i holds handle i + 1)
  /// and `NR_GPU_ACTIVE` at 0, and the content comes back intact.
  @Test("Allocations and bytes copied during backup", arguments: settings)
  func cost(setting: Setting) throws {
    let n = Self.pages
    for variant in Variant.allCases {
      let rig = TTMRig(
        ZeroCopyInsertFolio.self, variant, memory: 4 * n, swap: 2 * n, poolOrder: setting.order,
        shmemLargeFolioOrder: setting.largeFolios ? MAX_PAGE_ORDER : 0)
      let (bo, cost) = try backUp(rig, order: setting.order, writeback: setting.writeback)
      #expect(cost.ret == n)
      switch variant {
      case .before:
        #expect(cost.bytesCopied == n * PAGE_SIZE)
        if setting.largeFolios {
          #expect(cost.allocations == 1, "one order-9 shmem folio holds all 512 pages")
        } else {
          #expect(cost.allocations == n, "one page per page")
        }
      case .after:
        #expect(cost.bytesCopied == 0)
        #expect(cost.allocations == 0)
      }
      #expect(bo.tt.pages.enumerated().allSatisfy { $0.element == .handle(UInt($0.offset + 1)) }, "handle layout")
      #expect(rig.machine.vmstat.nrGPUActive == 0)
      #expect(try rig.device.populate(bo) == 0)
      #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
      let audit = try rig.teardown([bo])
      #expect(audit.isClean, "\(variant): \(audit)")
    }
  }

  /// With a mapping that takes large folios, the whole pool page becomes one compound folio
  /// in the page cache; with one that takes only small folios, every higher-order insert is
  /// refused (a named, UNVERIFIED assumption, logged as such), the page is split and its
  /// pages are inserted one by one: still no allocation and no copy.
  /// The v14 loop never inserts: it splits every block and copies, whatever the mapping
  /// takes, so it logs no refusal and copies every page.
  @Test("A refused higher-order insert falls back to order 0", arguments: Variant.allCases, [1, 4, 9])
  func fallback(variant: Variant, order: Int) throws {
    for largeFolios in [true, false] {
      let rig = TTMRig(
        ZeroCopyInsertFolio.self, variant, memory: 4096, swap: 4096, poolOrder: order,
        shmemLargeFolioOrder: largeFolios ? order : 0)
      let (bo, cost) = try backUp(rig, order: order, writeback: false)
      #expect(cost.ret == Self.pages)
      #expect(cost.bytesCopied == (variant == .before ? Self.pages * PAGE_SIZE : 0))
      #expect((cost.allocations == 0) == (variant == .after))
      let notes = rig.machine.dmesg.grep("[assumption, UNVERIFIED] shmem_insert_folio(): order \(order) refused")
      let blocks = Self.pages >> order
      #expect(notes.count == (largeFolios || variant == .before ? 0 : blocks))
      let backup = try #require(bo.tt.backup)
      guard case .folio(let head)? = rig.machine.shmemEntry(backup, 0) else {
        Issue.record("index 0 is not in the page cache")
        return
      }
      // After, the pool block itself; before, the folio shmem allocated for the copy.
      #expect(rig.machine.folioNrPages(head) == (largeFolios ? 1 << order : 1))
      #expect(try rig.device.populate(bo) == 0)
      #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
      #expect(try rig.teardown([bo]).isClean)
    }
  }

  /// With no free page at all, the copy needs a page it cannot get: the v14 loop backs up
  /// nothing (`__GFP_RETRY_MAYFAIL` fails, `ttm_bo_shrink()` reports -EBUSY). One free page is
  /// enough for it (each copy's page comes back when the pool page is freed). The insert needs
  /// none at any level: everything is backed up, and with writeback the pages go to swap, so
  /// memory is actually freed. At zero that rests on an assumption the output names: the
  /// model does not charge the page cache's xarray nodes to memory. Nobody is OOM-killed.
  @Test(
    "Progress with little or no free memory", arguments: Variant.allCases,
    [0, 4, 9].flatMap { order in [0, 1, 64].map { (order: order, free: $0) } })
  func noFreeMemory(variant: Variant, setting: (order: Int, free: Int)) throws {
    let (order, free) = setting
    let n = Self.pages
    let rig = TTMRig(ZeroCopyInsertFolio.self, variant, memory: 4 * n, swap: 2 * n, poolOrder: order)
    let bo = try rig.filledBO(pages: n)
    let chrome = try rig.leaveFree(free)
    rig.machine.allocationTrace = []
    let ret = try rig.device.swapout(bo, flags: TTMBackupFlags(writeback: true))
    let allocations = rig.machine.allocationTrace?.count ?? -1
    let note = rig.machine.dmesg.grep("[assumption, UNVERIFIED] shmem_insert_folio(): inserting with no free page")
    switch (variant, free) {
    case (.before, 0):
      #expect(ret == Errno.EBUSY.negated)
      #expect(bo.tt.isPopulated && rig.machine.mem.nrFreePages == 0)
    case (.before, _):
      #expect(ret == n)
      #expect(allocations == n, "one page per page")
      #expect(rig.machine.mem.nrFreePages == free + n)
    case (.after, _):
      #expect(ret == n)
      #expect(allocations == 0)
      // Small folios only (the default): every page is inserted on its own and written out.
      #expect(rig.machine.mem.nrFreePages == free + n)
      #expect(rig.machine.swap.slotsInUse == n)
    }
    #expect(note.count == (variant == .after && free == 0 ? 1 : 0))
    #expect(rig.machine.vmstat.oomKill == 0)
    rig.machine.exitTask(chrome)
    #expect(try rig.device.populate(bo) == 0)
    #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
    #expect(try rig.teardown([bo]).isClean)
  }

  /// `backup_fault_inject` backs up half the pages. The v14 loop splits, so it stops exactly
  /// at the half; the zero-copy loop stops before a compound page the half would cut in two,
  /// and with one 16-page block first in a 24-page tt it backs up nothing at all.
  @Test(
    "backup_fault_inject: half the pages, or up to the last whole compound page",
    arguments: [(pages: 24, order: 4, after: 0), (pages: 32, order: 3, after: 16), (pages: 24, order: 0, after: 12)])
  func halfBackup(pages: Int, order: Int, after: Int) throws {
    for variant in Variant.allCases {
      let rig = TTMRig(ZeroCopyInsertFolio.self, variant, memory: 1024, swap: 1024, poolOrder: order)
      let bo = try rig.filledBO(pages: pages)
      rig.machine.faults.arm(.backupFaultInject, .nth(1))
      let ret = try rig.device.swapout(bo)
      let expected = variant == .before ? (pages + 1) / 2 : after
      #expect(ret == expected, "\(variant)")
      #expect(bo.tt.slotCounts.handles == expected)
      #expect(bo.tt.isBackedUp == (expected > 0))
      #expect(try rig.device.populate(bo) == 0)
      #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
      #expect(try rig.teardown([bo]).isClean)
    }
  }

  /// The page cache's bookkeeping allocation failing (the model-only `xas_nomem` point, an
  /// UNVERIFIED assumption) on the k-th insert: at order 0 the loop stops with a prefix; at a
  /// higher order the page is split and its pages are inserted one by one. The v14 loop has
  /// no insert, so the point is never reached and everything is backed up.
  @Test("A failed insert: a prefix at order 0, the split path above", arguments: [0, 3])
  func failedInsert(order: Int) throws {
    let k = 5
    for variant in Variant.allCases {
      let rig = TTMRig(
        ZeroCopyInsertFolio.self, variant, memory: 1024, swap: 1024, poolOrder: order, shmemLargeFolioOrder: order)
      let bo = try rig.filledBO(pages: 64)
      rig.machine.faults.arm(.shmemInsertNode, .nth(k))
      let ret = try rig.device.swapout(bo)
      switch (variant, order) {
      case (.after, 0): #expect(ret == k - 1)
      default: #expect(ret == 64)
      }
      #expect(rig.machine.faults.calls(.shmemInsertNode) == (variant == .before ? 0 : order == 0 ? k : 64 / 8 + 8))
      #expect(try rig.device.populate(bo) == 0)
      #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
      #expect(try rig.teardown([bo]).isClean)
    }
  }

  /// A second attempt on a partially backed-up tt: `ttm_tt_backup()` refuses it in both
  /// variants (`WARN_ON(ttm_tt_is_backed_up(tt))`, -EINVAL, reported as -EBUSY). If a tt holding
  /// handles reaches `ttm_pool_backup()` unflagged (constructed here; in the kernel through the
  /// stale-restore state "Drop tt->restore" fixes), the v14 loop takes a handle for a page
  /// and oopses, while the zero-copy loop skips the handles and backs up the rest.
  @Test("A second attempt after a partial one", arguments: Variant.allCases)
  func secondAttempt(variant: Variant) throws {
    let rig = TTMRig(ZeroCopyInsertFolio.self, variant, memory: 1024, swap: 1024)
    let bo = try rig.filledBO(pages: 16)
    rig.machine.failPageAllocFilter = .none
    rig.machine.faults.arm(variant == .before ? .failPageAlloc : .shmemInsertNode, .nth(7))
    #expect(try rig.device.swapout(bo) == 6)
    rig.machine.faults.disarm(.failPageAlloc)
    rig.machine.faults.disarm(.shmemInsertNode)
    #expect(try rig.device.swapout(bo) == Errno.EBUSY.negated)
    #expect(!rig.machine.dmesg.grep("WARN_ON(ttm_tt_is_backed_up(tt)) in ttm_pool_backup()").isEmpty)
    // Constructed: the tt looks populated although six slots hold handles.
    bo.tt.pageFlags.remove(.BACKED_UP)
    bo.tt.pageFlags.insert(.PRIV_POPULATED)
    switch variant {
    case .before:
      #expect(throws: KernelHalt.self) { try rig.device.swapout(bo) }
    case .after:
      #expect(try rig.device.swapout(bo) == 10)
      #expect(bo.tt.slotCounts.handles == 16)
      #expect(try rig.device.populate(bo) == 0)
      #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
      #expect(try rig.teardown([bo]).isClean)
    }
  }
}
