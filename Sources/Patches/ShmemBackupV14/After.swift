import BOCore
import Patches

extension ShmemBackupV14 {
  /// TTM backup and restore from 6.15: `ttm_tt.c`, `ttm_bo_util.c`, `ttm_backup.c` and
  /// `ttm_pool.c` as merged (ttm_pool.c@278bbe7a11ad, ttm_backup.c@6bd4c123d94c), with an
  /// xe-style driver (`xe_ttm_tt_populate()`, `xe_shrinker.c`).
  public enum After {
    static func install(into f: inout TTMFunctions) {
      f.ttmBOSwapout = ttmBOSwapout
      f.ttmTTPopulate = ttmTTPopulate
      f.ttmTTUnpopulate = ttmTTUnpopulate
      f.ttmTTCreate = ttmTTCreate
      f.ttmTTFini = ttmTTFini
      f.ttmDeviceInit = ttmDeviceInit
      f.ttmPoolBackup = ttmPoolBackup
      f.ttmPoolRestoreAndAlloc = ttmPoolRestoreAndAlloc
    }

    /// `xe_shrinker_create()`: the driver registers its BO shrinker, so reclaim backs up idle
    /// BOs (``TTMBOShrinker``).
    static func ttmDeviceInit(_ dev: TTMDevice) {
      dev.registerShrinker(TTMBOShrinker(device: dev))
    }

    /// `xe_ttm_tt_create()` with `ttm_tt_setup_backup()`: xe marks its tts
    /// `TTM_TT_FLAG_EXTERNAL | TTM_TT_FLAG_EXTERNAL_MAPPABLE` (TTM's global accounting and
    /// swapout leave them alone; the driver shrinks them), and every tt gets its backup file up
    /// front (`ttm_backup_shmem_create(num_pages << PAGE_SHIFT)`).
    static func ttmTTCreate(_ dev: TTMDevice, _ tt: TTMTT) throws -> Int {
      tt.pageFlags.formUnion([.EXTERNAL, .EXTERNAL_MAPPABLE])
      tt.backup = dev.ttmBackupShmemCreate(tt.numPages * PAGE_SIZE)
      return 0
    }

    /// `ttm_bo_shrink()` (`ttm_bo_util.c`): wait for the BO to be idle (`ttm_bo_wait_ctx()`),
    /// then `ttm_tt_backup()`; "Consider -ENOMEM and -ENOSPC non-fatal": any error other than
    /// -EINTR becomes -EBUSY. The BO is already in system memory in the model, so the
    /// `allow_move` validation to system is a no-op.
    static func ttmBOSwapout(
      _ dev: TTMDevice, _ bo: TTMBufferObject, _ ctx: TTMOperationContext, _ flags: TTMBackupFlags
    ) throws -> Int {
      if bo.busy {
        if ctx.noWaitGPU { return Errno.EBUSY.negated }
        bo.busy = false
      }
      let lret = try ttmTTBackup(dev, bo.tt, flags)
      if lret < 0 && lret != Errno.EINTR.negated { return Errno.EBUSY.negated }
      return lret
    }

    /// `ttm_tt_backup()`: `ttm_pool_backup()`, and if anything was backed up or purged the tt
    /// is no longer populated but `TTM_TT_FLAG_BACKED_UP`.
    static func ttmTTBackup(_ dev: TTMDevice, _ tt: TTMTT, _ flags: TTMBackupFlags) throws -> Int {
      guard tt.backup != nil else {
        dev.machine.dmesg.modelNote("WARN_ON(IS_ERR_OR_NULL(tt->backup)) in ttm_tt_backup()")
        return 0
      }
      let ret = try dev.functions.ttmPoolBackup!(dev, tt, flags)
      if ret > 0 {
        tt.pageFlags.remove(.PRIV_POPULATED)
        tt.pageFlags.insert(.BACKED_UP)
      }
      return ret
    }

    /// `ttm_tt_populate()` with `xe_ttm_tt_populate()`: a backed-up tt that is not purgeable
    /// is restored (`ttm_tt_restore()`), anything else gets fresh pages.
    static func ttmTTPopulate(_ dev: TTMDevice, _ tt: TTMTT, _ ctx: TTMOperationContext) throws -> Int {
      if tt.isPopulated { return 0 }
      let err: Int
      if tt.isBackedUp && !isPurgeable(dev, tt) {
        err = try ttmTTRestore(dev, tt, ctx)
      } else {
        tt.pageFlags.remove(.BACKED_UP)
        err = try dev.ttmPoolAlloc(tt, ctx)
      }
      if err != 0 { return err }
      // xe_tt->purgeable = false: repopulated content is worth keeping again.
      dev.lru.first { $0.tt === tt }?.purgeable = false
      tt.pageFlags.insert(.PRIV_POPULATED)
      return 0
    }

    /// `xe_ttm_tt->purgeable` of the BO owning `tt`.
    static func isPurgeable(_ dev: TTMDevice, _ tt: TTMTT) -> Bool {
      dev.lru.first { $0.tt === tt }?.purgeable ?? false
    }

    /// `ttm_tt_restore()`: `ttm_pool_restore_and_alloc()`; on success the tt is no longer
    /// backed up.
    static func ttmTTRestore(_ dev: TTMDevice, _ tt: TTMTT, _ ctx: TTMOperationContext) throws -> Int {
      let ret = try dev.functions.ttmPoolRestoreAndAlloc!(dev, tt, ctx)
      if ret != 0 { return ret }
      tt.pageFlags.remove(.BACKED_UP)
      return 0
    }

    /// `ttm_tt_unpopulate()` with `xe_ttm_tt_unpopulate()`: `ttm_pool_free()`. A backed-up tt
    /// is not populated; its content goes in `ttm_tt_fini()`.
    static func ttmTTUnpopulate(_ dev: TTMDevice, _ tt: TTMTT) throws {
      if !tt.isPopulated { return }
      dev.ttmPoolFree(tt)
      tt.pageFlags.remove(.PRIV_POPULATED)
    }

    /// `ttm_tt_fini()`: drop what is backed up (`ttm_pool_drop_backed_up()`, a half-restored
    /// tt included), then the backup file (`ttm_backup_fini()`).
    static func ttmTTFini(_ dev: TTMDevice, _ tt: TTMTT) throws {
      if let swapStorage = tt.swapStorage { dev.machine.fput(swapStorage) }
      tt.swapStorage = nil
      if tt.isBackedUp { dev.ttmPoolDropBackedUp(tt) }
      if let backup = tt.backup { dev.ttmBackupFini(backup) }
      tt.backup = nil
    }

    /// `ttm_backup_backup_page()` (`ttm_backup.c`): read the shmem folio at `idx` with
    /// `alloc_gfp` (allocating it), copy the page in, and return the handle `idx + 1`. With
    /// `writeback`, an unmapped folio is written out at once (`shmem_writeout()`); "If
    /// writeout succeeds, it unlocks the folio. errors are otherwise dropped, since writeout
    /// is only best effort here": the folio is unlocked on any non-zero return, including a
    /// hard error after which `shmem_writeout()` already unlocked it.
    static func ttmBackupBackupPage(
      _ dev: TTMDevice, _ backup: ShmemFileID, _ page: Page, writeback: Bool, _ idx: Int, pageGFP: GFP,
      allocGFP: GFP
    ) throws -> Int {
      let m = dev.machine
      let toFolio: Page
      switch try errPtr({ try m.shmemReadFolioGFP(backup, idx, allocGFP) }) {
      case .failure(let err): return err.negated
      case .success(let folio): toFolio = folio
      }
      // folio_mark_accessed(), folio_mark_dirty(): every shmem folio is dirty in the model.
      m.folioLock(toFolio)
      m.copyHighpage(to: m.folioFilePage(toFolio, idx), from: page)
      let handle = ttmBackupShmemIdxToHandle(idx)
      // folio_mapped() is false and folio_clear_dirty_for_io() succeeds for a backup folio.
      if writeback {
        let ret = m.shmemWriteout(toFolio)
        if ret != .written { m.folioUnlock(toFolio) }
      } else {
        m.folioUnlock(toFolio)
      }
      m.folioPut(toFolio)
      return Int(handle)
    }

    /// `ttm_pool_backup()`: "Back up or purge a struct ttm_tt."
    ///
    /// -EBUSY without swap space (unless purging) or for a DMA-alloc pool. Write-combined or
    /// uncached pages go back to write-back first (`set_pages_array_wb()` over the whole
    /// array). A purge frees every page at its order and returns the count. Otherwise each
    /// page is split to order 0 (`ttm_pool_split_for_swap()`), backed up with `alloc_gfp =
    /// GFP_KERNEL | __GFP_HIGH | __GFP_NOWARN | __GFP_RETRY_MAYFAIL`, replaced by its handle
    /// and freed at once. The first error stops the loop: "We allow partially shrunken tts",
    /// so the result is the number backed up, or the error if none was. With
    /// `backup_fault_inject` firing, only the first half of the pages is backed up.
    static func ttmPoolBackup(_ dev: TTMDevice, _ tt: TTMTT, _ flags: TTMBackupFlags) throws -> Int {
      let m = dev.machine
      let pool = dev.pool
      var ret = 0
      var shrunken = 0
      if tt.isBackedUp {
        m.dmesg.modelNote("WARN_ON(ttm_tt_is_backed_up(tt)) in ttm_pool_backup()")
        return Errno.EINVAL.negated
      }
      if (dev.ttmBackupBytesAvail() == 0 && !flags.purge) || pool.usesDMAAlloc || tt.isBackedUp {
        return Errno.EBUSY.negated
      }
      // CONFIG_X86: Anything returned to the system needs to be cached.
      if tt.caching != .cached {
        _ = try dev.setPagesArray(tt, 0..<tt.numPages, to: .cached, caller: "ttm_pool_backup")
      }
      // tt->dma_address is NULL in the model, so only a purge walks the pages here.
      if flags.purge {
        var i = 0
        while i < tt.numPages {
          // Only NULL is skipped: a backup handle is taken for a page, and
          // ttm_pool_page_order() reads page->private through it.
          let page: Page
          switch tt.pages[i] {
          case .null:
            i += 1
            continue
          case .handle:
            throw tt.pages[i].derefOops(
              offset: STRUCT_PAGE_PRIVATE_OFFSET, callChain: ["ttm_pool_page_order", "ttm_pool_backup"])
          case .page(let p): page = p
          }
          let order = dev.ttmPoolPageOrder(pool, page)
          let numPages = 1 << order
          shrunken += numPages
          m.setPagePrivate(page, 0)
          dev.freePagesGPUAccount(page, order: order)
          for j in i..<(i + numPages) { tt.pages[j] = .null }
          i += numPages
        }
        return shrunken
      }
      let gfp: GFP = pool.usesDMA32 ? .GFP_DMA32 : .GFP_HIGHUSER
      let allocGFP: GFP = [.GFP_KERNEL, .__GFP_HIGH, .__GFP_NOWARN, .__GFP_RETRY_MAYFAIL]
      var numPages = tt.numPages
      // Pretend doing fault injection by shrinking only half of the pages.
      if m.faults.shouldFail(.backupFaultInject) { numPages = (numPages + 1) / 2 }
      for i in 0..<numPages {
        // As in the purge loop, only NULL is skipped.
        let page: Page
        switch tt.pages[i] {
        case .null: continue
        case .handle:
          throw tt.pages[i].derefOops(
            offset: STRUCT_PAGE_PRIVATE_OFFSET,
            callChain: ["ttm_pool_page_order", "ttm_pool_split_for_swap", "ttm_pool_backup"])
        case .page(let p): page = p
        }
        dev.ttmPoolSplitForSwap(pool, page)
        let shandle = try ttmBackupBackupPage(
          dev, tt.backup!, page, writeback: flags.writeback, i, pageGFP: gfp, allocGFP: allocGFP)
        if shandle < 0 {
          // We allow partially shrunken tts.
          ret = shandle
          break
        }
        tt.pages[i] = .handle(UInt(shandle))
        dev.freePagesGPUAccount(page, order: 0)
        shrunken += 1
      }
      return shrunken > 0 ? shrunken : ret
    }

    /// `ttm_pool_restore_and_alloc()`: "Fill the ttm_tt object with pages ... Read in
    /// backed-up content."
    ///
    /// The first call `kzalloc`s the restore state (`GFP_KERNEL | __GFP_NOWARN`, plus
    /// `__GFP_RETRY_MAYFAIL` for `ctx->gfp_retry_mayfail`); a later call resumes from its
    /// snapshot, first finishing a partially restored page. When nothing is left to allocate
    /// it returns 0 at once, leaving `tt->restore` in place (what "Drop tt->restore after
    /// successful restore" later fixes).
    static func ttmPoolRestoreAndAlloc(_ dev: TTMDevice, _ tt: TTMTT, _ ctx: TTMOperationContext) throws -> Int {
      var restore = tt.restore
      var alloc: TTMPoolAllocState
      if !tt.isBackedUp {
        dev.machine.dmesg.modelNote("WARN_ON(!ttm_tt_is_backed_up(tt)) in ttm_pool_restore_and_alloc()")
        return Errno.EINVAL.negated
      }
      if restore == nil {
        var gfp: GFP = [.GFP_KERNEL, .__GFP_NOWARN]
        alloc = dev.ttmPoolAllocStateInit(tt)
        if ctx.gfpRetryMayfail { gfp.insert(.__GFP_RETRY_MAYFAIL) }
        guard let object = try dev.machine.kmalloc(96, gfp, what: "ttm_pool_tt_restore") else {
          return Errno.ENOMEM.negated
        }
        let newRestore = TTMPoolTTRestore(object: object, snapshotAlloc: alloc)
        newRestore.pool = dev.pool
        newRestore.restoredPages = 1
        tt.restore = newRestore
        restore = newRestore
      } else {
        alloc = restore!.snapshotAlloc
        if dev.ttmPoolRestoreValid(restore) {
          let ret = try dev.functions.ttmPoolRestoreCommit!(dev, restore!, tt.backup!, ctx, &alloc)
          if ret != 0 { return ret }
        }
        if alloc.remainingPages == 0 { return 0 }
      }
      return try dev.ttmPoolAllocInner(tt, ctx, &alloc, restore)
    }
  }
}
