/// Counters in the style of `/proc/vmstat`: node state items and event counts.
///
/// `NR_FREE_PAGES` is not kept here; it is ``PhysicalMemory/nrFreePages``. Swap slot use is
/// ``SwapDevice/slotsInUse``.
public struct VMStat: Hashable, Sendable {
  /// `NR_SHMEM`: pages in shmem page caches.
  public var nrShmem = 0
  /// `NR_SHMEM_SWAPPED`-like count: shmem pages currently in swap.
  public var nrShmemSwapped = 0
  /// `NR_GPU_ACTIVE`: pages TTM's pool has handed to GPU objects (Airlie's 2026 accounting).
  public var nrGPUActive = 0
  /// `NR_GPU_RECLAIM`: pages sitting in TTM pool types, reclaimable by the pool shrinker
  /// (same 2026 accounting).
  public var nrGPUReclaim = 0
  /// Model-only: how far `NR_GPU_ACTIVE` is from the pages TTM tts hold because of the base
  /// text's DMA-alloc branch, which does not count its allocations and frees while pool-type
  /// give/take count every page (see `TTMPool.swift`). The audit checks `nrGPUActive -
  /// nrGPUActiveGap`; the raw counter is what the kernel would show.
  public var nrGPUActiveGap = 0
  /// Model-only: the same for `NR_GPU_RECLAIM` and the pages in pool types.
  public var nrGPUReclaimGap = 0
  /// `pswpout`: pages written to swap.
  public var pswpout = 0
  /// `pswpin`: pages read back from swap.
  public var pswpin = 0
  /// `allocstall`: entries into direct reclaim.
  public var allocstall = 0
  /// `oom_kill`: OOM kills.
  public var oomKill = 0
  /// `slabs_scanned`: objects shrinkers were asked to scan.
  public var slabsScanned = 0
  /// Model-only: bytes copied page to page (`copy_highpage()`), for the copy-versus-insert
  /// comparisons.
  public var bytesCopied = 0

  public init() {}

  /// The counters that must be zero after every object is torn down; `NR_GPU_*` without the
  /// DMA-alloc gap, i.e. what they would be if every page were counted.
  public var residentCounters: [(name: String, value: Int)] {
    [
      ("nr_shmem", nrShmem), ("nr_shmem_swapped", nrShmemSwapped), ("nr_gpu_active", nrGPUActive - nrGPUActiveGap),
      ("nr_gpu_reclaim", nrGPUReclaim - nrGPUReclaimGap),
    ]
  }

  /// `NR_GPU_*` as the kernel shows them, where not zero: after teardown, the residue the
  /// DMA-alloc accounting leaves (not a model leak).
  public var kernelGPUCounters: [String: Int] {
    var out: [String: Int] = [:]
    if nrGPUActive != 0 { out["nr_gpu_active"] = nrGPUActive }
    if nrGPUReclaim != 0 { out["nr_gpu_reclaim"] = nrGPUReclaim }
    return out
  }
}
