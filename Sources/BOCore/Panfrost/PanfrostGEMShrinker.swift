/// The panfrost GEM shrinker of the 2022 kernels (`drivers/gpu/drm/panfrost/
/// panfrost_gem_shrinker.c` @ 1758047057db): it purges BOs userspace marked DONTNEED, from
/// the head of `pfdev->shrinker_list`, when reclaim asks.
///
/// Registered with `DEFAULT_SEEKS` by ``PanfrostDevice``, so direct reclaim calls it through
/// `do_shrink_slab()` like any other shrinker. Like the other GPU shrinkers it does not report
/// its pages to `mm_account_reclaimed_pages()`. Its "objects" are pages: count sums
/// `size >> PAGE_SHIFT` of the purgeable BOs, scan frees BOs until `nr_to_scan` pages were
/// freed.
///
/// Where newer kernels differ: 6.x replaced this file with the generic drm_gem_shmem
/// shrinker and later brought a panfrost one back with other locking; the 5.4 original
/// (013b65101315) had no `gpu_usecount` check (when it was added is UNVERIFIED here).
/// `pr_info_ratelimited()` is logged without the rate limit.
public final class PanfrostGEMShrinker: Shrinker {
  /// A name for reports (shrinkers had no debugfs name before 6.0).
  public let name = "panfrost"
  /// `pfdev->shrinker.seeks = DEFAULT_SEEKS`.
  public let seeks = DEFAULT_SEEKS
  /// The device whose BOs it purges.
  public unowned let device: PanfrostDevice

  init(device: PanfrostDevice) { self.device = device }

  /// `panfrost_gem_shrinker_count()`: with `shrinker_lock` (trylock, else 0), the pages of
  /// every purgeable BO on `shrinker_list` (`list_for_each_entry()`).
  ///
  /// - Throws: ``KernelHalt/lockup(_:)`` when the walk never returns to the head (the kernel
  ///   spins with `shrinker_lock` held), or an oops.
  public func countObjects(_ sc: ShrinkControl, on machine: Machine) throws -> Int {
    let pfdev = device
    if !pfdev.shrinkerLock.trylock() { return 0 }
    defer { pfdev.shrinkerLock.unlock() }
    var count = 0
    try pfdev.listForEachEntrySafe("panfrost_gem_shrinker_count") { _, bo in
      if bo.base.isPurgeable { count += bo.base.size / PAGE_SIZE }
      return true
    }
    return count
  }

  /// `panfrost_gem_shrinker_scan()`: with `shrinker_lock` (trylock, else `SHRINK_STOP`), walk
  /// `shrinker_list` with `list_for_each_entry_safe()` until `nr_to_scan` pages were freed;
  /// purge each purgeable BO `panfrost_gem_purge()` can take, count its pages, and
  /// `list_del_init()` it. Logs "Purging %lu bytes" when it freed something. Returns the
  /// pages freed.
  ///
  /// - Throws: ``KernelHalt/lockup(_:)`` when the walk never returns to the head and never
  ///   frees enough to stop, DEBUG_LIST's BUG with `CONFIG_BUG_ON_DATA_CORRUPTION`, or an oops.
  public func scanObjects(_ sc: inout ShrinkControl, on machine: Machine) throws -> ShrinkResult {
    let pfdev = device
    if !pfdev.shrinkerLock.trylock() { return .stop }
    var freed = 0
    do {
      defer { pfdev.shrinkerLock.unlock() }
      let nrToScan = sc.nrToScan
      try pfdev.listForEachEntrySafe("panfrost_gem_shrinker_scan") { l, bo in
        if freed >= nrToScan { return false }
        if bo.base.isPurgeable && panfrostGemPurge(bo) {
          freed += bo.base.size / PAGE_SIZE
          try l.listDelInit(bo.base.madvList)
        }
        return true
      }
    }
    if freed > 0 { machine.dmesg.printk(.info, "Purging \(freed * PAGE_SIZE) bytes") }
    return .freed(freed)
  }

  /// `panfrost_gem_purge()`: skip a BO the GPU is using (`gpu_usecount`), trylock
  /// `mappings.lock` and `pages_lock`, tear down the GPU mappings and purge
  /// (`drm_gem_shmem_purge_locked()`). Returns whether it purged.
  func panfrostGemPurge(_ bo: PanfrostGEMObject) -> Bool {
    if bo.gpuUsecount != 0 { return false }
    if !bo.mappingsLock.trylock() { return false }
    defer { bo.mappingsLock.unlock() }
    if !bo.base.pagesLock.trylock() { return false }
    panfrostGemTeardownMappingsLocked(bo)
    bo.base.drmGemShmemPurgeLocked(device.machine)
    bo.base.pagesLock.unlock()
    return true
  }

  /// `panfrost_gem_teardown_mappings_locked()`: unmap every mapping from the GPU
  /// (`panfrost_mmu_unmap()`); the mappings stay on the BO.
  func panfrostGemTeardownMappingsLocked(_ bo: PanfrostGEMObject) {
    for i in bo.mappings.indices { bo.mappings[i].active = false }
  }
}
