extension Machine {
  /// `__perform_reclaim()`: direct reclaim under `PF_MEMALLOC` (`memalloc_noreclaim_save()`),
  /// so allocations made by shrinkers may dip into the reserves and never recurse into
  /// reclaim. Returns `nr_reclaimed`: LRU pages freed, plus pages of shrinkers that account
  /// them (``Shrinker/accountsReclaimedPages``). Pages a GPU shrinker frees are not in it, as
  /// in the kernel: with nothing else reclaimed, `__alloc_pages_direct_reclaim()` reports no
  /// progress and skips its own retry, so a `__GFP_NORETRY` request fails even though the
  /// shrinker just freed memory; other requests find the pages on their next attempt.
  func performReclaim(_ gfp: GFP, order: Int) throws -> Int {
    vmstat.allocstall += 1
    let i = taskIndex(currentPID)!
    let saved = tasks[i].inMemallocScope
    tasks[i].inMemallocScope = true
    defer {
      if let j = taskIndex(currentPID) { tasks[j].inMemallocScope = saved }
    }
    return try doTryToFreePages(gfp, order: order)
  }

  /// `do_try_to_free_pages()` for one node: from `DEF_PRIORITY` down to 0, shrink the LRU
  /// (`shrink_lruvec()`, here the shmem folios) and then the shrinkers (`shrink_slab()`), and
  /// stop once `SWAP_CLUSTER_MAX` pages are reclaimed.
  ///
  /// Not modelled: kswapd, active/inactive LRU aging and references, memcg, compaction (so
  /// reclaim ignores `order`), the drain/highatomic-unreserve retry, `nr_deferred` of
  /// shrinkers, and the swap-out of anonymous task memory (task RSS is unreclaimable here, so
  /// the OOM killer is the only way to free it). Every shmem folio counts as dirty and is
  /// written to swap, and the swap write completes at once, so a written folio is freed in
  /// the same pass; the kernel frees it when its asynchronous write completes.
  func doTryToFreePages(_ gfp: GFP, order: Int) throws -> Int {
    let nrToReclaim = SWAP_CLUSTER_MAX
    var nrReclaimed = 0
    for priority in stride(from: DEF_PRIORITY, through: 0, by: -1) {
      nrReclaimed += shrinkShmemLRU(gfp, priority: priority, goal: nrToReclaim - nrReclaimed)
      nrReclaimed += try shrinkSlab(gfp, priority: priority)
      if nrReclaimed >= nrToReclaim { break }
    }
    return nrReclaimed
  }

  /// `shrink_slab()`: every registered shrinker through `do_shrink_slab()`. Returns the pages
  /// that count toward `nr_reclaimed` (see ``Shrinker/accountsReclaimedPages``).
  func shrinkSlab(_ gfp: GFP, priority: Int) throws -> Int {
    var accounted = 0
    for shrinker in shrinkers {
      let freed = try kernelFrame("shrink_slab") { try doShrinkSlab(shrinker, gfp: gfp, priority: priority) }
      if shrinker.accountsReclaimedPages { accounted += freed }
    }
    return accounted
  }

  /// `do_shrink_slab()` (`mm/shrinker.c`): scan `(freeable >> priority) * 4 / seeks` objects,
  /// at most twice the freeable count, in batches of `batch` (or everything left when that is
  /// more than the freeable count), until the shrinker says `SHRINK_STOP`.
  func doShrinkSlab(_ shrinker: any Shrinker, gfp: GFP, priority: Int) throws -> Int {
    var sc = ShrinkControl(gfpMask: gfp, nrToScan: 0, nrScanned: 0)
    let freeable = try shrinker.countObjects(sc, on: self)
    if freeable <= 0 { return 0 }
    let delta = shrinker.seeks > 0 ? (freeable >> priority) * 4 / shrinker.seeks : freeable / 2
    var totalScan = Swift.min(delta, 2 * freeable)
    let batchSize = shrinker.batch > 0 ? shrinker.batch : SHRINK_BATCH
    var freed = 0
    while totalScan >= batchSize || totalScan >= freeable {
      let nrToScan = Swift.min(batchSize, totalScan)
      sc.nrToScan = nrToScan
      sc.nrScanned = nrToScan
      guard case .freed(let n) = try kernelFrame("do_shrink_slab", { try shrinker.scanObjects(&sc, on: self) })
      else { break }
      freed += n
      counters.shrinkerScans += 1
      vmstat.slabsScanned += sc.nrScanned
      // A shrinker that reports no scanning would loop forever in the kernel too; stop.
      guard sc.nrScanned > 0 else { break }
      totalScan -= sc.nrScanned
    }
    return freed
  }

  /// `zone_reclaimable_pages()`: LRU pages reclaim could still free. shmem folios count only
  /// while swap has room (`can_reclaim_anon_pages()`).
  func zoneReclaimablePages() -> Int {
    swap.nrSwapPages > 0 ? vmstat.nrShmem : 0
  }
}
