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

  /// The counters that must be zero after every object is torn down.
  public var residentCounters: [(name: String, value: Int)] {
    [("nr_shmem", nrShmem), ("nr_shmem_swapped", nrShmemSwapped), ("nr_gpu_active", nrGPUActive)]
  }
}
