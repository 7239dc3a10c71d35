import BOCore
import Patches

extension GFPRetryMayfailReadback {
  /// Readback before c6135f67: `ttm_backup.c@6bd4c123d94c` (v7.0), and `ttm_pool.c@278bbe7a11ad`
  /// with the c6135f67 hunk reversed (v7.0's `ttm_pool.c@c0d95559197c` is not in the fixtures).
  public enum Before {
    static func install(into f: inout TTMFunctions) {
      f.ttmPoolRestoreCommit = ttmPoolRestoreCommit
      f.ttmBackupCopyPage = { dev, backup, dst, handle, intr, additionalGFP in
        if additionalGFP != nil {
          throw TTMAbsentFunction(
            "ttm_backup_copy_page(..., additional_gfp)", why: "the additional_gfp parameter is from c6135f67aa37")
        }
        return try ttmBackupCopyPage(dev, backup, dst, handle, intr: intr)
      }
    }

    /// `ttm_backup_copy_page()` (`ttm_backup.c`): "Copy the contents of a previously backed
    /// up page". Reads the folio with `shmem_read_folio()`, the mapping's own gfp.
    static func ttmBackupCopyPage(
      _ dev: TTMDevice, _ backup: ShmemFileID, _ dst: Page, _ handle: UInt, intr: Bool
    ) throws -> Int {
      let m = dev.machine
      let idx = ttmBackupHandleToShmemIdx(handle)
      let fromFolio: Page
      switch try errPtr({ try m.shmemReadFolio(backup, idx) }) {
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
    /// makes it return -EINTR.
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
            dev, backup, restore.allocedPage! + i, handle, intr: ctx.interruptible)
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
