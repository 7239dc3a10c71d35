import BOCore
import Patches

extension ShmemBackupV14 {
  /// TTM before the shmem backup: `drivers/gpu/drm/ttm/ttm_tt.c` of 6.1 .. 6.14 (ttm_tt.c as
  /// of torvalds/linux@03a0a1040895). Reclaim reaches BOs only through TTM's global swapout
  /// (`ttm_tt_swapout()`, core code every tree has, in `Sources/BOCore/TTM/TTMSwapout.swift`),
  /// for every driver.
  public enum Before {
    static func install(into f: inout TTMFunctions) {
      f.ttmTTPopulate = ttmTTPopulate
      f.ttmTTUnpopulate = ttmTTUnpopulate
      f.ttmTTCreate = ttmTTCreate
      f.ttmTTFini = ttmTTFini
      f.ttmDeviceInit = ttmDeviceInit
    }

    /// `ttm_device_init()`: no BO shrinker. Legacy TTM swaps BOs out only from
    /// `ttm_global_swapout()`, when `ttm_tt_populate()` finds more than `ttm_pages_limit`
    /// pages allocated (or from debugfs `tt_shrink`).
    static func ttmDeviceInit(_ dev: TTMDevice) {}

    /// The driver's `ttm_tt_create()`: `ttm_tt_init()` only; swap storage is created at
    /// swapout.
    static func ttmTTCreate(_ dev: TTMDevice, _ tt: TTMTT) throws -> Int {
      0
    }

    /// `ttm_tt_populate()`: account the pages (`ttm_pages_allocated`, unless
    /// `TTM_TT_FLAG_EXTERNAL`) and swap other BOs out while over `ttm_pages_limit`; allocate
    /// the pages (`ttm_pool_alloc()`), then, if the tt was swapped out, read the content back
    /// (`ttm_tt_swapin()`); if that fails, unpopulate.
    static func ttmTTPopulate(_ dev: TTMDevice, _ ttm: TTMTT, _ ctx: TTMOperationContext) throws -> Int {
      if ttm.isPopulated { return 0 }
      dev.ttmTTAccountAdd(ttm)
      var ret = try dev.ttmTTPopulateLimit(ctx)
      if ret == 0 { ret = try dev.ttmPoolAlloc(ttm, ctx) }
      if ret != 0 {
        dev.ttmTTAccountSub(ttm)
        return ret
      }
      ttm.pageFlags.insert(.PRIV_POPULATED)
      if ttm.isSwapped {
        ret = try dev.ttmTTSwapin(ttm)
        if ret != 0 {
          try ttmTTUnpopulate(dev, ttm)
          return ret
        }
      }
      return 0
    }

    /// `ttm_tt_unpopulate()`: give the pages back (`ttm_pool_free()`) and unaccount them.
    static func ttmTTUnpopulate(_ dev: TTMDevice, _ ttm: TTMTT) throws {
      if !ttm.isPopulated { return }
      dev.ttmPoolFree(ttm)
      dev.ttmTTAccountSub(ttm)
      ttm.pageFlags.remove(.PRIV_POPULATED)
    }

    /// `ttm_tt_fini()`: drop the swap storage of a swapped-out tt.
    static func ttmTTFini(_ dev: TTMDevice, _ ttm: TTMTT) throws {
      if let swapStorage = ttm.swapStorage { dev.machine.fput(swapStorage) }
      ttm.swapStorage = nil
    }
  }
}
