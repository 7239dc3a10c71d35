import BOCore
import Patches

extension NativeOrderBackup {
  /// Backup with the fix: `ttm_pool.c@1bf37023fed6`, `ttm_backup.c@a8f0b12c86d2`.
  public enum After {
    static func install(into f: inout TTMFunctions) {
      f.ttmPoolBackupLoop = ttmPoolBackupLoop
      f.ttmBackupBackupPage = nil
    }

    /// `ttm_backup_fault_inject_folio()` (`ttm_pool.c`, declared in `ttm_pool_internal.h`):
    /// `should_fail(&backup_fault_inject, 1)`, the same attribute as the other two
    /// `backup_fault_inject` points; false without `CONFIG_FAULT_INJECTION`.
    static func ttmBackupFaultInjectFolio(_ m: Machine) -> Bool {
      m.faults.shouldFail(.backupFaultInject)
    }

    /// `ttm_backup_backup_folio()` (`ttm_backup.c`): back up the `1 << order` sub-pages of
    /// `folio` into the shmem indices `idx ..< idx + (1 << order)`, reading each shmem folio
    /// with `alloc_gfp` and copying every sub-page it covers. `nrPagesBacked` reports how
    /// many made it. An -ENOMEM after some progress is a success with a short count; another
    /// error after progress truncates what was backed up and reports none. Past the first
    /// sub-page, `ttm_backup_fault_inject_folio()` can synthesise that -ENOMEM. With
    /// `writeback` each shmem folio is written out; it is unlocked only on
    /// `AOP_WRITEPAGE_ACTIVATE`, the one result that leaves it locked.
    static func ttmBackupBackupFolio(
      _ dev: TTMDevice, _ backup: ShmemFileID, _ folio: Page, order: Int, writeback: Bool, _ idx: Int,
      folioGFP: GFP, allocGFP: GFP, _ nrPagesBacked: inout Int
    ) throws -> Int {
      let m = dev.machine
      let nrPages = 1 << order
      nrPagesBacked = 0
      var i = 0
      while i < nrPages {
        // Only inject past the first subpage so *nr_pages_backed is always > 0 here,
        // matching a genuine mid-compound -ENOMEM and driving the caller's reactive split
        // fallback instead of an early, no-progress failure.
        let toFolio: Page
        let read: Result<Page, Errno> =
          i != 0 && ttmBackupFaultInjectFolio(m)
          ? .failure(.ENOMEM) : try errPtr({ try m.shmemReadFolioGFP(backup, idx + i, allocGFP) })
        switch read {
        case .failure(let err):
          if err == .ENOMEM && nrPagesBacked > 0 { return Int(ttmBackupShmemIdxToHandle(idx)) }
          if nrPagesBacked > 0 {
            m.shmemTruncateRange(backup, start: idx * PAGE_SIZE, end: (idx + i) * PAGE_SIZE - 1)
            // The pages just truncated are no longer backed up; don't let the caller mistake
            // them for valid handles.
            nrPagesBacked = 0
          }
          return err.negated
        case .success(let f): toFolio = f
        }
        let toNr = Swift.min(nrPages - i, m.folioNextIndex(toFolio) - (idx + i))
        // folio_mark_accessed(), folio_mark_dirty(): every shmem folio is dirty in the model.
        m.folioLock(toFolio)
        for j in 0..<toNr {
          m.copyHighpage(to: m.folioFilePage(toFolio, idx + i + j), from: folio + i + j)
        }
        // folio_mapped() is false and folio_clear_dirty_for_io() succeeds for a backup folio.
        if writeback {
          let ret = m.shmemWriteout(toFolio)
          if ret == .activate { m.folioUnlock(toFolio) }
        } else {
          m.folioUnlock(toFolio)
        }
        m.folioPut(toFolio)
        i += toNr
        nrPagesBacked = i
      }
      return Int(ttmBackupShmemIdxToHandle(idx))
    }

    /// `ttm_pool_backup()`, the backup loop: each block is backed up whole at its order
    /// (`ttm_backup_backup_folio()`) and, fully backed up, freed once at that order. Above
    /// order 0 `alloc_gfp` gains `__GFP_NOMEMALLOC` ("We don't allow dipping kernel reserves
    /// for high order backup"). No progress on a block stops the loop; a short backup splits
    /// the block, frees the backed-up prefix as order-0 pages and continues from the first
    /// sub-page not backed up, at order 0. A block that `backup_fault_inject`'s halving cuts
    /// in two ends the loop. Handle entries from an earlier attempt are skipped.
    static func ttmPoolBackupLoop(_ dev: TTMDevice, _ tt: TTMTT, _ flags: TTMBackupFlags) throws -> Int {
      let m = dev.machine
      let pool = dev.pool
      var ret = 0
      var shrunken = 0
      let gfp: GFP = pool.usesDMA32 ? .GFP_DMA32 : .GFP_HIGHUSER
      var allocGFP: GFP = [.GFP_KERNEL, .__GFP_HIGH, .__GFP_NOWARN, .__GFP_RETRY_MAYFAIL]
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
        // We don't allow dipping kernel reserves for high order backup.
        if order > 0 {
          allocGFP.insert(.__GFP_NOMEMALLOC)
        } else {
          allocGFP.remove(.__GFP_NOMEMALLOC)
        }
        // Back up the compound atomically at its native order. If fault injection truncated
        // num_pages mid-compound, skip the partial tail rather than splitting.
        if i + npages > numPages { break }
        var nrBacked = 0
        let handle = try ttmBackupBackupFolio(
          dev, tt.backup!, page, order: order, writeback: flags.writeback, i, folioGFP: gfp, allocGFP: allocGFP,
          &nrBacked)
        // Zero progress on this compound is unrecoverable: bail out rather than looping
        // forever with npages == nr_backed == 0 below.
        if handle < 0 && nrBacked == 0 {
          ret = handle
          break
        }
        for j in 0..<nrBacked { tt.pages[i + j] = dev.ttmBackupHandleToPagePtr(UInt(handle + j)) }
        shrunken += nrBacked
        if nrBacked < npages {
          // Partial OOM backup: split the compound and free the subpages whose content is
          // now in shmem. Continue the loop from the first un-backed order-0 page.
          dev.ttmPoolSplitForSwap(pool, page)
          for j in 0..<nrBacked { dev.freePagesGPUAccount(page + j, order: 0) }
          npages = nrBacked
          continue
        }
        // Fully backed up: free at native order.
        m.setPagePrivate(page, 0)
        dev.freePagesGPUAccount(page, order: order)
      }
      return shrunken > 0 ? shrunken : ret
    }
  }
}
