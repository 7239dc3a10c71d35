import BOCore
import Patches

extension ZeroCopyInsertFolio {
  /// Backup with the zero-copy patch: `ttm_pool.c@8ea3a125c465` and `ttm_backup.c@a37e9404b895`
  /// (whole folios handed to shmem through `shmem_insert_folio()`, nothing allocated or copied).
  public enum After {
    static func install(into f: inout TTMFunctions) {
      f.ttmPoolBackupPurgeLoop = ttmPoolBackupPurgeLoop
      f.ttmPoolBackupLoop = ttmPoolBackupLoop
      f.ttmBackupBackupPage = nil
      f.ttmBackupInsertFolio = { dev, backup, folio, order, writeback, idx, folioGFP in
        ttmBackupInsertFolio(dev, backup, folio, order: order, writeback: writeback, idx, folioGFP: folioGFP)
      }
    }

    /// `ttm_backup_insert_folio()` (`ttm_backup.c`): "Zero-copy insert of an isolated folio
    /// into backup". `WARN_ON_ONCE(folio_get_private(folio))`, then `shmem_insert_folio()`;
    /// the handle of the first sub-page (`idx + 1`) on success, "handle + j addresses sub-page
    /// j", or the negative error, with the folio "returned to its original non-compound state
    /// and the caller retains ownership".
    static func ttmBackupInsertFolio(
      _ dev: TTMDevice, _ backup: ShmemFileID, _ folio: Page, order: Int, writeback: Bool, _ idx: Int,
      folioGFP: GFP
    ) -> Int {
      let m = dev.machine
      if m.mem[folio].private != 0 {
        m.dmesg.modelNote("WARN_ON_ONCE(folio_get_private(folio)) in ttm_backup_insert_folio()")
      }
      let ret = m.shmemInsertFolio(backup, folio, order: order, idx, writeback: writeback, folioGFP: folioGFP)
      if ret != 0 { return ret }
      return Int(ttmBackupShmemIdxToHandle(idx))
    }

    /// `ttm_pool_backup()`, the DMA-unmap/purge loop: `tt->dma_address` is NULL in the model,
    /// so it runs for a purge only, freeing every page at its order and returning the count.
    /// NULL and handle entries are skipped.
    static func ttmPoolBackupPurgeLoop(_ dev: TTMDevice, _ tt: TTMTT, _ flags: TTMBackupFlags) throws -> Int {
      let m = dev.machine
      let pool = dev.pool
      var shrunken = 0
      guard flags.purge else { return 0 }
      var i = 0
      while i < tt.numPages {
        let page: Page
        switch tt.pages[i] {
        case .null, .handle:
          i += 1
          continue
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

    /// `ttm_pool_backup()`, the backup loop: each page is handed to shmem whole, at its order
    /// (`ttm_backup_insert_folio()`), sub-page j getting handle + j, `NR_GPU_ACTIVE` dropping by
    /// `1 << order` and the caller's reference put. Entries that already hold handles from an
    /// earlier attempt are skipped. A failed higher-order insert splits the page and retries at
    /// order 0; a failed order-0 insert stops the loop, returning the number backed up, or the
    /// error if none was. With `backup_fault_inject` firing only the first half of the pages is
    /// backed up, and a compound page the half cuts in two is not inserted.
    static func ttmPoolBackupLoop(_ dev: TTMDevice, _ tt: TTMTT, _ flags: TTMBackupFlags) throws -> Int {
      let m = dev.machine
      let pool = dev.pool
      var ret = 0
      var shrunken = 0
      let gfp: GFP = pool.usesDMA32 ? .GFP_DMA32 : .GFP_HIGHUSER
      var numPages = tt.numPages
      // Pretend doing fault injection by shrinking only half of the pages.
      if m.faults.shouldFail(.backupFaultInject) { numPages = (numPages + 1) / 2 }
      var i = 0
      var npages = 0
      while i < numPages {
        defer { i += npages }
        npages = 1
        let page: Page
        switch tt.pages[i] {
        case .null: continue
        // Already-handled entry from a previous attempt.
        case .handle: continue
        case .page(let p): page = p
        }
        let order = dev.ttmPoolPageOrder(pool, page)
        npages = 1 << order
        // If fault injection truncated num_pages mid-compound, skip the partial tail rather
        // than inserting it.
        if i + npages > numPages { break }
        // Transfer this page zero-copy into shmem. page->private stores the TTM order; clear
        // it before inserting.
        m.setPagePrivate(page, 0)
        let handle = ttmBackupInsertFolio(
          dev, tt.backup!, page, order: order, writeback: flags.writeback, i, folioGFP: gfp)
        if handle < 0 {
          if order > 0 {
            m.setPagePrivate(page, UInt(order))
            dev.ttmPoolSplitForSwap(pool, page)
            npages = 0
            continue
          }
          ret = handle
          break
        }
        // NR_GPU_ACTIVE is node-only; use mod_node_page_state() directly after the folio
        // becomes memcg-charged.
        m.modNodePageState(.nrGPUActive, -(1 << order))
        m.folioPut(page)
        for j in 0..<npages { tt.pages[i + j] = dev.ttmBackupHandleToPagePtr(UInt(handle + j)) }
        shrunken += npages
      }
      return shrunken > 0 ? shrunken : ret
    }
  }
}
