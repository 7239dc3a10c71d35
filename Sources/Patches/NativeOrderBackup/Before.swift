import BOCore
import Patches

extension NativeOrderBackup {
  /// Backup before the fix: `ttm_pool.c@80d0ad41456a`, `ttm_backup.c@81df4cb5606b`.
  public enum Before {
    static func install(into f: inout TTMFunctions) {
      f.ttmPoolBackupLoop = ttmPoolBackupLoop
      f.ttmBackupBackupPage = { dev, backup, page, writeback, idx, pageGFP, allocGFP in
        try ttmBackupBackupPage(dev, backup, page, writeback: writeback, idx, pageGFP: pageGFP, allocGFP: allocGFP)
      }
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

    /// `ttm_pool_backup()`, the backup loop: each page is split to order 0
    /// (`ttm_pool_split_for_swap()`), backed up with `alloc_gfp = GFP_KERNEL | __GFP_HIGH |
    /// __GFP_NOWARN | __GFP_RETRY_MAYFAIL`, replaced by its handle and freed at once. The first
    /// error stops the loop: "We allow partially shrunken tts", so the result is the number
    /// backed up, or the error if none was. With `backup_fault_inject` firing, only the first
    /// half of the pages is backed up. Entries that already hold handles are skipped (the
    /// pre-image's four-line skip, from an unidentified drm-tip patch).
    static func ttmPoolBackupLoop(_ dev: TTMDevice, _ tt: TTMTT, _ flags: TTMBackupFlags) throws -> Int {
      let m = dev.machine
      let pool = dev.pool
      var ret = 0
      var shrunken = 0
      let gfp: GFP = pool.usesDMA32 ? .GFP_DMA32 : .GFP_HIGHUSER
      let allocGFP: GFP = [.GFP_KERNEL, .__GFP_HIGH, .__GFP_NOWARN, .__GFP_RETRY_MAYFAIL]
      var numPages = tt.numPages
      // Pretend doing fault injection by shrinking only half of the pages.
      if m.faults.shouldFail(.backupFaultInject) { numPages = (numPages + 1) / 2 }
      for i in 0..<numPages {
        let page: Page
        switch tt.pages[i] {
        case .null: continue
        // Already-handled entry from a previous attempt.
        case .handle: continue
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
        tt.pages[i] = dev.ttmBackupHandleToPagePtr(UInt(shandle))
        dev.freePagesGPUAccount(page, order: 0)
        shrunken += 1
      }
      return shrunken > 0 ? shrunken : ret
    }
  }
}
