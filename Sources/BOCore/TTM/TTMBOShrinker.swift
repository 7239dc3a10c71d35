/// A BO shrinker in the style of the xe shrinker (`drivers/gpu/drm/xe/xe_shrinker.c`, from
/// 00c8efc3180f "drm/xe: Add a shrinker for xe bos", 6.15), built on the TTM shrink helpers
/// `ttm_bo_shrink_suitable()`, `ttm_bo_shrink_avoid_wait()` and `ttm_bo_shrink()`.
///
/// When reclaim calls it, it purges purgeable BOs and backs up idle ones, least recently used
/// first, so an allocation under pressure can be satisfied by swapping out other BOs before
/// the OOM killer runs. Like the xe shrinker it does not report its pages to
/// `mm_account_reclaimed_pages()` (``Shrinker/accountsReclaimedPages`` is `false`).
///
/// As in xe, the purge pass ends at the first suitable BO that is not purgeable:
/// `xe_bo_shrink()` returns -EBUSY for it and `xe_shrinker_walk()` returns on a negative
/// value, dropping what that walk freed.
///
/// Model simplifications: the shrinkable and purgeable page counts are computed from the BOs
/// instead of kept in `xe_shrinker_mod_pages()` counters; runtime PM is not modelled; there is
/// one LRU where xe walks the SYSTEM and then the TT manager (so xe can shrink one BO more
/// than `nr_to_scan` calls for, after the first manager's loop breaks).
public final class TTMBOShrinker: Shrinker {
  public let name = "xe system shrinker"
  /// The device whose BOs it shrinks.
  public unowned let device: TTMDevice

  public init(device: TTMDevice) { self.device = device }

  /// Pages of populated BOs that are not pinned and not purgeable (`shrinkable_pages`).
  public var shrinkablePages: Int {
    device.lru.reduce(0) { $0 + ($1.ttm?.isPopulated == true && $1.pinCount == 0 && !$1.purgeable ? $1.numPages : 0) }
  }

  /// Pages of populated purgeable BOs (`purgeable_pages`).
  public var purgeablePages: Int {
    device.lru.reduce(0) { $0 + ($1.ttm?.isPopulated == true && $1.pinCount == 0 && $1.purgeable ? $1.numPages : 0) }
  }

  /// `xe_shrinker_count()`: swap space left, capped by the shrinkable pages, if the reclaim
  /// may enter the filesystem (`__GFP_FS`), plus the purgeable pages.
  public func countObjects(_ sc: ShrinkControl, on machine: Machine) -> Int {
    let canBackup = sc.gfpMask.contains(.__GFP_FS)
    var numPages = device.ttmBackupBytesAvail() / PAGE_SIZE
    numPages = canBackup ? Swift.min(numPages, shrinkablePages) : 0
    numPages += purgeablePages
    // The kernel returns SHRINK_EMPTY (~0UL - 1) for nothing; do_shrink_slab() treats it like 0.
    return numPages
  }

  /// `xe_shrinker_scan()`: a purge pass, then, if reclaim may enter the filesystem, a backup
  /// pass; writeback only from kswapd and with `__GFP_IO`.
  public func scanObjects(_ sc: inout ShrinkControl, on machine: Machine) throws -> ShrinkResult {
    let nrToScan = sc.nrToScan
    let gfpMask = sc.gfpMask
    let (result, nrScanned) = try kernelFrame("xe_shrinker_scan") { try scan(gfpMask, nrToScan, machine) }
    sc.nrScanned = nrScanned
    return result
  }

  /// The body of `xe_shrinker_scan()`, returning the result and `sc->nr_scanned`.
  private func scan(_ gfpMask: GFP, _ nrToScan: Int, _ machine: Machine) throws -> (ShrinkResult, Int) {
    let ctx = TTMOperationContext(interruptible: false, noWaitGPU: ttmBOShrinkAvoidWait(machine))
    var shrinkFlags = TTMBackupFlags(
      purge: true, writeback: !ctx.noWaitGPU && gfpMask.contains(.__GFP_IO))
    let canBackup = gfpMask.contains(.__GFP_FS)
    var nrScanned = 0
    var freed = 0
    if purgeablePages > 0 && nrScanned < nrToScan {
      let lret = try walk(ctx, shrinkFlags, nrToScan, &nrScanned)
      if lret >= 0 { freed += lret }
    }
    if nrScanned < nrToScan && canBackup {
      shrinkFlags.purge = false
      let lret = try walk(ctx, shrinkFlags, nrToScan, &nrScanned)
      if lret >= 0 { freed += lret }
    }
    return (nrScanned > 0 ? .freed(freed) : .stop, nrScanned)
  }

  /// `xe_shrinker_walk()`: the LRU from the least recently used BO, skipping BOs someone has
  /// reserved (the walk only trylocks) and BOs `ttm_bo_shrink_suitable()` rejects, until
  /// `toScan` pages were scanned; a negative result ends the walk.
  func walk(_ ctx: TTMOperationContext, _ flags: TTMBackupFlags, _ toScan: Int, _ scanned: inout Int) throws -> Int {
    try kernelFrame("xe_shrinker_walk") { try walkLRU(ctx, flags, toScan, &scanned) }
  }

  private func walkLRU(_ ctx: TTMOperationContext, _ flags: TTMBackupFlags, _ toScan: Int, _ scanned: inout Int)
    throws -> Int
  {
    var freed = 0
    for bo in device.lru where !bo.reserved {
      if !ttmBOShrinkSuitable(bo, ctx) { continue }
      // xe_bo_shrink(): -EBUSY for a BO the purge pass cannot purge, which ends the walk; a
      // purgeable BO is purged in either pass (xe_bo_shrink_purge(): ttm_bo_shrink() with
      // purge and without allow_move); any other is backed up with allow_move.
      if flags.purge && !bo.purgeable { return Errno.EBUSY.negated }
      let boFlags =
        bo.purgeable
        ? TTMBOShrinkFlags(purge: true, writeback: false, allowMove: false)
        : TTMBOShrinkFlags(purge: false, writeback: flags.writeback, allowMove: true)
      // The BO's pages count as scanned before the attempt.
      scanned += bo.numPages
      bo.reserved = true
      defer { bo.reserved = false }
      let shrink = device.functions.require(device.functions.ttmBOShrink, "ttm_bo_shrink")
      let lret = try kernelFrame("xe_bo_shrink") { try shrink(device, bo, ctx, boFlags) }
      if lret < 0 { return lret }
      freed += lret
      if scanned >= toScan { break }
    }
    return freed
  }

  /// `ttm_bo_shrink_suitable()`: populated, not pinned, and idle unless we may wait.
  func ttmBOShrinkSuitable(_ bo: TTMBufferObject, _ ctx: TTMOperationContext) -> Bool {
    bo.ttm?.isPopulated == true && bo.pinCount == 0 && (!ctx.noWaitGPU || !bo.busy)
  }
}

/// `ttm_bo_shrink_avoid_wait()`: `!current_is_kswapd()`, only kswapd waits for the GPU.
public func ttmBOShrinkAvoidWait(_ machine: Machine) -> Bool {
  !(machine.current.isKernelThread && machine.current.comm.hasPrefix("kswapd"))
}
