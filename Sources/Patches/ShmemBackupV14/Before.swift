import BOCore
import Patches

extension ShmemBackupV14 {
  /// TTM swapout before the shmem backup: `drivers/gpu/drm/ttm/ttm_tt.c` and `ttm_bo.c` of
  /// 6.1 .. 6.14 (ttm_tt.c as of torvalds/linux@03a0a1040895).
  public enum Before {
    static func install(into f: inout TTMFunctions) {
      f.ttmBOSwapout = ttmBOSwapout
      f.ttmTTPopulate = ttmTTPopulate
      f.ttmTTUnpopulate = ttmTTUnpopulate
      f.ttmTTCreate = ttmTTCreate
      f.ttmTTFini = ttmTTFini
      f.ttmDeviceInit = ttmDeviceInit
    }

    /// `ttm_device_init()`: no BO shrinker. Legacy TTM swaps BOs out only from
    /// `ttm_global_swapout()`, when `ttm_tt_populate()` finds more than `ttm_pages_limit`
    /// pages allocated (or from debugfs `tt_shrink`); the model's callers do that explicitly.
    static func ttmDeviceInit(_ dev: TTMDevice) {}

    /// The driver's `ttm_tt_create()`: `ttm_tt_init()` only; swap storage is created at
    /// swapout.
    static func ttmTTCreate(_ dev: TTMDevice, _ tt: TTMTT) throws -> Int {
      0
    }

    /// `ttm_bo_swapout()` (`ttm_bo.c`): only a populated, unpinned, not yet swapped BO; wait
    /// for it to be idle (`ttm_bo_wait_ctx()`), then `ttm_tt_swapout(bdev, bo->ttm,
    /// gfp_flags)` with the `GFP_KERNEL` every caller passes (`ttm_global_swapout(ctx,
    /// GFP_KERNEL)`). Legacy swapout has no purge and no writeback: `flags` is not looked at.
    static func ttmBOSwapout(
      _ dev: TTMDevice, _ bo: TTMBufferObject, _ ctx: TTMOperationContext, _ flags: TTMBackupFlags
    ) throws -> Int {
      let tt = bo.tt
      if !tt.isPopulated || tt.pageFlags.contains(.EXTERNAL) || tt.isSwapped || bo.pinCount > 0 {
        return Errno.EBUSY.negated
      }
      // Make sure BO is idle.
      if bo.busy {
        if ctx.noWaitGPU { return Errno.EBUSY.negated }
        bo.busy = false
      }
      return try ttmTTSwapout(dev, tt, .GFP_KERNEL)
    }

    /// `ttm_tt_swapout()`: "Swapout a TT object to a shmem_file, return number of pages
    /// swapped out or negative error code."
    ///
    /// A new shmem file for the whole tt; `gfp_flags &= mapping_gfp_mask()`; every page is
    /// read into the file's page cache (`shmem_read_mapping_page_gfp()`, which allocates with
    /// that gfp), copied, dirtied and put. Only when every page is copied is the tt
    /// unpopulated, so the object needs a full second copy of itself in memory first. On any
    /// error the file is dropped and the tt stays fully populated.
    static func ttmTTSwapout(_ dev: TTMDevice, _ ttm: TTMTT, _ gfp: GFP) throws -> Int {
      let m = dev.machine
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
      try ttmTTUnpopulate(dev, ttm)
      ttm.swapStorage = swapStorage
      ttm.pageFlags.insert(.SWAPPED)
      return ttm.numPages
    }

    /// `ttm_tt_populate()`: allocate the pages (`ttm_pool_alloc()`), then, if the tt was
    /// swapped out, read the content back (`ttm_tt_swapin()`); if that fails, unpopulate.
    /// The `ttm_pages_limit` loop of `ttm_global_swapout()` calls that precedes the allocation
    /// is not modelled (see ``ttmDeviceInit(_:)``).
    static func ttmTTPopulate(_ dev: TTMDevice, _ ttm: TTMTT, _ ctx: TTMOperationContext) throws -> Int {
      if ttm.isPopulated { return 0 }
      var ret = try dev.ttmPoolAlloc(ttm, ctx)
      if ret != 0 { return ret }
      ttm.pageFlags.insert(.PRIV_POPULATED)
      if ttm.isSwapped {
        ret = try ttmTTSwapin(dev, ttm)
        if ret != 0 {
          try ttmTTUnpopulate(dev, ttm)
          return ret
        }
      }
      return 0
    }

    /// `ttm_tt_swapin()`: read every page back from `swap_storage` with the mapping's own gfp
    /// (`GFP_HIGHUSER_MOVABLE`, no `__GFP_RETRY_MAYFAIL`: a swap-in under pressure may invoke
    /// the OOM killer), copy it into the freshly allocated page, then drop the file.
    static func ttmTTSwapin(_ dev: TTMDevice, _ ttm: TTMTT) throws -> Int {
      let m = dev.machine
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

    /// `ttm_tt_unpopulate()`: give the pages back (`ttm_pool_free()`).
    static func ttmTTUnpopulate(_ dev: TTMDevice, _ ttm: TTMTT) throws {
      if !ttm.isPopulated { return }
      dev.ttmPoolFree(ttm)
      ttm.pageFlags.remove(.PRIV_POPULATED)
    }

    /// `ttm_tt_fini()`: drop the swap storage of a swapped-out tt.
    static func ttmTTFini(_ dev: TTMDevice, _ ttm: TTMTT) throws {
      if let swapStorage = ttm.swapStorage { dev.machine.fput(swapStorage) }
      ttm.swapStorage = nil
    }
  }
}
