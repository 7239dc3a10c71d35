import BOCore
import Patches

extension MadviseListMove {
  /// `panfrost_ioctl_madvise()` after 9fc33eaaa979 (`panfrost_drv.c@b1e6d238674f`, its post-image, v5.19-rc7).
  public enum After {
    static func install(into f: inout PanfrostFunctions) {
      f.panfrostIoctlMadvise = panfrostIoctlMadvise
    }

    /// `panfrost_ioctl_madvise()` (`drivers/gpu/drm/panfrost/panfrost_drv.c`), the handler of
    /// `DRM_IOCTL_PANFROST_MADVISE`, as in the 2022 kernels (5.4-era trees pass `gem_obj` to
    /// `drm_gem_shmem_madvise()`, same logic; 6.x also take the reservation lock first).
    ///
    /// Look up the BO (-ENOENT); under `shrinker_lock` and `mappings.lock`, refuse DONTNEED
    /// unless the caller's file holds the BO's only mapping (-EINVAL); set `madv` with
    /// `drm_gem_shmem_madvise()`, whose result is `args->retained`; then, for a retained BO,
    /// DONTNEED links `madv_list` at the tail of `shrinker_list` and WILLNEED unlinks it.
    ///
    /// The locks and the lookup's reference are dropped on every way out; after a
    /// ``KernelHalt`` the kernel's task would die holding them, the model drops them so a
    /// test can still tear down and audit. The lookup's reference is the last one when
    /// another thread closed the handle meanwhile (``PanfrostDevice/preemptionPoint(_:)``
    /// marks where it can run); its put then frees the BO.
    static func panfrostIoctlMadvise(
      _ pfdev: PanfrostDevice, _ args: inout DRMPanfrostMadvise, _ filePriv: PanfrostFile
    ) throws -> Int {
      let priv = filePriv
      var ret = 0

      guard let bo = pfdev.drmGemObjectLookup(filePriv, args.handle) else {
        pfdev.machine.dmesg.printk(.debug, "Failed to look up GEM BO \(args.handle)")
        return Errno.ENOENT.negated
      }
      // out_put_object: drm_gem_object_put(gem_obj).
      return try pfdev.droppingReference(bo) {
        try pfdev.preemptionPoint(.madviseAfterLookup)
        try pfdev.shrinkerLock.lock()
        try bo.mappingsLock.lock()
        outUnlockMappings: do {
          defer {
            bo.mappingsLock.unlock()
            pfdev.shrinkerLock.unlock()
          }
          if args.madv == PANFROST_MADV_DONTNEED {
            // "If we want to mark the BO purgeable, there must be only one user: the caller FD."
            if bo.mappings.count != 1
              || pfdev.warnOnOnce(bo.mappings[0].mmu != priv.mmu, "first->mmu != priv->mmu")
            {
              ret = Errno.EINVAL.negated
              break outUnlockMappings
            }
          }

          args.retained = try bo.base.drmGemShmemMadvise(Int32(truncatingIfNeeded: args.madv)) ? 1 : 0

          if args.retained != 0 {
            if args.madv == PANFROST_MADV_DONTNEED {
              try pfdev.listMoveTail(
                bo.base.madvList, pfdev.shrinkerList)
            } else if args.madv == PANFROST_MADV_WILLNEED {
              try pfdev.listDelInit(bo.base.madvList)
            }
          }
        }
        try pfdev.preemptionPoint(.madviseAfterUnlock)

        return ret
      }
    }
  }
}
