/// The event counters behind ``ModelStatistics``, bumped where the modelled kernel code does
/// the thing counted. Gauges (page-cache pages, swap entries in use) are read from the machine
/// when a snapshot is taken.
struct StatisticsCounters: Hashable, Sendable {
  /// Successful `alloc_pages()` calls per order.
  var allocationsPerOrder = [Int](repeating: 0, count: MAX_PAGE_ORDER + 1)
  /// `alloc_pages()` calls that returned NULL.
  var allocationFailures = 0
  /// `copy_highpage()` calls.
  var pagesCopied = 0
  /// `split_page()` calls.
  var splits = 0
  /// Successful `shmem_insert_folio()` calls, and the 4 KiB pages they handed over.
  var shmemFoliosInserted = 0
  var shmemPagesInserted = 0
  /// `ttm_backup_handle_to_page_ptr()` of a live handle (not 0) stored in a page array.
  var handlesCreated = 0
  /// `ttm_backup_drop()` calls.
  var handlesDropped = 0
  /// Swap entries allocated (`folio_alloc_swap()` successes).
  var swapEntriesAllocated = 0
  /// The comm of each OOM victim, in order.
  var oomVictims: [String] = []
  /// Direct-reclaim passes (`__perform_reclaim()` entries; `allocstall`).
  var reclaimPasses = 0
  /// `scan_objects()` calls reclaim made (`do_shrink_slab()` batches).
  var shrinkerScans = 0
  /// Coherent DMA allocations (`dma_alloc_attrs()` successes) and frees.
  var dmaAllocations = 0
  var dmaFrees = 0
}

/// The counters a reviewer asks about, in one value: what was allocated, copied, split,
/// inserted, backed up and dropped, what went to swap, whom the OOM killer took, how often
/// reclaim ran, and what sits in the page cache.
///
/// Take one with ``Machine/statistics`` and compare two with ``since(_:)``: event counts are
/// differences, gauges (``pageCachePages``, ``swapEntriesInUse``, ``gpuActivePages``) are the
/// later value. The counters are the model's; only ``oomKills`` (`oom_kill`),
/// ``reclaimPasses`` (`allocstall`) and ``swapEntriesWritten`` (`pswpout`) have a
/// `/proc/vmstat` twin.
public struct ModelStatistics: Hashable, Sendable, CustomStringConvertible {
  /// Successful `alloc_pages()` calls at each order (index = order); each gave
  /// `1 << order` pages.
  public var allocationsPerOrder: [Int]
  /// `alloc_pages()` calls that returned NULL.
  public var allocationFailures: Int
  /// `copy_highpage()` calls: 4 KiB pages copied page to page.
  public var pagesCopied: Int
  /// Bytes those copies moved.
  public var bytesCopied: Int
  /// `split_page()` calls.
  public var splits: Int
  /// Successful `shmem_insert_folio()` calls (zero-copy backup).
  public var shmemFoliosInserted: Int
  /// 4 KiB pages those inserts handed to shmem.
  public var shmemPagesInserted: Int
  /// Backup handles stored in page arrays (`ttm_backup_handle_to_page_ptr()` of a live
  /// handle).
  public var handlesCreated: Int
  /// `ttm_backup_drop()` calls.
  public var handlesDropped: Int
  /// Swap entries allocated.
  public var swapEntriesAllocated: Int
  /// Pages written to swap (`pswpout`).
  public var swapEntriesWritten: Int
  /// Swap entries holding data now (gauge).
  public var swapEntriesInUse: Int
  /// OOM kills (`oom_kill`).
  public var oomKills: Int
  /// The comms of the OOM victims, in order.
  public var oomVictims: [String]
  /// Direct-reclaim passes (`allocstall`).
  public var reclaimPasses: Int
  /// `scan_objects()` calls made by reclaim.
  public var shrinkerScans: Int
  /// Coherent DMA allocations (`dma_alloc_attrs()`) that succeeded.
  public var dmaAllocations: Int
  /// `dma_free_attrs()` calls.
  public var dmaFrees: Int
  /// shmem page-cache pages resident now (`NR_SHMEM`, gauge).
  public var pageCachePages: Int
  /// `NR_GPU_ACTIVE` now (gauge).
  public var gpuActivePages: Int

  /// Pages the allocations gave, over every order.
  public var pagesAllocated: Int {
    allocationsPerOrder.enumerated().reduce(0) { $0 + ($1.element << $1.offset) }
  }

  /// The events between `earlier` and this snapshot; gauges keep this snapshot's value.
  public func since(_ earlier: ModelStatistics) -> ModelStatistics {
    var d = self
    d.allocationsPerOrder = zip(allocationsPerOrder, earlier.allocationsPerOrder).map { $0 - $1 }
    d.allocationFailures -= earlier.allocationFailures
    d.pagesCopied -= earlier.pagesCopied
    d.bytesCopied -= earlier.bytesCopied
    d.splits -= earlier.splits
    d.shmemFoliosInserted -= earlier.shmemFoliosInserted
    d.shmemPagesInserted -= earlier.shmemPagesInserted
    d.handlesCreated -= earlier.handlesCreated
    d.handlesDropped -= earlier.handlesDropped
    d.swapEntriesAllocated -= earlier.swapEntriesAllocated
    d.swapEntriesWritten -= earlier.swapEntriesWritten
    d.oomKills -= earlier.oomKills
    d.oomVictims = Array(oomVictims.dropFirst(earlier.oomVictims.count))
    d.reclaimPasses -= earlier.reclaimPasses
    d.shrinkerScans -= earlier.shrinkerScans
    d.dmaAllocations -= earlier.dmaAllocations
    d.dmaFrees -= earlier.dmaFrees
    return d
  }

  /// The counters by name, in the order scenario files and reports use. Per-order
  /// allocations are `allocationsPerOrder.N` for each order with a non-zero count.
  public var fields: [(name: String, value: String)] {
    var out: [(String, String)] = [
      ("pagesAllocated", "\(pagesAllocated)"), ("allocationFailures", "\(allocationFailures)"),
      ("pagesCopied", "\(pagesCopied)"), ("bytesCopied", "\(bytesCopied)"), ("splits", "\(splits)"),
      ("shmemFoliosInserted", "\(shmemFoliosInserted)"), ("shmemPagesInserted", "\(shmemPagesInserted)"),
      ("handlesCreated", "\(handlesCreated)"), ("handlesDropped", "\(handlesDropped)"),
      ("swapEntriesAllocated", "\(swapEntriesAllocated)"), ("swapEntriesWritten", "\(swapEntriesWritten)"),
      ("swapEntriesInUse", "\(swapEntriesInUse)"), ("oomKills", "\(oomKills)"),
      ("oomVictims", "[" + oomVictims.joined(separator: ", ") + "]"), ("reclaimPasses", "\(reclaimPasses)"),
      ("shrinkerScans", "\(shrinkerScans)"), ("dmaAllocations", "\(dmaAllocations)"), ("dmaFrees", "\(dmaFrees)"),
      ("pageCachePages", "\(pageCachePages)"), ("gpuActivePages", "\(gpuActivePages)"),
    ]
    for (order, n) in allocationsPerOrder.enumerated() where n != 0 {
      out.append(("allocationsPerOrder.\(order)", "\(n)"))
    }
    return out
  }

  /// The names ``fields`` can have, per-order keys aside.
  public static let fieldNames: [String] = [
    "pagesAllocated", "allocationFailures", "pagesCopied", "bytesCopied", "splits", "shmemFoliosInserted",
    "shmemPagesInserted", "handlesCreated", "handlesDropped", "swapEntriesAllocated", "swapEntriesWritten",
    "swapEntriesInUse", "oomKills", "oomVictims", "reclaimPasses", "shrinkerScans", "dmaAllocations", "dmaFrees",
    "pageCachePages", "gpuActivePages",
  ]

  public var description: String {
    fields.map { "\($0.name)=\($0.value)" }.joined(separator: ", ")
  }
}

extension Machine {
  /// A snapshot of every counter of ``ModelStatistics``.
  public var statistics: ModelStatistics {
    let c = counters
    return ModelStatistics(
      allocationsPerOrder: c.allocationsPerOrder, allocationFailures: c.allocationFailures,
      pagesCopied: c.pagesCopied, bytesCopied: vmstat.bytesCopied, splits: c.splits,
      shmemFoliosInserted: c.shmemFoliosInserted, shmemPagesInserted: c.shmemPagesInserted,
      handlesCreated: c.handlesCreated, handlesDropped: c.handlesDropped,
      swapEntriesAllocated: c.swapEntriesAllocated, swapEntriesWritten: vmstat.pswpout,
      swapEntriesInUse: swap.slotsInUse, oomKills: vmstat.oomKill, oomVictims: c.oomVictims,
      reclaimPasses: vmstat.allocstall, shrinkerScans: c.shrinkerScans, dmaAllocations: c.dmaAllocations,
      dmaFrees: c.dmaFrees, pageCachePages: vmstat.nrShmem, gpuActivePages: vmstat.nrGPUActive)
  }
}
