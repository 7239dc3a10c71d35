/// What reclaim passes to a shrinker (`struct shrink_control`).
public struct ShrinkControl: Sendable {
  /// The gfp mask of the allocation that entered reclaim. A shrinker that needs to enter
  /// the filesystem or start I/O checks `__GFP_FS` / `__GFP_IO` here.
  public var gfpMask: GFP
  /// How many objects to scan (`nr_to_scan`).
  public var nrToScan: Int
  /// How many were scanned; the shrinker may set it (`nr_scanned`).
  public var nrScanned: Int

  public init(gfpMask: GFP, nrToScan: Int, nrScanned: Int = 0) {
    self.gfpMask = gfpMask
    self.nrToScan = nrToScan
    self.nrScanned = nrScanned
  }
}

/// The result of `scan_objects()`.
public enum ShrinkResult: Hashable, Sendable {
  /// Objects freed (for the GPU shrinkers modelled here: pages).
  case freed(Int)
  /// `SHRINK_STOP`: the shrinker cannot make progress now (lock contention, wrong gfp).
  case stop
}

/// A shrinker registered with reclaim (`struct shrinker`, `shrinker_register()`).
///
/// Direct reclaim calls ``countObjects(_:on:)`` and then ``scanObjects(_:on:)`` in batches,
/// the way `do_shrink_slab()` in `mm/shrinker.c` does.
public protocol Shrinker: AnyObject {
  /// The name shown in `/sys/kernel/debug/shrinker/`.
  var name: String { get }
  /// `shrinker->seeks`; `DEFAULT_SEEKS` is 2.
  var seeks: Int { get }
  /// `shrinker->batch`; 0 means `SHRINK_BATCH` (128).
  var batch: Int { get }
  /// Whether the pages this shrinker frees count as reclaim progress. In the kernel only LRU
  /// pages and pages reported through `mm_account_reclaimed_pages()` (slab, inode and XFS
  /// buffer pages) reach `nr_reclaimed`; `shrink_slab()`'s return value is dropped. The GPU
  /// shrinkers modelled here do not account, so their freed pages show up only in the
  /// watermark checks that follow. Default `false`.
  var accountsReclaimedPages: Bool { get }
  /// `count_objects()`: how many objects could be freed now; 0 for nothing.
  func countObjects(_ sc: ShrinkControl, on machine: Machine) throws -> Int
  /// `scan_objects()`: free up to `sc.nrToScan` objects.
  func scanObjects(_ sc: inout ShrinkControl, on machine: Machine) throws -> ShrinkResult
}

extension Shrinker {
  public var seeks: Int { DEFAULT_SEEKS }
  public var batch: Int { 0 }
  public var accountsReclaimedPages: Bool { false }
}

/// `DEFAULT_SEEKS`.
public let DEFAULT_SEEKS = 2
/// `SHRINK_BATCH`.
public let SHRINK_BATCH = 128
/// `SWAP_CLUSTER_MAX`: what one direct reclaim pass tries to free.
public let SWAP_CLUSTER_MAX = 32
/// `DEF_PRIORITY`: reclaim starts scanning `size >> 12` and doubles each pass down to 0.
public let DEF_PRIORITY = 12
/// `MAX_RECLAIM_RETRIES`: reclaim passes without progress before the allocator gives up on
/// reclaim and considers the OOM killer.
public let MAX_RECLAIM_RETRIES = 16
