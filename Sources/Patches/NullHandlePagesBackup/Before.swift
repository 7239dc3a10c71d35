import BOCore
import Patches

extension NullHandlePagesBackup {
  /// `ttm_pool_backup()` before the fix: `ttm_pool.c@3d5f2ae0a456`. Its purge loop is the same
  /// code as the zero-copy patch's Before side, which is the one branch trees install (the
  /// earliest unapplied patch's Before side wins); the pair trees of this patch
  /// (`KernelTree.pair`) run both functions from here.
  public enum Before {
    static func install(into f: inout TTMFunctions) {
      f.ttmPoolBackupWriteBack = ttmPoolBackupWriteBack
      f.ttmPoolBackupPurgeLoop = ttmPoolBackupPurgeLoop
    }

    /// `ttm_pool_backup()`, the `CONFIG_X86` block: "Anything returned to the system needs to
    /// be cached", `set_pages_array_wb()` over the whole page array.
    static func ttmPoolBackupWriteBack(_ dev: TTMDevice, _ tt: TTMTT) throws {
      if tt.caching != .cached {
        _ = try dev.setPagesArray(tt, 0..<tt.numPages, to: .cached, caller: "ttm_pool_backup")
      }
    }

    /// `ttm_pool_backup()`, the DMA-unmap/purge loop: `tt->dma_address` is NULL in the model,
    /// so it runs for a purge only, freeing every page at its order and returning the count.
    /// Only NULL entries are skipped: a backup handle is taken for a page, and
    /// `ttm_pool_page_order()` reads `page->private` through it.
    static func ttmPoolBackupPurgeLoop(_ dev: TTMDevice, _ tt: TTMTT, _ flags: TTMBackupFlags) throws -> Int {
      let m = dev.machine
      let pool = dev.pool
      var shrunken = 0
      guard flags.purge else { return 0 }
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
  }
}
