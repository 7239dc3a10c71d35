import BOCore
import Patches

extension NullHandlePagesBackup {
  /// `ttm_pool_backup()` with the fix: `ttm_pool.c@ff043420d517`.
  public enum After {
    static func install(into f: inout TTMFunctions) {
      f.ttmPoolBackupWriteBack = ttmPoolBackupWriteBack
      f.ttmPoolBackupPurgeLoop = ttmPoolBackupPurgeLoop
    }

    /// `ttm_pool_backup()`, the `CONFIG_X86` block: "Anything returned to the system needs to
    /// be cached. Walk allocations skipping NULL pages and issue set_pages_array_wb() per
    /// contiguous run."
    static func ttmPoolBackupWriteBack(_ dev: TTMDevice, _ tt: TTMTT) throws {
      if tt.caching != .cached {
        var runStart = 0
        var runCount = 0
        var i = 0
        while i < tt.numPages {
          guard case .page(let page) = tt.pages[i] else {
            if runCount > 0 {
              _ = try dev.setPagesArray(tt, runStart..<(runStart + runCount), to: .cached, caller: "ttm_pool_backup")
              runCount = 0
            }
            i += 1
            continue
          }
          let numPages = 1 << dev.ttmPoolPageOrder(dev.pool, page)
          if runCount == 0 { runStart = i }
          runCount += numPages
          i += numPages
        }
        if runCount > 0 {
          _ = try dev.setPagesArray(tt, runStart..<(runStart + runCount), to: .cached, caller: "ttm_pool_backup")
        }
      }
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
  }
}
