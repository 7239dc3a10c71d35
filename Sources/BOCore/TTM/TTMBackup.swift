// The parts of drivers/gpu/drm/ttm/ttm_backup.c that no modelled patch touches, from
// ttm_backup.c@6bd4c123d94c (v7.0; fixtures/kernel-files). ttm_backup_backup_page() and
// ttm_backup_copy_page() are changed by patches and live in Sources/Patches.

/// `ttm_backup_shmem_idx_to_handle()`: "a handle value of 0 means error, following the
/// swp_entry_t convention", so the handle is `idx + 1`.
public func ttmBackupShmemIdxToHandle(_ idx: Int) -> UInt { UInt(idx) + 1 }

/// `ttm_backup_handle_to_shmem_idx()`: `handle - 1`.
public func ttmBackupHandleToShmemIdx(_ handle: UInt) -> Int { Int(handle) - 1 }

extension TTMDevice {
  /// `ttm_backup_drop()`: release the shmem page behind `handle`
  /// (`shmem_truncate_range()` over that one page).
  public func ttmBackupDrop(_ backup: ShmemFileID, _ handle: UInt) {
    machine.counters.handlesDropped += 1
    let start = ttmBackupHandleToShmemIdx(handle) * PAGE_SIZE
    machine.shmemTruncateRange(backup, start: start, end: start + PAGE_SIZE - 1)
  }

  /// `ttm_backup_handle_to_page_ptr()` (`include/drm/ttm/ttm_backup.h`): the page-array
  /// entry for `handle` (``ttmBackupHandleToPagePtr(_:)`` gives its value). A live handle
  /// (not 0, which marks a slot already restored) counts in
  /// ``ModelStatistics/handlesCreated``.
  public func ttmBackupHandleToPagePtr(_ handle: UInt) -> TTMPagePointer {
    if handle != 0 { machine.counters.handlesCreated += 1 }
    return .handle(handle)
  }

  /// `ttm_backup_fini()`: `fput()`.
  public func ttmBackupFini(_ backup: ShmemFileID) {
    machine.fput(backup)
  }

  /// `ttm_backup_bytes_avail()`: `get_nr_swap_pages() << PAGE_SHIFT`, swap space left, not
  /// RAM ("no point swapping out if there is no or low swap-space available").
  public func ttmBackupBytesAvail() -> Int {
    machine.swap.nrSwapPages * PAGE_SIZE
  }

  /// `ttm_backup_shmem_create()`: `shmem_file_setup("ttm shmem backup", size, ...)`.
  public func ttmBackupShmemCreate(_ size: Int) -> ShmemFileID {
    machine.shmemFileSetup("ttm shmem backup", size: size)
  }
}

extension FaultPoint {
  /// `backup_fault_inject` (`ttm_pool.c`, `DECLARE_FAULT_ATTR` under
  /// `CONFIG_FAULT_INJECTION`): in `ttm_pool_backup()` it makes the backup "pretend" a partial
  /// shrink of half the pages; in `ttm_pool_restore_commit()` on an interruptible context it
  /// returns -EINTR.
  public static let backupFaultInject = FaultPoint("backup_fault_inject", isModelOnly: false)
}
