extension Machine {
  // MARK: Entry points

  /// `alloc_pages(gfp, order)`: a block of `1 << order` pages, or `nil` (NULL).
  ///
  /// Models `__alloc_pages()` in `mm/page_alloc.c`: the fault-injection check of
  /// `prepare_alloc_pages()`, the fast path against the low watermark, then
  /// ``allocPagesSlowpath(_:order:owner:)``. The pages belong to `owner` for the audit.
  ///
  /// - Throws: ``KernelHalt`` where the kernel would not return: a panic when the OOM killer
  ///   finds no victim, or an allocation that would retry forever.
  public func allocPages(_ gfp: GFP, order: Int, owner: PageOwner) throws -> Page? {
    let page = try allocPagesInner(gfp, order: order, owner: owner)
    allocationTrace?.append(AllocationRecord(gfp: gfp, order: order, owner: owner, succeeded: page != nil))
    if page != nil, order <= MAX_PAGE_ORDER {
      counters.allocationsPerOrder[order] += 1
    } else {
      counters.allocationFailures += 1
    }
    return page
  }

  private func allocPagesInner(_ gfp: GFP, order: Int, owner: PageOwner) throws -> Page? {
    if order > MAX_PAGE_ORDER {
      // WARN_ON_ONCE_GFP(order > MAX_PAGE_ORDER, gfp): the kernel prints a generic WARNING
      // splat whose location the model cannot reproduce, so it leaves a note instead.
      if !gfp.contains(.__GFP_NOWARN) {
        dmesg.modelNote("WARN_ON_ONCE_GFP(order > MAX_PAGE_ORDER) in __alloc_pages(): order \(order)")
      }
      return nil
    }
    if shouldFailAllocPage(gfp, order: order) { return nil }
    if let page = mem.getPageFromFreelist(order: order, flags: .wmarkLow, gfp: gfp, owner: owner) {
      return page
    }
    return try allocPagesSlowpath(gfp, order: order, owner: owner)
  }

  /// `__should_fail_alloc_page()` (`mm/fail_page_alloc.c`) at ``FaultPoint/failPageAlloc``.
  ///
  /// The filters run first and do not count as a call: below `min-order`, `__GFP_NOFAIL`
  /// (always exempt), `__GFP_HIGHMEM` with `ignore-gfp-highmem`, `__GFP_DIRECT_RECLAIM` with
  /// `ignore-gfp-wait`. The kernel's defaults (``FailPageAllocFilter/kernelDefault``) exempt
  /// order-0, highmem and reclaiming allocations; a sweep sets ``FailPageAllocFilter/none``.
  /// `__GFP_NOWARN` suppresses the "FAULT_INJECTION" report (`FAULT_NOWARN`).
  func shouldFailAllocPage(_ gfp: GFP, order: Int) -> Bool {
    let filter = failPageAllocFilter
    if order < filter.minOrder { return false }
    if gfp.contains(.__GFP_NOFAIL) { return false }
    if filter.ignoreGFPHighmem && gfp.contains(.__GFP_HIGHMEM) { return false }
    if filter.ignoreGFPReclaim && gfp.contains(.__GFP_DIRECT_RECLAIM) { return false }
    guard faults.shouldFail(.failPageAlloc, size: 1 << order) else { return false }
    if !gfp.contains(.__GFP_NOWARN) {
      dmesg.printk(.err, "FAULT_INJECTION: forcing a failure.")
    }
    return true
  }

  /// `__free_pages(page, order)`: drops the caller's reference; the last reference frees the
  /// block. For a non-compound higher-order block whose head is still referenced, the tail
  /// part is freed at once, as the kernel does.
  public func freePages(_ page: Page, order: Int) {
    precondition(mem[page].refcount > 0, "__free_pages() of a free page \(page)")
    mem[page].refcount -= 1
    if mem[page].refcount == 0 {
      mem.freePages(page, order: order)
    } else if order > 0 && mem[page].compoundOrder == 0 {
      mem.freeNonCompoundTail(page, order: order)
    }
  }

  /// `get_page()` / `folio_get()`.
  public func getPage(_ page: Page) {
    precondition(mem[page].refcount > 0, "get_page() on a free page \(page)")
    mem[page].refcount += 1
  }

  /// `folio_put()`: drops a reference to the folio headed by `folio`; the last one frees it at
  /// its folio order (0 unless it is compound).
  public func folioPut(_ folio: Page) {
    precondition(mem[folio].refcount > 0, "folio_put() of a free folio \(folio)")
    mem[folio].refcount -= 1
    if mem[folio].refcount == 0 {
      mem.freePages(folio, order: Int(mem[folio].compoundOrder))
    }
  }

  // MARK: Slow path

  /// `gfp_to_alloc_flags()`: the min watermark, `ALLOC_MIN_RESERVE` for `__GFP_HIGH`, and
  /// `ALLOC_NON_BLOCK` for callers that cannot reclaim (unless `__GFP_NOMEMALLOC`).
  func gfpToAllocFlags(_ gfp: GFP) -> AllocFlags {
    var flags: AllocFlags = .wmarkMin
    if gfp.contains(.__GFP_HIGH) { flags.insert(.minReserve) }
    if !gfp.contains(.__GFP_DIRECT_RECLAIM) && !gfp.contains(.__GFP_NOMEMALLOC) {
      flags.insert(.nonBlock)
    }
    return flags
  }

  /// `__gfp_pfmemalloc_flags()`: `__GFP_NOMEMALLOC` forbids the reserves; `__GFP_MEMALLOC`
  /// and `PF_MEMALLOC` (reclaim context) ignore watermarks; an OOM victim gets `ALLOC_OOM`.
  func gfpPfmemallocFlags(_ gfp: GFP) -> AllocFlags? {
    if gfp.contains(.__GFP_NOMEMALLOC) { return nil }
    if gfp.contains(.__GFP_MEMALLOC) { return .noWatermarks }
    if current.inMemallocScope { return .noWatermarks }
    if current.isOOMVictim { return .oom }
    return nil
  }

  /// `__alloc_pages_slowpath()`, for one zone, without kswapd, compaction or cpusets.
  ///
  /// Transliterated from the 6.15+ code (`ALLOC_MIN_RESERVE`/`ALLOC_NON_BLOCK`, the
  /// `can_compact` test on costly orders); 6.1 and older differ in the reserve flags
  /// (`__GFP_ATOMIC`, `ALLOC_HARDER`), which the model does not reproduce. The decision table
  /// it implements (DESIGN.md, `kernel-facts.md` §6.2):
  /// - no `__GFP_DIRECT_RECLAIM`, or already in reclaim (`PF_MEMALLOC`): fail;
  /// - otherwise direct reclaim (shmem writeout to swap, shrinkers) and, if it made
  ///   progress, another try;
  /// - `__GFP_NORETRY`: fail after one reclaim pass;
  /// - costly order (> 3) without `__GFP_RETRY_MAYFAIL` (or without `__GFP_IO`, which
  ///   compaction needs): fail without OOM;
  /// - retry while the allocation could succeed with all reclaimable pages reclaimed, at most
  ///   `MAX_RECLAIM_RETRIES` passes without progress;
  /// - then `__alloc_pages_may_oom()`: order > 3, `__GFP_RETRY_MAYFAIL`, `__GFP_THISNODE` or a
  ///   lowmem-only request fail without OOM; no `__GFP_FS` counts as progress without a kill
  ///   (retry forever); otherwise the OOM killer kills and the allocation retries;
  /// - `__GFP_NOFAIL` retries instead of failing, unless it cannot reclaim at all.
  ///
  /// Where the kernel would retry forever with nothing changing, the model throws
  /// ``KernelHalt/lockup(_:)`` with a `[model]` note instead of hanging.
  func allocPagesSlowpath(_ gfp: GFP, order: Int, owner: PageOwner) throws -> Page? {
    let canDirectReclaim = gfp.contains(.__GFP_DIRECT_RECLAIM)
    // gfp_compaction_allowed(): CONFIG_COMPACTION and __GFP_IO.
    let canCompact = gfp.contains(.__GFP_IO)
    let costlyOrder = order > PAGE_ALLOC_COSTLY_ORDER
    var allocFlags = gfpToAllocFlags(gfp)
    var noProgressLoops = 0
    // The kernel would loop forever once it comes back to a retry point with nothing changed:
    // the model is deterministic, so the next pass would be the same. A hard cap catches a
    // loop in which something churns (allocates and frees) without ever helping.
    var lastRetryState: [Int]?
    var retriesForever = 0
    func retriesForeverWithoutChange() -> Bool {
      retriesForever += 1
      let state = retryState
      defer { lastRetryState = state }
      return state == lastRetryState || retriesForever > 10_000
    }

    // The first attempt with the adjusted (min) watermark.
    if let page = mem.getPageFromFreelist(order: order, flags: allocFlags, gfp: gfp, owner: owner) {
      return page
    }

    retry: while true {
      if let reserve = gfpPfmemallocFlags(gfp) { allocFlags = reserve }
      if let page = mem.getPageFromFreelist(
        order: order, flags: allocFlags, gfp: gfp, owner: owner)
      {
        return page
      }

      nopage: do {
        // Caller is not willing to reclaim, we can't balance anything.
        guard canDirectReclaim else { break nopage }
        // Avoid recursion of direct reclaim.
        guard !current.inMemallocScope else { break nopage }

        // Try direct reclaim and then allocating.
        let progress = try performReclaim(gfp, order: order)
        if progress > 0,
          let page = mem.getPageFromFreelist(
            order: order, flags: allocFlags, gfp: gfp, owner: owner)
        {
          return page
        }

        // Do not loop if specifically requested.
        if gfp.contains(.__GFP_NORETRY) { break nopage }
        // Do not retry costly high order allocations unless they are __GFP_RETRY_MAYFAIL
        // and we can compact.
        if costlyOrder && (!canCompact || !gfp.contains(.__GFP_RETRY_MAYFAIL)) { break nopage }

        if shouldReclaimRetry(
          order: order, allocFlags: allocFlags, didSomeProgress: progress > 0,
          noProgressLoops: &noProgressLoops)
        {
          continue retry
        }

        // Reclaim has failed us, start killing things.
        let (page, didSomeProgress) = try allocPagesMayOOM(gfp, order: order, owner: owner)
        if let page { return page }

        // Avoid allocations with no watermarks from looping endlessly.
        if current.isOOMVictim
          && (allocFlags.contains(.oom) || gfp.contains(.__GFP_NOMEMALLOC))
        {
          break nopage
        }

        // Retry as long as the OOM killer is making progress.
        if didSomeProgress {
          noProgressLoops = 0
          if retriesForeverWithoutChange() {
            throw neverReturns(
              gfp, order: order,
              why: gfp.contains(.__GFP_FS)
                ? "the OOM killer reports progress but frees nothing"
                : "out_of_memory() reports progress without killing for !__GFP_FS")
          }
          continue retry
        }
      }

      // nopage: a __GFP_NOFAIL caller that cannot reclaim goes to fail; the others retry.
      if gfp.contains(.__GFP_NOFAIL) && canDirectReclaim {
        // Help non-failing allocations by giving them some access to memory reserves.
        if let page = mem.getPageFromFreelist(
          order: order, flags: [.wmarkMin, .minReserve], gfp: gfp, owner: owner)
        {
          return page
        }
        if retriesForeverWithoutChange() {
          throw neverReturns(gfp, order: order, why: "__GFP_NOFAIL and no memory can be freed")
        }
        continue retry
      }
      warnAlloc(gfp, "page allocation failure: order:\(order)")
      return nil
    }
  }

  /// What the slow path's decisions depend on, to tell a retry that changed something from
  /// one that will repeat forever.
  private var retryState: [Int] {
    [
      mem.nrFreePages, mem.pagesAllocated, mem.pagesFreed, vmstat.oomKill, tasks.count, swap.slotsInUse,
      vmstat.nrShmem,
    ]
  }

  private func neverReturns(_ gfp: GFP, order: Int, why: String) -> KernelHalt {
    let msg =
      "allocation would retry forever: \(current.comm) order:\(order), mode:\(gfp.hexString)(\(gfp)): \(why)"
    dmesg.modelNote(msg)
    return .lockup("[model] " + msg)
  }

  /// `should_reclaim_retry()`: counts passes without progress (costly orders always count),
  /// gives up after `MAX_RECLAIM_RETRIES`, and otherwise retries only if the allocation would
  /// pass the min watermark with every reclaimable page reclaimed.
  func shouldReclaimRetry(
    order: Int, allocFlags: AllocFlags, didSomeProgress: Bool, noProgressLoops: inout Int
  ) -> Bool {
    if didSomeProgress && order <= PAGE_ALLOC_COSTLY_ORDER {
      noProgressLoops = 0
    } else {
      noProgressLoops += 1
    }
    if noProgressLoops > MAX_RECLAIM_RETRIES { return false }
    // Would the allocation succeed if we reclaimed all reclaimable pages?
    var flags = allocFlags
    flags.remove(.noWatermarks)
    return mem.watermarkOK(
      order: order, mark: mem.watermarks.min, flags: flags,
      freePages: mem.nrFreePages + zoneReclaimablePages())
  }

  /// `__alloc_pages_may_oom()`: one more try at the high watermark, the bail-outs, then
  /// `out_of_memory()`. Returns a page if one was found, and whether progress was made.
  ///
  /// The `oom_lock` trylock, `PF_DUMPCORE` and `pm_suspended_storage()` bail-outs have no
  /// counterpart in the model (one task runs at a time, nothing dumps core or suspends).
  /// The machine has one zone; the zone modifiers `__GFP_DMA`/`__GFP_DMA32` matter only
  /// here, where a request limited to a zone below `ZONE_NORMAL` never invokes the OOM killer
  /// (x86_64 zones).
  func allocPagesMayOOM(_ gfp: GFP, order: Int, owner: PageOwner) throws -> (Page?, Bool) {
    // Go through the zonelist yet one more time, keep very high watermark here.
    var lastTry = gfp.union(.__GFP_HARDWALL)
    lastTry.remove(.__GFP_DIRECT_RECLAIM)
    if let page = mem.getPageFromFreelist(order: order, flags: .wmarkHigh, gfp: lastTry, owner: owner) {
      return (page, false)
    }
    // The OOM killer will not help higher order allocs.
    if order > PAGE_ALLOC_COSTLY_ORDER { return (nil, false) }
    // The caller has a more reasonable fallback than shooting a random task; the OOM killer
    // may not free memory on a specific node.
    if !gfp.isDisjoint(with: [.__GFP_RETRY_MAYFAIL, .__GFP_THISNODE]) { return (nil, false) }
    // The OOM killer does not needlessly kill tasks for lowmem (highest_zoneidx < ZONE_NORMAL).
    if !gfp.isDisjoint(with: [.__GFP_DMA, .__GFP_DMA32]) { return (nil, false) }
    // Exhausted what can be done so it's blame time.
    let progress = try outOfMemory(gfp, order: order)
    guard progress || gfp.contains(.__GFP_NOFAIL) else { return (nil, false) }
    // (WARN_ON_ONCE_GFP(gfp_mask & __GFP_NOFAIL) when out_of_memory() made no progress.)
    // Help non-failing allocations by giving them access to memory reserves.
    var page: Page?
    if gfp.contains(.__GFP_NOFAIL) {
      page = mem.getPageFromFreelist(order: order, flags: .noWatermarks, gfp: gfp, owner: owner)
    }
    return (page, true)
  }

  /// `warn_alloc()`: the allocation-failure warning, unless `__GFP_NOWARN`:
  /// `"%s: %pV, mode:%#x(%pGg), nodemask=%*pbl"` with `"page allocation failure: order:%u"`.
  ///
  /// Only the first line is logged; the stack dump and `show_mem()` that follow in the
  /// kernel are not modelled, and neither is the `nopage_rs` rate limit (one per 10 s). The
  /// `nodemask=(null)` and the `,cpuset=/,mems_allowed=0` suffix of
  /// `cpuset_print_current_mems_allowed()` are written as a typical x86 machine prints them;
  /// their exact text is UNVERIFIED.
  func warnAlloc(_ gfp: GFP, _ what: String) {
    if gfp.contains(.__GFP_NOWARN) { return }
    dmesg.printk(
      .warning,
      "\(current.comm): \(what), mode:\(gfp.hexString)(\(gfp)), nodemask=(null),cpuset=/,mems_allowed=0"
    )
  }
}
