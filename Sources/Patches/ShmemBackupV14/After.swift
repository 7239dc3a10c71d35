import BOCore
import Patches

extension ShmemBackupV14 {
  /// TTM backup and restore from 6.15: `ttm_tt.c`, `ttm_bo_util.c`, `ttm_backup.c` and
  /// `ttm_pool.c` as merged (ttm_pool.c@278bbe7a11ad, ttm_backup.c@6bd4c123d94c; ttm_tt.c
  /// and ttm_bo_util.c as in 6.18.19), with an xe-style driver (`xe_ttm_tt_populate()`,
  /// `xe_shrinker.c`) next to TTM's global swapout, which drivers without a BO shrinker still
  /// get (``TTMDriverStyle``). Functions that later patches
  /// change live on the Before side of the first of them: the parts of `ttm_pool_backup()` in
  /// `ZeroCopyInsertFolio` and `NullHandlePagesBackup`, `ttm_pool_restore_commit()` and
  /// `ttm_backup_copy_page()` in `GFPRetryMayfailReadback`, `ttm_pool_restore_and_alloc()` in
  /// `DropRestoreAfterRestore`.
  public enum After {
    static func install(into f: inout TTMFunctions) {
      f.ttmBOShrink = ttmBOShrink
      f.ttmTTPopulate = ttmTTPopulate
      f.ttmTTUnpopulate = ttmTTUnpopulate
      f.ttmTTCreate = ttmTTCreate
      f.ttmTTFini = ttmTTFini
      f.ttmDeviceInit = ttmDeviceInit
      f.ttmPoolBackup = ttmPoolBackup
    }

    /// `xe_shrinker_create()`: an xe-style driver registers its BO shrinker, so reclaim backs
    /// up idle BOs (``TTMBOShrinker``); an amdgpu-style driver registers none and is still
    /// swapped out by TTM's global swapout.
    static func ttmDeviceInit(_ dev: TTMDevice) {
      if dev.driverStyle == .xe { dev.registerShrinker(TTMBOShrinker(device: dev)) }
    }

    /// The driver's `ttm_tt_create()`. `xe_ttm_tt_create()` with `ttm_tt_setup_backup()`: xe
    /// marks its tts `TTM_TT_FLAG_EXTERNAL | TTM_TT_FLAG_EXTERNAL_MAPPABLE` (TTM's global
    /// accounting and swapout leave them alone; the driver shrinks them), and every tt gets
    /// its backup file up front (`ttm_backup_shmem_create(num_pages << PAGE_SHIFT)`). An
    /// amdgpu-style driver calls `ttm_tt_init()` only.
    static func ttmTTCreate(_ dev: TTMDevice, _ tt: TTMTT) throws -> Int {
      guard dev.driverStyle == .xe else { return 0 }
      tt.pageFlags.formUnion([.EXTERNAL, .EXTERNAL_MAPPABLE])
      tt.backup = dev.ttmBackupShmemCreate(tt.numPages * PAGE_SIZE)
      return 0
    }

    /// `ttm_bo_shrink()` (`ttm_bo_util.c`): with `allow_move`, a BO not in `TTM_PL_SYSTEM` is
    /// first validated there ("Consider -ENOMEM and -ENOSPC non-fatal": those become -EBUSY,
    /// other errors are returned); wait for the BO to be idle (`ttm_bo_wait_ctx()`), then
    /// `ttm_tt_backup()`; any error of the backup other than -EINTR becomes -EBUSY.
    static func ttmBOShrink(
      _ dev: TTMDevice, _ bo: TTMBufferObject, _ ctx: TTMOperationContext, _ flags: TTMBOShrinkFlags
    ) throws -> Int {
      try kernelFrame("ttm_bo_shrink") {
        if flags.allowMove && bo.resource.memType != .system {
          var ret = try dev.ttmBOValidate(bo, to: .system, ctx)
          // Consider -ENOMEM and -ENOSPC non-fatal.
          if ret != 0 {
            if ret == Errno.ENOMEM.negated || ret == Errno.ENOSPC.negated { ret = Errno.EBUSY.negated }
            return ret
          }
        }
        let wait = dev.ttmBOWaitCtx(bo, ctx)
        if wait < 0 { return wait }
        let lret = try kernelFrame("ttm_tt_backup") {
          try ttmTTBackup(dev, bo.tt, TTMBackupFlags(purge: flags.purge, writeback: flags.writeback))
        }
        if lret < 0 && lret != Errno.EINTR.negated { return Errno.EBUSY.negated }
        return lret
      }
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

    /// `ttm_tt_populate()` of 6.15: the `ttm_pages_limit` accounting and global swapout loop
    /// (which skip `TTM_TT_FLAG_EXTERNAL` tts), the driver's populate callback, then
    /// `TTM_TT_FLAG_PRIV_POPULATED` set and `TTM_TT_FLAG_BACKED_UP` cleared, and a legacy
    /// swapped-out tt read back (`ttm_tt_swapin()`).
    static func ttmTTPopulate(_ dev: TTMDevice, _ tt: TTMTT, _ ctx: TTMOperationContext) throws -> Int {
      if tt.isPopulated { return 0 }
      dev.ttmTTAccountAdd(tt)
      var ret = try dev.ttmTTPopulateLimit(ctx)
      if ret == 0 {
        ret = dev.driverStyle == .xe ? try xeTTMTTPopulate(dev, tt, ctx) : try dev.ttmPoolAlloc(tt, ctx)
      }
      if ret != 0 {
        dev.ttmTTAccountSub(tt)
        return ret
      }
      tt.pageFlags.insert(.PRIV_POPULATED)
      tt.pageFlags.remove(.BACKED_UP)
      if tt.isSwapped {
        ret = try dev.ttmTTSwapin(tt)
        if ret != 0 {
          try ttmTTUnpopulate(dev, tt)
          return ret
        }
      }
      return 0
    }

    /// `xe_ttm_tt_populate()`: a backed-up tt that is not purgeable is restored
    /// (`ttm_tt_restore()`), anything else gets fresh pages (`ttm_pool_alloc()`); then
    /// `xe_tt->purgeable = false`, since repopulated content is worth keeping again.
    static func xeTTMTTPopulate(_ dev: TTMDevice, _ tt: TTMTT, _ ctx: TTMOperationContext) throws -> Int {
      let err: Int
      if tt.isBackedUp && !isPurgeable(dev, tt) {
        err = try ttmTTRestore(dev, tt, ctx)
      } else {
        tt.pageFlags.remove(.BACKED_UP)
        err = try dev.ttmPoolAlloc(tt, ctx)
      }
      if err != 0 { return err }
      dev.lru.first { $0.ttm === tt }?.purgeable = false
      return 0
    }

    /// `xe_ttm_tt->purgeable` of the BO owning `tt`.
    static func isPurgeable(_ dev: TTMDevice, _ tt: TTMTT) -> Bool {
      dev.lru.first { $0.ttm === tt }?.purgeable ?? false
    }

    /// `ttm_tt_restore()`: `ttm_pool_restore_and_alloc()`; on success the tt is no longer
    /// backed up.
    static func ttmTTRestore(_ dev: TTMDevice, _ tt: TTMTT, _ ctx: TTMOperationContext) throws -> Int {
      let ret = try dev.functions.ttmPoolRestoreAndAlloc!(dev, tt, ctx)
      if ret != 0 { return ret }
      tt.pageFlags.remove(.BACKED_UP)
      return 0
    }

    /// `ttm_tt_unpopulate()` with the driver's callback (`xe_ttm_tt_unpopulate()` or the
    /// default): `ttm_pool_free()`, then the pages are unaccounted. A backed-up tt is not
    /// populated; its content goes in `ttm_tt_fini()`.
    static func ttmTTUnpopulate(_ dev: TTMDevice, _ tt: TTMTT) throws {
      if !tt.isPopulated { return }
      dev.ttmPoolFree(tt)
      dev.ttmTTAccountSub(tt)
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

    /// `ttm_pool_backup()`: "Back up or purge a struct ttm_tt."
    ///
    /// -EINVAL (with a WARN) if the tt is already backed up; -EBUSY without swap space (unless
    /// purging) or for a DMA-alloc pool. Then the x86 write-back pass, the purge loop (a purge
    /// returns there) and the backup loop, the three parts later patches change and the tree
    /// supplies (``TTMFunctions/ttmPoolBackupWriteBack`` and the others).
    static func ttmPoolBackup(_ dev: TTMDevice, _ tt: TTMTT, _ flags: TTMBackupFlags) throws -> Int {
      let f = dev.functions
      if tt.isBackedUp {
        dev.machine.dmesg.modelNote("WARN_ON(ttm_tt_is_backed_up(tt)) in ttm_pool_backup()")
        return Errno.EINVAL.negated
      }
      if (dev.ttmBackupBytesAvail() == 0 && !flags.purge) || dev.pool.usesDMAAlloc || tt.isBackedUp {
        return Errno.EBUSY.negated
      }
      try f.ttmPoolBackupWriteBack!(dev, tt)
      let shrunken = try f.ttmPoolBackupPurgeLoop!(dev, tt, flags)
      if flags.purge { return shrunken }
      return try f.ttmPoolBackupLoop!(dev, tt, flags)
    }
  }
}
