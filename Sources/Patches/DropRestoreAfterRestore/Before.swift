import BOCore
import Patches

extension DropRestoreAfterRestore {
  /// Restore before the fix: `ttm_pool.c@278bbe7a11ad`.
  public enum Before {
    static func install(into f: inout TTMFunctions) {
      f.ttmPoolRestoreAndAlloc = ttmPoolRestoreAndAlloc
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
