// TTM's global swapout, which every tree the matrix covers has, before and after the shmem
// backup series (which added a second path next to it, not instead of it): ttm_tt_swapout()
// and ttm_tt_swapin() (ttm_tt.c), ttm_bo_swapout_cb() and ttm_bo_swapout() (ttm_bo.c),
// ttm_device_swapout() and ttm_global_swapout() (ttm_device.c), and the ttm_pages_limit
// accounting of ttm_tt_populate()/ttm_tt_unpopulate(). Transliterated from the 6.18.19 tree
// (6952350/linux-6.18.y, read with git in this project); 6.1 and 6.6 do the same per BO in
// ttm_bo_swapout(bo, ctx, gfp) called from a loop over the LRU in ttm_device_swapout(), with
// the same checks (read from the 6.12 tree's history only in part: UNVERIFIED for 6.1/6.6).

/// `TTM_PL_*` (`include/drm/ttm/ttm_placement.h`): a resource manager, i.e. where a BO's
/// backing store is.
public enum TTMMemType: Hashable, Sendable, CustomStringConvertible {
  /// `TTM_PL_SYSTEM` (0): system memory the GPU cannot reach; the tt holds the pages.
  case system
  /// `TTM_PL_TT` (1): system memory bound into the GPU's address space (GTT); the tt holds
  /// the pages.
  case tt
  /// `TTM_PL_VRAM` (2): device memory; no tt.
  case vram
  /// `TTM_PL_PRIV` (3) and above: driver-private memory types (amdgpu's GDS, GWS, OA); no tt.
  case priv(Int)

  /// The `mem_type` number.
  public var rawValue: Int {
    switch self {
    case .system: 0
    case .tt: 1
    case .vram: 2
    case .priv(let n): 3 + n
    }
  }

  /// `man->use_tt`: the manager's BOs keep their pages in a `ttm_tt`.
  public var usesTT: Bool {
    switch self {
    case .system, .tt: true
    case .vram, .priv: false
    }
  }

  public var description: String {
    switch self {
    case .system: "TTM_PL_SYSTEM"
    case .tt: "TTM_PL_TT"
    case .vram: "TTM_PL_VRAM"
    case .priv(0): "TTM_PL_PRIV"
    case .priv(let n): "TTM_PL_PRIV+\(n)"
    }
  }
}

/// `struct ttm_resource`: where a BO is placed. Its own allocation (`kzalloc()` in
/// `ttm_sys_man_alloc()` and the range managers) is not charged to memory in the model; it
/// fails only through the model-only ``FaultPoint/ttmResourceAlloc`` and, for VRAM, when the
/// manager has no room (-ENOSPC).
public struct TTMResource: Hashable, Sendable {
  public let memType: TTMMemType
  public init(memType: TTMMemType) { self.memType = memType }
}

extension FaultPoint {
  /// Model-only: `ttm_resource_alloc()` fails with -ENOMEM, as when the `kzalloc()` of the
  /// resource in `ttm_sys_man_alloc()` (or a range manager's node) fails. The model does not
  /// charge resources to memory, so this point stands for that allocation.
  public static let ttmResourceAlloc = FaultPoint("ttm_resource_alloc", isModelOnly: true)
}

extension TTMDevice {
  // MARK: ttm_tt_swapout / ttm_tt_swapin

  /// `ttm_tt_swapout()` (`ttm_tt.c`): "Swapout a TT object to a shmem_file, return number of
  /// pages swapped out or negative error code."
  ///
  /// A new shmem file for the whole tt; `gfp_flags &= mapping_gfp_mask()`; every page is read
  /// into the file's page cache (`shmem_read_mapping_page_gfp()`, which allocates with that
  /// gfp), copied, dirtied and put. Only when every page is copied is the tt unpopulated
  /// (`ttm_tt_unpopulate()`), so the object needs a full second copy of itself in memory
  /// first. On any error the file is dropped and the tt stays fully populated.
  public func ttmTTSwapout(_ ttm: TTMTT, _ gfp: GFP) throws -> Int {
    let m = machine
    let size = ttm.numPages * PAGE_SIZE
    let swapStorage = m.shmemFileSetup("ttm swap", size: size)
    let gfpFlags = gfp.intersection(m.mappingGFPMask(swapStorage))
    for i in 0..<ttm.numPages {
      guard case .page(let fromPage) = ttm.pages[i] else { continue }
      switch try errPtr({ try m.shmemReadFolioGFP(swapStorage, i, gfpFlags) }) {
      case .failure(let err):
        m.fput(swapStorage)
        return err.negated
      case .success(let folio):
        let toPage = m.folioFilePage(folio, i)
        m.copyHighpage(to: toPage, from: fromPage)
        // set_page_dirty(), mark_page_accessed(): every shmem folio is dirty in the model.
        m.folioPut(folio)
      }
    }
    try functions.ttmTTUnpopulate(self, ttm)
    ttm.swapStorage = swapStorage
    ttm.pageFlags.insert(.SWAPPED)
    return ttm.numPages
  }

  /// `ttm_tt_swapin()`: read every page back from `swap_storage` with the mapping's own gfp
  /// (`GFP_HIGHUSER_MOVABLE`, no `__GFP_RETRY_MAYFAIL`: a swap-in under pressure may invoke
  /// the OOM killer), copy it into the freshly allocated page, then drop the file.
  public func ttmTTSwapin(_ ttm: TTMTT) throws -> Int {
    let m = machine
    guard let swapStorage = ttm.swapStorage else { preconditionFailure("BUG_ON(swap_storage == NULL)") }
    let gfpMask = m.mappingGFPMask(swapStorage)
    for i in 0..<ttm.numPages {
      switch try errPtr({ try m.shmemReadFolioGFP(swapStorage, i, gfpMask) }) {
      case .failure(let err):
        return err.negated
      case .success(let folio):
        // The kernel returns here without putting from_page; unreachable after a
        // successful ttm_pool_alloc().
        guard case .page(let toPage) = ttm.pages[i] else { return Errno.ENOMEM.negated }
        m.copyHighpage(to: toPage, from: m.folioFilePage(folio, i))
        m.folioPut(folio)
      }
    }
    m.fput(swapStorage)
    ttm.swapStorage = nil
    ttm.pageFlags.remove(.SWAPPED)
    return 0
  }

  // MARK: ttm_pages_limit

  /// `ttm_tt_populate()`'s accounting: a tt that is not `TTM_TT_FLAG_EXTERNAL` counts in
  /// `ttm_pages_allocated` (and `ttm_dma32_pages_allocated` for a DMA32 pool).
  public func ttmTTAccountAdd(_ ttm: TTMTT) {
    if ttm.pageFlags.contains(.EXTERNAL) { return }
    ttmPagesAllocated += ttm.numPages
    if pool.usesDMA32 { ttmDMA32PagesAllocated += ttm.numPages }
  }

  /// The reverse of ``ttmTTAccountAdd(_:)``, in `ttm_tt_unpopulate()` and on
  /// `ttm_tt_populate()`'s error path.
  public func ttmTTAccountSub(_ ttm: TTMTT) {
    if ttm.pageFlags.contains(.EXTERNAL) { return }
    ttmPagesAllocated -= ttm.numPages
    if pool.usesDMA32 { ttmDMA32PagesAllocated -= ttm.numPages }
  }

  /// The loop of `ttm_tt_populate()` after the accounting: while more pages are allocated
  /// than `ttm_pages_limit` (or DMA32 pages than `ttm_dma32_pages_limit`), swap a BO out
  /// with `ttm_global_swapout(ctx, GFP_KERNEL)`; stop when nothing more can go. Returns 0, or
  /// the negative error of a swapout (the caller undoes its accounting and returns it).
  public func ttmTTPopulateLimit(_ ctx: TTMOperationContext) throws -> Int {
    while ttmPagesAllocated > ttmPagesLimit || ttmDMA32PagesAllocated > ttmDMA32PagesLimit {
      let ret = try ttmGlobalSwapout(ctx, .GFP_KERNEL)
      if ret == 0 { break }
      if ret < 0 { return ret }
    }
    return 0
  }

  // MARK: The LRU walk

  /// `ttm_bo_swapout_cb()` (`ttm_bo.c`), the legacy swapout of one BO the LRU walk found:
  /// -EBUSY for a pinned BO, one without a populated tt, an `EXTERNAL` tt (the driver shrinks
  /// those itself) or one already swapped; a BO not in `TTM_PL_SYSTEM` is moved there first
  /// ("Move to system cached"); then wait for it to be idle (`ttm_bo_wait_ctx()`: -EBUSY with
  /// `no_wait_gpu`), `ttm_tt_swapout()` with the walk's gfp, and the BO goes to the LRU tail.
  /// "Consider -ENOMEM and -ENOSPC non-fatal": both become -EBUSY. `bo->deleted` (delayed
  /// destruction) is not modelled; `eviction_valuable()` is taken as true.
  public func ttmBOSwapoutCB(_ bo: TTMBufferObject, _ ctx: TTMOperationContext, _ gfp: GFP) throws -> Int {
    var ret = try swapoutCB(bo, ctx, gfp)
    if ret == Errno.ENOMEM.negated || ret == Errno.ENOSPC.negated { ret = Errno.EBUSY.negated }
    return ret
  }

  private func swapoutCB(_ bo: TTMBufferObject, _ ctx: TTMOperationContext, _ gfp: GFP) throws -> Int {
    if bo.pinCount > 0 { return Errno.EBUSY.negated }
    guard let ttm = bo.ttm, ttm.isPopulated, !ttm.pageFlags.contains(.EXTERNAL), !ttm.isSwapped else {
      return Errno.EBUSY.negated
    }
    // Move to system cached.
    if bo.resource.memType != .system {
      let ret = try ttmBOMove(bo, to: .system, evict: true, ctx)
      if ret != 0 { return ret }
    }
    // Make sure BO is idle.
    let wait = ttmBOWaitCtx(bo, ctx)
    if wait != 0 { return wait }
    var ret = 0
    if ttm.isPopulated {
      ret = try ttmTTSwapout(ttm, gfp)
      bumpLRU(bo)
    }
    return ret
  }

  /// `ttm_bo_wait_ctx()`: -EBUSY if the GPU still uses the BO and `no_wait_gpu` is set;
  /// otherwise the wait ends with the BO idle.
  public func ttmBOWaitCtx(_ bo: TTMBufferObject, _ ctx: TTMOperationContext) -> Int {
    if bo.busy {
      if ctx.noWaitGPU { return Errno.EBUSY.negated }
      bo.busy = false
    }
    return 0
  }

  /// `ttm_bo_swapout(bdev, ctx, man, gfp_flags, target)` → `ttm_lru_walk_for_evict()`: walk
  /// `man`'s LRU from the least recently used BO, trylocking each (a reserved BO is
  /// skipped), run ``ttmBOSwapoutCB(_:_:_:)``; -EBUSY and -EALREADY count as no progress; stop
  /// at an error or once `target` is reached. Returns the progress (pages) or the error.
  ///
  /// The kernel's restartable cursor may meet a BO moved to the LRU tail again; the model
  /// visits each BO once (UNVERIFIED which the kernel does after a failed swapout).
  public func ttmBOSwapout(_ man: TTMMemType, _ ctx: TTMOperationContext, _ gfp: GFP, target: Int) throws -> Int {
    var progress = 0
    for bo in lru where bo.resource.memType == man && !bo.reserved {
      bo.reserved = true
      defer { bo.reserved = false }
      var lret = try kernelFrame("ttm_bo_swapout_cb") { try ttmBOSwapoutCB(bo, ctx, gfp) }
      if lret == Errno.EBUSY.negated || lret == Errno.EALREADY.negated { lret = 0 }
      progress = lret < 0 ? lret : progress + lret
      if progress < 0 || progress >= target { break }
    }
    return progress
  }

  /// `ttm_device_swapout()` (`ttm_device.c`): `ttm_bo_swapout(..., target 1)` over every
  /// manager that uses a tt (`TTM_PL_SYSTEM`, then `TTM_PL_TT`), returning the first non-zero
  /// result (pages swapped out, or an error).
  public func ttmDeviceSwapout(_ ctx: TTMOperationContext, _ gfp: GFP) throws -> Int {
    for man in [TTMMemType.system, .tt] {
      let lret = try ttmBOSwapout(man, ctx, gfp, target: 1)
      // Can be both positive (num_pages) and negative (error).
      if lret != 0 { return lret }
    }
    return 0
  }

  /// `ttm_global_swapout()` ("A buffer object shrink method that tries to swap out the first
  /// buffer object on the global::swap_lru list"): `ttm_device_swapout()` of each device until
  /// one makes progress. The model's machines have one TTM device.
  public func ttmGlobalSwapout(_ ctx: TTMOperationContext, _ gfp: GFP) throws -> Int {
    try kernelFrame("ttm_global_swapout") { try ttmDeviceSwapout(ctx, gfp) }
  }
}
