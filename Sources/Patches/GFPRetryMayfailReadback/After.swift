import BOCore
import Patches

extension GFPRetryMayfailReadback {
  /// Readback after c6135f67: `ttm_backup.c@81df4cb5606b` and `ttm_pool.c@278bbe7a11ad`.
  public enum After {
    static func install(into f: inout TTMFunctions) {
      f.ttmPoolRestoreCommit = ttmPoolRestoreCommit
      f.ttmBackupCopyPage = { dev, backup, dst, handle, intr, additionalGFP in
        try ttmBackupCopyPage(dev, backup, dst, handle, intr: intr, additionalGFP: additionalGFP ?? [])
      }
    }

    /// `ttm_backup_copy_page()` (`ttm_backup.c`): "Copy the contents of a previously backed
    /// up page". Reads the folio with `mapping_gfp_mask(mapping) | additional_gfp`.
    static func ttmBackupCopyPage(
      _ dev: TTMDevice, _ backup: ShmemFileID, _ dst: Page, _ handle: UInt, intr: Bool, additionalGFP: GFP
    ) throws -> Int {
      let m = dev.machine
      let idx = ttmBackupHandleToShmemIdx(handle)
      let fromFolio: Page
      switch try errPtr({
        try m.shmemReadFolioGFP(backup, idx, m.mappingGFPMask(backup).union(additionalGFP))
      }) {
      case .failure(let err): return err.negated
      case .success(let folio): fromFolio = folio
      }
      m.copyHighpage(to: dst, from: m.folioFilePage(fromFolio, idx))
      m.folioPut(fromFolio)
      return 0
    }

    /// `ttm_pool_restore_commit()` (`ttm_pool.c`): "restore backed-up content to the newly
    /// allocated page and if successful, populate the page-table and dma-address arrays."
    ///
    /// For each 4K slot of the new page: handle 0 is already restored; another handle is
    /// copied in (`ttm_backup_copy_page()`) and dropped; a page the backup left behind is
    /// split, copied and freed. Every finished slot becomes handle 0. On error with nothing
    /// restored, the new page is freed. `backup_fault_inject` on an interruptible context
    /// makes it return -EINTR. With `ctx->gfp_retry_mayfail`, the readback adds
    /// `__GFP_RETRY_MAYFAIL | __GFP_NOWARN`.
    static func ttmPoolRestoreCommit(
      _ dev: TTMDevice, _ restore: TTMPoolTTRestore, _ backup: ShmemFileID, _ ctx: TTMOperationContext,
      _ alloc: inout TTMPoolAllocState
    ) throws -> Int {
      let m = dev.machine
      let tt = alloc.tt
      let nr = 1 << restore.order
      let firstPage = alloc.pages
      var ret = 0
      var i = restore.restoredPages
      while i < nr {
        let p = tt.pages[firstPage + i]
        if ttmBackupPagePtrIsHandle(p) {
          let handle = ttmBackupPagePtrToHandle(p)
          let additionalGFP: GFP = ctx.gfpRetryMayfail ? [.__GFP_RETRY_MAYFAIL, .__GFP_NOWARN] : []

          if ctx.interruptible && m.faults.shouldFail(.backupFaultInject) {
            ret = Errno.EINTR.negated
            break
          }

          if handle == 0 {
            restore.restoredPages += 1
            i += 1
            continue
          }

          ret = try ttmBackupCopyPage(
            dev, backup, restore.allocedPage! + i, handle, intr: ctx.interruptible,
            additionalGFP: additionalGFP)
          if ret != 0 { break }

          dev.ttmBackupDrop(backup, handle)
        } else if case .page(let old) = p {
          // "We could probably avoid splitting the old page using clever logic, but ATM we
          // don't care, as we prioritize releasing memory ASAP."
          dev.ttmPoolSplitForSwap(restore.pool, old)
          m.copyHighpage(to: restore.allocedPage! + i, from: old)
          dev.freePagesGPUAccount(old, order: 0)
        }

        restore.restoredPages += 1
        tt.pages[firstPage + i] = dev.ttmBackupHandleToPagePtr(0)
        i += 1
      }

      if ret != 0 {
        if restore.restoredPages == 0 {
          dev.ttmPoolUnmapAndFree(restore.pool, restore.allocedPage!, restore.pageCaching)
          restore.restoredPages = nr
        }
        return ret
      }

      dev.ttmPoolAllocatedPageCommit(tt, restore.allocedPage!, &alloc, nr)
      if restore.pageCaching == alloc.ttCaching { alloc.cachingDivide = alloc.pages }
      restore.snapshotAlloc = alloc
      restore.allocedPages += nr
      return 0
    }
  }
}
