// Placements: where a BO lives (ttm_resource->mem_type) and how it moves, from ttm_bo.c
// (ttm_bo_validate(), ttm_bo_handle_move_mem(), ttm_bo_evict(), ttm_bo_tt_destroy()) and
// ttm_bo_util.c (ttm_bo_move_memcpy(), ttm_bo_move_sync_cleanup()) of the 6.18.19 tree.
//
// The driver's callbacks are those of a simple discrete GPU in the style of amdgpu and xe:
// `move` binds or unbinds a tt between TTM_PL_SYSTEM and TTM_PL_TT and copies with the CPU
// (ttm_bo_move_memcpy()) to and from VRAM; `evict_flags` sends VRAM and driver-private BOs
// to TTM_PL_TT and TTM_PL_TT BOs to TTM_PL_SYSTEM. Not modelled: GPU copies (blits), the GTT
// manager's size, multihop moves, fences of a move (every move completes at once), `bo->deleted`
// ghosts, busy placements. VRAM is a page-granular store of the device's own, not RAM.

extension TTMDevice {
  /// `ttm_resource_alloc()` for `memType`: VRAM needs `numPages` free VRAM pages (-ENOSPC
  /// without them, after the caller tried eviction); a driver-private type has no manager in
  /// the model (-ENOSPC); the model-only ``FaultPoint/ttmResourceAlloc`` makes it fail with
  /// -ENOMEM (the resource's `kzalloc()`).
  func ttmResourceAlloc(_ bo: TTMBufferObject, _ memType: TTMMemType) -> Result<TTMResource, Errno> {
    if machine.faults.shouldFail(.ttmResourceAlloc) { return .failure(.ENOMEM) }
    switch memType {
    case .system, .tt: break
    case .vram:
      guard vramPagesUsed + bo.numPages <= vramPages else { return .failure(.ENOSPC) }
      vramPagesUsed += bo.numPages
    case .priv: return .failure(.ENOSPC)
    }
    return .success(TTMResource(memType: memType))
  }

  /// `ttm_resource_free()`.
  func ttmResourceFree(_ bo: TTMBufferObject, _ res: TTMResource) {
    if res.memType == .vram { vramPagesUsed -= bo.numPages }
  }

  /// `ttm_bo_mem_space()` for one placement: allocate the resource, and if VRAM is full evict
  /// the least recently used VRAM BOs that are not pinned or reserved (`ttm_bo_evict_alloc()`
  /// → `ttm_bo_evict()`) until it fits; -ENOSPC when nothing more can be evicted.
  func ttmBOMemSpace(_ bo: TTMBufferObject, _ memType: TTMMemType, _ ctx: TTMOperationContext) throws -> Result<
    TTMResource, Errno
  > {
    while true {
      let r = ttmResourceAlloc(bo, memType)
      guard case .failure(.ENOSPC) = r, memType == .vram else { return r }
      guard
        let victim = lru.first(where: {
          $0 !== bo && $0.resource.memType == .vram && $0.pinCount == 0 && !$0.reserved
        })
      else { return r }
      victim.reserved = true
      defer { victim.reserved = false }
      let ret = try ttmBOEvict(victim, ctx)
      if ret != 0 { return .failure(Errno(returnValue: ret) ?? .ENOSPC) }
    }
  }

  /// `ttm_bo_validate()` with a single placement, `memType` (`ttm_bo_move_buffer()`): nothing
  /// to do if the BO is there already; otherwise a pinned BO cannot move (-EINVAL), and the
  /// BO moves through ``ttmBOMove(_:to:evict:_:)``. Returns 0 or a negative errno.
  public func ttmBOValidate(_ bo: TTMBufferObject, to memType: TTMMemType, _ ctx: TTMOperationContext) throws -> Int {
    if bo.resource.memType == memType { return 0 }
    if bo.pinCount > 0 { return Errno.EINVAL.negated }
    return try ttmBOMove(bo, to: memType, evict: false, ctx)
  }

  /// `ttm_bo_evict()`: the driver's `evict_flags` give the placement (VRAM and private types
  /// go to `TTM_PL_TT`, `TTM_PL_TT` goes to `TTM_PL_SYSTEM`; a system BO has nowhere to go,
  /// "Buffer eviction failed" is not reached and -EBUSY is returned), then
  /// `ttm_bo_handle_move_mem(evict = true)`. Returns 0 or a negative errno.
  public func ttmBOEvict(_ bo: TTMBufferObject, _ ctx: TTMOperationContext) throws -> Int {
    let target: TTMMemType
    switch bo.resource.memType {
    case .vram, .priv: target = .tt
    case .tt: target = .system
    case .system: return Errno.EBUSY.negated
    }
    let wait = ttmBOWaitCtx(bo, ctx)
    if wait != 0 { return wait }
    return try kernelFrame("ttm_bo_evict") { try ttmBOMove(bo, to: target, evict: true, ctx) }
  }

  /// Allocate the new resource and `ttm_bo_handle_move_mem()`: a manager that uses a tt gets
  /// one created (`ttm_tt_create(bo, old_use_tt)`, zeroed if the old place had one) and, if
  /// it is not `TTM_PL_SYSTEM`, populated (`ttm_bo_populate()`); then the driver's `move`;
  /// on error a tt the old place did not use is destroyed again. The old resource is freed
  /// once the BO is in the new one.
  func ttmBOMove(_ bo: TTMBufferObject, to memType: TTMMemType, evict: Bool, _ ctx: TTMOperationContext) throws
    -> Int
  {
    let mem: TTMResource
    switch try ttmBOMemSpace(bo, memType, ctx) {
    case .failure(let err): return err.negated
    case .success(let r): mem = r
    }
    let oldUseTT = bo.resource.memType.usesTT
    let ret = try ttmBOHandleMoveMem(bo, mem, oldUseTT: oldUseTT, ctx)
    if ret != 0 {
      ttmResourceFree(bo, mem)
      return ret
    }
    return 0
  }

  private func ttmBOHandleMoveMem(_ bo: TTMBufferObject, _ mem: TTMResource, oldUseTT: Bool, _ ctx: TTMOperationContext)
    throws -> Int
  {
    if mem.memType.usesTT {
      // Zero init the new TTM structure if the old location should have used one as well.
      if bo.ttm == nil {
        let ret = try ttmTTCreate(bo, zeroAlloc: oldUseTT)
        if ret != 0 { return ret }
      }
      if mem.memType != .system {
        let ret = try functions.ttmTTPopulate(self, bo.tt, ctx)
        if ret != 0 {
          if !oldUseTT { try ttmBOTTDestroy(bo) }
          return ret
        }
      }
    }
    let ret = try ttmBODriverMove(bo, mem, ctx)
    if ret != 0 {
      if !oldUseTT { try ttmBOTTDestroy(bo) }
      return ret
    }
    return 0
  }

  /// The driver's `move` callback: between `TTM_PL_SYSTEM` and `TTM_PL_TT` the tt is bound or
  /// unbound and the pages stay (`ttm_bo_move_null()`-like); to or from VRAM the content is
  /// copied by the CPU (`ttm_bo_move_memcpy()`), after which a BO in VRAM has no tt
  /// (`ttm_bo_move_sync_cleanup()` → `ttm_bo_tt_destroy()`).
  func ttmBODriverMove(_ bo: TTMBufferObject, _ mem: TTMResource, _ ctx: TTMOperationContext) throws -> Int {
    let old = bo.resource
    if old.memType.usesTT && mem.memType.usesTT {
      ttmResourceFree(bo, old)
      bo.resource = mem
      return 0
    }
    // ttm_bo_move_memcpy(): a destination that uses a tt is populated first.
    if mem.memType.usesTT {
      let ret = try functions.ttmTTPopulate(self, bo.tt, ctx)
      if ret != 0 { return ret }
      let content = bo.vramContent ?? []
      for (i, p) in bo.tt.pages.enumerated() {
        guard case .page(let page) = p else { continue }
        machine.memcpyFromIO(to: page, i < content.count ? content[i] : .zero)
      }
      bo.vramContent = nil
    } else {
      // ttm_bo_move_memcpy(): a swapped-out tt is brought back first.
      if let ttm = bo.ttm, ttm.isSwapped {
        let ret = try functions.ttmTTPopulate(self, ttm, ctx)
        if ret != 0 { return ret }
      }
      var content: [PageContent] = []
      if let ttm = bo.ttm, ttm.isPopulated {
        for p in ttm.pages {
          if case .page(let page) = p { content.append(machine.memcpyToIO(from: page)) } else { content.append(.zero) }
        }
      } else {
        // The source is not populated (never, or backed up: only a swapped-out tt is brought
        // back): ttm_move_memcpy() clears the destination.
        content = Array(repeating: .zero, count: bo.numPages)
      }
      bo.vramContent = content
      // ttm_bo_move_sync_cleanup() → ttm_bo_wait_free_node(bo, dst_use_tt = false).
      try ttmBOTTDestroy(bo)
    }
    ttmResourceFree(bo, old)
    bo.resource = mem
    return 0
  }

  /// `ttm_bo_tt_destroy()`: `ttm_tt_unpopulate()`, `ttm_tt_destroy()` (the driver's, which
  /// calls `ttm_tt_fini()`), `bo->ttm = NULL`.
  public func ttmBOTTDestroy(_ bo: TTMBufferObject) throws {
    guard let ttm = bo.ttm else { return }
    try functions.ttmTTUnpopulate(self, ttm)
    try functions.ttmTTFini(self, ttm)
    bo.ttm = nil
  }
}

extension Machine {
  /// A CPU copy of one page from device memory (`ttm_move_memcpy()` through a linear I/O
  /// mapping): counted with ``ModelStatistics/pagesCopied`` and ``ModelStatistics/bytesCopied``.
  func memcpyFromIO(to page: Page, _ content: PageContent) {
    mem[page].content = content
    vmstat.bytesCopied += PAGE_SIZE
    counters.pagesCopied += 1
  }

  /// A CPU copy of one page to device memory; returns what the device now holds.
  func memcpyToIO(from page: Page) -> PageContent {
    vmstat.bytesCopied += PAGE_SIZE
    counters.pagesCopied += 1
    return mem[page].content
  }
}
