// The parts of drivers/gpu/drm/ttm/ttm_pool.c that no modelled patch touches, transliterated
// from ttm_pool.c@278bbe7a11ad (fixtures/kernel-files; the May-2026 base). The functions the
// patches change (ttm_pool_backup(), ttm_pool_restore_and_alloc(), ttm_pool_restore_commit())
// are seams in TTMFunctions; their code is in Sources/Patches.
//
// The DMA-alloc path (`ttm_pool_uses_dma_alloc()`: coherent allocations through
// dma_alloc_attrs(), each with its `struct ttm_pool_dma`, and the pool's own per-caching,
// per-order pool types that freed pages go to) is modelled, with the `drm-ttm_pool` shrinker
// that frees pool-type pages under pressure. Older trees spell the test `pool->use_dma_alloc`
// (the helpers are d53adc244fbf "drm/ttm: Add getter for some pool properties", Oct 2025, and
// the flags 0af5b6a8f8dd; first release v6.19, UNVERIFIED); the behaviour is the same.
// ttm_pool_restore_and_alloc() has no DMA-alloc check: only ttm_pool_backup() refuses such
// pools, so a DMA-alloc tt is never backed up to restore.
//
// Not modelled: DMA mapping of non-DMA-alloc pools (`dma_address` is always NULL,
// ttm_pool_map/unmap do nothing), the global WC/UC pool types of x86 (a non-DMA-alloc pool's
// pages come from and go back to the page allocator), NUMA nodes. NR_GPU_ACTIVE and
// NR_GPU_RECLAIM are Airlie's 2026 accounting (7.1-era trees); the model keeps them on every
// tree as an accounting check that must balance at teardown. The base text does not balance
// them for a DMA-alloc pool: ttm_pool_alloc_page() and ttm_pool_free_page() count only the
// page-allocator branch, ttm_pool_type_give()/take() count every page, so a DMA-alloc page
// that passes through a pool type leaves NR_GPU_ACTIVE -n and NR_GPU_RECLAIM +n behind. The
// model shows that as the base text has it; whether a later tree fixes it is UNVERIFIED. Likewise the `__GFP_NOWARN` that
// ctx->gfp_retry_mayfail adds to the page allocation is from 55fcf74cc233 (v7.1) and applies
// on every tree: on older trees a failed page allocation would also log a warning.

extension TTMDevice {
  // MARK: Pages

  /// `ttm_pool_alloc_page()`: `1 << order` pages with `gfp`. Higher orders are not compound
  /// ("Mapping pages directly into an userspace process and calling put_page() on a TTM
  /// allocated page is illegal") and get `__GFP_NOMEMALLOC | __GFP_NORETRY | __GFP_NOWARN |
  /// __GFP_THISNODE`; above the pool's beneficial order they do not direct-reclaim. The order
  /// goes into `page->private`, and `NR_GPU_ACTIVE` grows by `1 << order`.
  public func ttmPoolAllocPage(_ pool: TTMPool, _ gfp: GFP, order: Int, owner: PageOwner) throws -> Page? {
    var gfpFlags = gfp
    if order > 0 {
      gfpFlags.formUnion([.__GFP_NOMEMALLOC, .__GFP_NORETRY, .__GFP_NOWARN, .__GFP_THISNODE])
    }
    if pool.beneficialOrder > 0 && order > pool.beneficialOrder {
      gfpFlags.remove(.__GFP_DIRECT_RECLAIM)
    }
    if !pool.usesDMAAlloc {
      let p = try machine.allocPages(gfpFlags, order: order, owner: owner)
      if let p {
        machine.setPagePrivate(p, UInt(order))
        machine.modNodePageState(.nrGPUActive, 1 << order)
      }
      return p
    }
    // kmalloc_obj(*dma): GFP_KERNEL (kmalloc(sizeof(*dma), GFP_KERNEL) in older trees).
    guard let object = try machine.kmalloc(16, .GFP_KERNEL, what: "ttm_pool_dma") else { return nil }
    var attr = DMAAttrs.FORCE_CONTIGUOUS
    if order > 0 { attr.insert(.NO_WARN) }
    guard
      let vaddr = try machine.dmaAllocAttrs(size: (1 << order) * PAGE_SIZE, gfpFlags, attrs: attr, owner: owner)
    else {
      machine.kfree(object)
      return nil
    }
    // TODO: This is an illegal abuse of the DMA API, but we need to rework TTM page fault
    // handling and extend the DMA API to clean this up. (virt_to_page(vaddr).)
    let dma = TTMPoolDMA(object: object, allocation: vaddr, order: order)
    poolDMA[dma.pointer] = dma
    // No NR_GPU_ACTIVE here, where the branch above adds 1 << order.
    machine.noteGPUAccountingGap(reclaim: false, -(1 << order))
    machine.setPagePrivate(vaddr.page, dma.pointer)
    return vaddr.page
  }

  /// `__free_pages_gpu_account(p, order, reclaim)`: `NR_GPU_RECLAIM` (a page leaving a pool
  /// type) or `NR_GPU_ACTIVE` (a page leaving a tt) drops by `1 << order`, then
  /// `__free_pages()`.
  public func freePagesGPUAccount(_ p: Page, order: Int, reclaim: Bool = false) {
    machine.modNodePageState(reclaim ? .nrGPUReclaim : .nrGPUActive, -(1 << order))
    machine.freePages(p, order: order)
  }

  /// `ttm_pool_free_page()`: back to write-back caching if needed (`set_pages_wb()` on x86),
  /// then, for a pool that does not use DMA allocation (or no pool),
  /// ``freePagesGPUAccount(_:order:reclaim:)``; for a DMA-alloc pool `dma_free_attrs()` of the
  /// allocation `page->private` points to, and `kfree()` of that `struct ttm_pool_dma`, with
  /// no NR_GPU_* change.
  public func ttmPoolFreePage(_ pool: TTMPool?, _ caching: TTMCaching, order: Int, _ p: Page, reclaim: Bool = false) {
    // set_pages_wb(p, 1 << order) for caching != ttm_cached: page attributes are not
    // modelled, so there is nothing to change.
    guard let pool, pool.usesDMAAlloc else {
      freePagesGPUAccount(p, order: order, reclaim: reclaim)
      return
    }
    var attr = DMAAttrs.FORCE_CONTIGUOUS
    if order > 0 { attr.insert(.NO_WARN) }
    let dma = ttmPoolDMA(of: p)
    // No NR_GPU_* change, where __free_pages_gpu_account() subtracts 1 << order.
    machine.noteGPUAccountingGap(reclaim: reclaim, 1 << order)
    machine.dmaFreeAttrs(size: (1 << order) * PAGE_SIZE, dma.allocation, attrs: attr)
    poolDMA[dma.pointer] = nil
    machine.kfree(dma.object)
  }

  /// `(struct ttm_pool_dma *)p->private` of a DMA-alloc pool's page.
  func ttmPoolDMA(of p: Page) -> TTMPoolDMA {
    guard let dma = poolDMA[machine.mem[p].private] else {
      preconditionFailure("page->private of \(p) is not a struct ttm_pool_dma")
    }
    return dma
  }

  // MARK: Pool types

  /// `ttm_pool_select_type()`: a DMA-alloc pool has its own pool type for every caching and
  /// order (`&pool->caching[caching].orders[order]`). For other pools x86 has global
  /// write-combined and uncached pool types, which the model does not have (NULL: those pages
  /// come from and go to the page allocator).
  public func ttmPoolSelectType(_ pool: TTMPool, _ caching: TTMCaching, order: Int) -> TTMPoolTypeKey? {
    pool.usesDMAAlloc ? TTMPoolTypeKey(caching: caching, order: order) : nil
  }

  /// `ttm_pool_type_give()`: clear every page (`clear_page()`), put the block on the pool
  /// type's list, `allocated_pages += 1 << order`, and move it from `NR_GPU_ACTIVE` to
  /// `NR_GPU_RECLAIM`.
  public func ttmPoolTypeGive(_ pt: TTMPoolTypeKey, _ p: Page) {
    let numPages = 1 << pt.order
    for i in 0..<numPages {
      machine.writePage(p + i, .zero)
      machine.mem[p + i].owner = .other("ttm_pool_type \(pt)")
    }
    poolTypes[pt, default: []].append(p)
    poolAllocatedPages += numPages
    machine.modNodePageState(.nrGPUActive, -numPages)
    machine.modNodePageState(.nrGPUReclaim, numPages)
  }

  /// `ttm_pool_type_take()`: one block from the pool type's list (the least recently given,
  /// as `list_lru_walk_node()` takes from the head), or `nil`; accounting as in
  /// ``ttmPoolTypeGive(_:_:)``, reversed.
  public func ttmPoolTypeTake(_ pt: TTMPoolTypeKey, owner: PageOwner) -> Page? {
    guard var list = poolTypes[pt], !list.isEmpty else { return nil }
    let p = list.removeFirst()
    poolTypes[pt] = list
    for i in 0..<(1 << pt.order) { machine.mem[p + i].owner = owner }
    poolAllocatedPages -= 1 << pt.order
    machine.modNodePageState(.nrGPUActive, 1 << pt.order)
    machine.modNodePageState(.nrGPUReclaim, -(1 << pt.order))
    return p
  }

  /// `ttm_pool_dispose_list()` of up to `count` blocks of `pt` (all with `nil`): each is
  /// freed with `ttm_pool_free_page(pt->pool, pt->caching, pt->order, p, true)`. Returns the
  /// blocks freed.
  @discardableResult
  func ttmPoolDispose(_ pt: TTMPoolTypeKey, count: Int? = nil) -> Int {
    guard var list = poolTypes[pt], !list.isEmpty else { return 0 }
    let n = Swift.min(count ?? list.count, list.count)
    let dispose = list.prefix(n)
    list.removeFirst(n)
    poolTypes[pt] = list.isEmpty ? nil : list
    for p in dispose {
      poolAllocatedPages -= 1 << pt.order
      for i in 0..<(1 << pt.order) { machine.mem[p + i].owner = .other("ttm_pool_type \(pt)") }
      ttmPoolFreePage(pool, pt.caching, order: pt.order, p, reclaim: true)
    }
    return n
  }

  /// `ttm_pool_shrink(nid, num_to_free)`: the first pool type on the shrinker list moves to
  /// its tail and up to `num_to_free` of its blocks are freed (`list_lru_walk_node()` counts
  /// list entries, not pages). Returns the pages freed. The model's list holds this device's
  /// pool types only; the kernel's also holds the global WC/UC pool types, which are empty
  /// in the model and would only add turns that free nothing.
  @discardableResult
  public func ttmPoolShrink(_ numToFree: Int) -> Int {
    guard !poolTypeShrinkerList.isEmpty else { return 0 }
    let pt = poolTypeShrinkerList.removeFirst()
    poolTypeShrinkerList.append(pt)
    return ttmPoolDispose(pt, count: numToFree) << pt.order
  }

  /// `ttm_pool_init()`'s pool types for a DMA-alloc pool (`ttm_pool_type_init()` for every
  /// caching and order, in that order, each added to the shrinker list).
  func ttmPoolInitTypes() {
    guard pool.usesDMAAlloc else { return }
    for caching in [TTMCaching.uncached, .writeCombined, .cached] {
      for order in 0...MAX_PAGE_ORDER { poolTypeShrinkerList.append(TTMPoolTypeKey(caching: caching, order: order)) }
    }
  }

  /// `ttm_pool_fini()`: `ttm_pool_type_fini()` of every pool type: off the shrinker list,
  /// every block freed.
  public func ttmPoolFini() {
    for pt in poolTypeShrinkerList { ttmPoolDispose(pt) }
    poolTypeShrinkerList = []
  }

  /// `set_pages_array_wb()` / `_wc()` / `_uc()` (`arch/x86/mm/pat/set_memory.c`) over
  /// `tt->pages[range]`: changes the caching of each page. Page attributes are not modelled,
  /// but the pointers are: an entry that is not a page is dereferenced as a `struct page *`
  /// by `__cpa_process_fault()` and oopses, as a backup handle did in the kernel.
  public func setPagesArray(_ tt: TTMTT, _ range: Range<Int>, to caching: TTMCaching, caller: String) throws -> Int {
    for i in range {
      switch tt.pages[i] {
      case .page: continue
      case .null, .handle:
        // The first line is the one the NULL/handle fix quotes (a NULL entry); that a handle
        // entry faults the same way, in __cpa_process_fault(), is what the fix says, but the
        // exact line for it is UNVERIFIED.
        throw KernelHalt.oops(
          message: "Oops: general protection fault, kernel NULL pointer dereference 0x0: 0000 [#1] SMP NOPTI",
          callChain: [
            "__cpa_process_fault", "__change_page_attr_set_clr",
            "set_pages_array_\(caching == .cached ? "wb" : caching == .writeCombined ? "wc" : "uc")", caller,
          ])
      }
    }
    cachingLog.append((tt.id, range, caching))
    return 0
  }

  /// `ttm_pool_apply_caching()`: apply the caching deferred during allocation to
  /// `[caching_divide, pages)`, as on x86: for write-combined and uncached tts it returns the
  /// result of `set_pages_array_wc/uc()` without moving `caching_divide`.
  public func ttmPoolApplyCaching(_ tt: TTMTT, _ alloc: inout TTMPoolAllocState) throws -> Int {
    let numPages = alloc.pages - alloc.cachingDivide
    if numPages == 0 { return 0 }
    switch alloc.ttCaching {
    case .cached: break
    case .writeCombined, .uncached:
      return try setPagesArray(
        tt, alloc.cachingDivide..<alloc.pages, to: alloc.ttCaching, caller: "ttm_pool_apply_caching")
    }
    alloc.cachingDivide = alloc.pages
    return 0
  }

  /// `ttm_pool_page_order()`: the order kept in `page->private`, or for a DMA-alloc pool in
  /// the low bits of the `struct ttm_pool_dma`'s `vaddr` that `page->private` points to.
  public func ttmPoolPageOrder(_ pool: TTMPool?, _ p: Page) -> Int {
    if let pool, pool.usesDMAAlloc { return ttmPoolDMA(of: p).order }
    return Int(machine.mem[p].private)
  }

  /// `ttm_pool_split_for_swap()`: "Split larger pages so that we can free each PAGE_SIZE page
  /// as soon as it has been backed up, in order to avoid memory pressure during reclaim."
  /// `split_page()`, then `private = 0` on every sub-page.
  public func ttmPoolSplitForSwap(_ pool: TTMPool?, _ p: Page) {
    let order = ttmPoolPageOrder(pool, p)
    if order == 0 { return }
    machine.splitPage(p, order: order)
    for i in 0..<(1 << order) { machine.setPagePrivate(p + i, 0) }
  }

  // MARK: Restore bookkeeping

  /// `ttm_pool_restore_valid()`: "Is restore ongoing for the currently allocated page?"
  public func ttmPoolRestoreValid(_ restore: TTMPoolTTRestore?) -> Bool {
    guard let restore else { return false }
    return restore.restoredPages < (1 << restore.order)
  }

  /// `ttm_pool_unmap_and_free()`: give a multi-order page to its pool type
  /// (`ttm_pool_type_give()`) if the pool has one for it, else free it
  /// (`ttm_pool_free_page()`). With a NULL pool the order is `page->private`. Returns
  /// `1 << order`.
  @discardableResult
  public func ttmPoolUnmapAndFree(_ pool: TTMPool?, _ page: Page, _ caching: TTMCaching) -> Int {
    var pt: TTMPoolTypeKey?
    let order: Int
    if let pool {
      order = ttmPoolPageOrder(pool, page)
      // ttm_pool_unmap(): nothing to unmap in the model.
      pt = ttmPoolSelectType(pool, caching, order: order)
    } else {
      order = Int(machine.mem[page].private)
    }
    if let pt {
      ttmPoolTypeGive(pt, page)
    } else {
      ttmPoolFreePage(pool, caching, order: order, page)
    }
    return 1 << order
  }

  /// `ttm_pool_allocated_page_commit()`: put the `nr` sub-pages of `allocated` into the page
  /// array at `alloc.pages`.
  public func ttmPoolAllocatedPageCommit(_ tt: TTMTT, _ allocated: Page, _ alloc: inout TTMPoolAllocState, _ nr: Int) {
    for i in 0..<nr {
      tt.pages[alloc.pages] = .page(allocated + i)
      alloc.pages += 1
    }
    alloc.remainingPages -= nr
  }

  /// `ttm_pool_page_allocated_restore()`: remember the new page for
  /// `ttm_pool_restore_commit()`.
  func ttmPoolPageAllocatedRestore(
    _ pool: TTMPool, order: Int, _ p: Page, _ pageCaching: TTMCaching, _ restore: TTMPoolTTRestore,
    _ alloc: TTMPoolAllocState
  ) {
    restore.pool = pool
    restore.order = order
    restore.restoredPages = 0
    restore.pageCaching = pageCaching
    restore.allocedPage = p
    restore.snapshotAlloc = alloc
  }

  /// `ttm_pool_page_allocated()`: apply deferred caching if this page's caching is
  /// consistent, then either stage the page for a restore or commit it to the page array.
  func ttmPoolPageAllocated(
    _ tt: TTMTT, _ pool: TTMPool, order: Int, _ p: Page, _ pageCaching: TTMCaching,
    _ alloc: inout TTMPoolAllocState, _ restore: TTMPoolTTRestore?
  ) throws -> Int {
    // PageHighMem() is false on x86_64.
    let cachingConsistent = pageCaching == alloc.ttCaching
    if cachingConsistent {
      let r = try ttmPoolApplyCaching(tt, &alloc)
      if r != 0 { return r }
    }
    if let restore {
      ttmPoolPageAllocatedRestore(pool, order: order, p, pageCaching, restore, alloc)
    } else {
      ttmPoolAllocatedPageCommit(tt, p, &alloc, 1 << order)
      if cachingConsistent { alloc.cachingDivide = alloc.pages }
    }
    return 0
  }

  /// `ttm_pool_free_range()`: free the pages of `tt->pages[start..<end]`, dropping backup
  /// handles (other than 0) from `tt->backup`.
  public func ttmPoolFreeRange(_ pool: TTMPool?, _ tt: TTMTT, _ caching: TTMCaching, _ start: Int, _ end: Int) {
    var i = start
    while i < end {
      let p = tt.pages[i]
      var nr = 1
      switch p {
      case .handle(let handle):
        if handle != 0 { ttmBackupDrop(tt.backup!, handle) }
      case .page(let page):
        nr = ttmPoolUnmapAndFree(pool, page, caching)
      case .null:
        break
      }
      i += nr
    }
  }

  /// `ttm_pool_alloc_state_init()`.
  public func ttmPoolAllocStateInit(_ tt: TTMTT) -> TTMPoolAllocState {
    TTMPoolAllocState(tt: tt, pages: 0, cachingDivide: 0, remainingPages: tt.numPages, ttCaching: tt.caching)
  }

  /// `ttm_pool_alloc_find_order()`: `min(highest, __fls(remaining_pages))`.
  func ttmPoolAllocFindOrder(_ highest: Int, _ alloc: TTMPoolAllocState) -> Int {
    Swift.min(highest, Int.bitWidth - 1 - alloc.remainingPages.leadingZeroBitCount)
  }

  // MARK: Allocation

  /// The gfp `__ttm_pool_alloc()` builds: `GFP_USER`, `__GFP_ZERO` for
  /// `TTM_TT_FLAG_ZERO_ALLOC`, `__GFP_RETRY_MAYFAIL | __GFP_NOWARN` for
  /// `ctx->gfp_retry_mayfail` (the NOWARN is from 55fcf74cc233, v7.1), then `GFP_DMA32` or
  /// `GFP_HIGHUSER`.
  public func ttmPoolAllocGFP(_ tt: TTMTT, _ ctx: TTMOperationContext) -> GFP {
    var gfpFlags = GFP.GFP_USER
    if tt.pageFlags.contains(.ZERO_ALLOC) { gfpFlags.insert(.__GFP_ZERO) }
    if ctx.gfpRetryMayfail { gfpFlags.formUnion([.__GFP_RETRY_MAYFAIL, .__GFP_NOWARN]) }
    if pool.usesDMA32 {
      gfpFlags.formUnion(.GFP_DMA32)
    } else {
      gfpFlags.formUnion(.GFP_HIGHUSER)
    }
    return gfpFlags
  }

  /// `__ttm_pool_alloc()`: fill the page array from `alloc` on, largest order first
  /// (`MAX_PAGE_ORDER`, or ``TTMPool/maxOrder``), falling back one order at a time when an
  /// allocation fails, and -ENOMEM when order 0 fails. When restoring, each new page is
  /// handed to `ttm_pool_restore_commit()` before it enters the page array. On error
  /// without a restore state, everything allocated is freed; with one, it is kept for a
  /// later resume.
  public func ttmPoolAllocInner(
    _ tt: TTMTT, _ ctx: TTMOperationContext, _ alloc: inout TTMPoolAllocState, _ restore: TTMPoolTTRestore?
  ) throws -> Int {
    // The kernel WARNs and goes on; the model traps, since no modelled flow gets here.
    precondition(
      alloc.remainingPages > 0 && !tt.isPopulated, "WARN_ON(!alloc->remaining_pages || ttm_tt_is_populated(tt))")
    let gfpFlags = ttmPoolAllocGFP(tt, ctx)
    var pageCaching = tt.caching
    var allowPools = true
    var order = ttmPoolAllocFindOrder(pool.maxOrder, alloc)
    var r = 0
    var failedPage: (Page, Int)?
    allocation: do {
      while alloc.remainingPages > 0 {
        // First, try to allocate a page from a pool if one exists.
        var page: Page?
        if let pt = ttmPoolSelectType(pool, pageCaching, order: order), allowPools {
          page = ttmPoolTypeTake(pt, owner: .ttm(tt: tt.id))
        }
        // If that fails or previously failed, allocate from system. Note that this also
        // disallows additional pool allocations using write-back cached pools of the same
        // order.
        if page == nil {
          pageCaching = .cached
          allowPools = false
          page = try ttmPoolAllocPage(pool, gfpFlags, order: order, owner: .ttm(tt: tt.id))
        }
        guard let p = page else {
          // If that fails, lower the order if possible and retry.
          if order > 0 {
            order -= 1
            pageCaching = tt.caching
            allowPools = true
            continue
          }
          r = Errno.ENOMEM.negated
          break allocation
        }
        r = try ttmPoolPageAllocated(tt, pool, order: order, p, pageCaching, &alloc, restore)
        if r != 0 {
          failedPage = (p, order)
          break allocation
        }
        if ttmPoolRestoreValid(restore) {
          r = try functions.require(functions.ttmPoolRestoreCommit, "ttm_pool_restore_commit")(
            self, restore!, tt.backup!, ctx, &alloc)
          if r != 0 { break allocation }
        }
        order = ttmPoolAllocFindOrder(order, alloc)
      }
      r = try ttmPoolApplyCaching(tt, &alloc)
      if r != 0 { break allocation }
      if let restore = tt.restore { machine.kfree(restore.object) }
      tt.restore = nil
      return 0
    }
    // error_free_page:
    if let (p, o) = failedPage { ttmPoolFreePage(pool, pageCaching, order: o, p) }
    // error_free_all:
    if tt.restore != nil { return r }
    let cachingDivide = alloc.cachingDivide
    ttmPoolFreeRange(pool, tt, tt.caching, 0, cachingDivide)
    ttmPoolFreeRange(pool, tt, .cached, cachingDivide, tt.numPages - alloc.remainingPages)
    // The kernel leaves the freed pointers in the array (the tt is not populated); the model
    // clears them so a later look at the array does not see freed pages.
    for i in 0..<(tt.numPages - alloc.remainingPages) { tt.pages[i] = .null }
    return r
  }

  /// `ttm_pool_alloc()`: fill a tt that is not backed up.
  public func ttmPoolAlloc(_ tt: TTMTT, _ ctx: TTMOperationContext) throws -> Int {
    if tt.isBackedUp {
      machine.dmesg.modelNote("WARN_ON(ttm_tt_is_backed_up(tt)) in ttm_pool_alloc()")
      return Errno.EINVAL.negated
    }
    var alloc = ttmPoolAllocStateInit(tt)
    return try ttmPoolAllocInner(tt, ctx, &alloc, nil)
  }

  /// `ttm_pool_free()`: give every page of the tt back (`ttm_pool_free_range()` over the
  /// whole array), then, while more pages sit in pool types than `pool_node_limit` (half
  /// the node's memory unless `page_pool_size` is set), `ttm_pool_shrink()` the excess.
  public func ttmPoolFree(_ tt: TTMTT) {
    ttmPoolFreeRange(pool, tt, tt.caching, 0, tt.numPages)
    while poolAllocatedPages > poolNodeLimit {
      let diff = poolAllocatedPages - poolNodeLimit
      ttmPoolShrink(diff)
    }
    // The kernel leaves the stale pointers; the model clears them, so a later use shows as
    // NULL instead of as a freed page.
    for i in 0..<tt.numPages { tt.pages[i] = .null }
  }

  /// `ttm_pool_drop_backed_up()`: "Release handles with associated content or any remaining
  /// pages of a backed-up struct ttm_tt", including a half-restored page and the restore
  /// state.
  public func ttmPoolDropBackedUp(_ tt: TTMTT) {
    if !tt.isBackedUp { machine.dmesg.modelNote("WARN_ON(!ttm_tt_is_backed_up(tt)) in ttm_pool_drop_backed_up()") }
    var startPage = 0
    let restore = tt.restore
    // Unmap and free any uncommitted restore page.
    if let restore, ttmPoolRestoreValid(restore) {
      ttmPoolUnmapAndFree(restore.pool, restore.allocedPage!, restore.pageCaching)
      restore.restoredPages = 1 << restore.order
    }
    // If a restore is ongoing, part of the tt pages may have a caching different than
    // writeback.
    if let restore {
      let mid = restore.snapshotAlloc.cachingDivide
      startPage = restore.allocedPages
      if mid > startPage { machine.dmesg.modelNote("WARN_ON(mid > start_page) in ttm_pool_drop_backed_up()") }
      ttmPoolFreeRange(restore.pool, tt, tt.caching, 0, mid)
      ttmPoolFreeRange(restore.pool, tt, .cached, mid, restore.allocedPages)
      machine.kfree(restore.object)
      tt.restore = nil
    }
    ttmPoolFreeRange(nil, tt, .cached, startPage, tt.numPages)
    // As in ttmPoolFree(): the kernel leaves stale pointers, the model clears them.
    for i in 0..<tt.numPages { tt.pages[i] = .null }
  }
}
