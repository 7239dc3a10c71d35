// The backup functions of ttm_backup.c and ttm_pool.c, callable one at a time, for tests and
// scenario steps that probe them outside ttm_pool_backup()'s loop. Each calls the tree's own
// version (a seam of TTMFunctions) and throws TTMAbsentFunction where the tree does not have
// the function: ttm_backup.c exists from the 6.15 series on (`ttm_pool_backup()` is its
// caller), ttm_backup_backup_page() until the zero-copy or native-order patch replaces it,
// ttm_backup_insert_folio() only with the zero-copy patch.

extension TTMDevice {
  /// The gfp `ttm_pool_backup()` passes as `page_gfp`/`folio_gfp`: `GFP_DMA32` for a DMA32
  /// pool, else `GFP_HIGHUSER`.
  public var ttmPoolBackupPageGFP: GFP { pool.usesDMA32 ? .GFP_DMA32 : .GFP_HIGHUSER }

  /// The `alloc_gfp` of `ttm_pool_backup()`: `GFP_KERNEL | __GFP_HIGH | __GFP_NOWARN |
  /// __GFP_RETRY_MAYFAIL`.
  public static let ttmPoolBackupAllocGFP: GFP = [.GFP_KERNEL, .__GFP_HIGH, .__GFP_NOWARN, .__GFP_RETRY_MAYFAIL]

  private func backupFile(_ tt: TTMTT, for function: String) throws -> ShmemFileID {
    guard functions.ttmPoolBackup != nil else {
      throw TTMAbsentFunction(function, why: "ttm_backup.c arrives with the shmem backup series of 6.15")
    }
    guard let backup = tt.backup else {
      throw TTMAbsentFunction(function, why: "tt \(tt.id) has no backup file (its driver does not set one up)")
    }
    return backup
  }

  private func pageAt(_ tt: TTMTT, _ index: Int) throws -> Page {
    guard tt.pages.indices.contains(index), case .page(let page) = tt.pages[index] else {
      throw Errno.EINVAL
    }
    return page
  }

  /// `ttm_backup_backup_page(tt->backup, tt->pages[index], writeback, index, page_gfp,
  /// alloc_gfp)` with the gfps `ttm_pool_backup()` uses: copies the page into the backup file
  /// at `index` and returns the handle (`index + 1`) or a negative errno. The page stays in
  /// the tt (the caller of the kernel function replaces it by the handle and frees it).
  ///
  /// - Throws: ``TTMAbsentFunction`` where the tree has no such function; `Errno.EINVAL` if
  ///   `tt.pages[index]` is not a page.
  public func ttmBackupBackupPage(_ tt: TTMTT, index: Int, writeback: Bool = false) throws -> Int {
    let backup = try backupFile(tt, for: "ttm_backup_backup_page")
    guard let f = functions.ttmBackupBackupPage else {
      throw TTMAbsentFunction(
        "ttm_backup_backup_page", why: "the zero-copy or native-order patch replaced it with a folio-wide backup")
    }
    return try f(
      self, backup, try pageAt(tt, index), writeback, index, ttmPoolBackupPageGFP, Self.ttmPoolBackupAllocGFP)
  }

  /// `ttm_backup_copy_page(tt->backup, tt->pages[index], handle, intr[, additional_gfp])`:
  /// reads the backed-up page behind `handle` into the tt's page at `index`. `additionalGFP`
  /// `nil` calls the form of trees without c6135f67aa37's parameter; the form with it takes
  /// `[]` for none. Returns 0 or a negative errno.
  public func ttmBackupCopyPage(
    _ tt: TTMTT, index: Int, handle: UInt, interruptible: Bool = false, additionalGFP: GFP? = nil
  ) throws -> Int {
    let backup = try backupFile(tt, for: "ttm_backup_copy_page")
    let f = functions.require(functions.ttmBackupCopyPage, "ttm_backup_copy_page")
    return try f(self, backup, try pageAt(tt, index), handle, interruptible, additionalGFP)
  }

  /// `ttm_backup_drop(tt->backup, handle)`: releases the backed-up page behind `handle`.
  public func ttmBackupDrop(_ tt: TTMTT, handle: UInt) throws {
    ttmBackupDrop(try backupFile(tt, for: "ttm_backup_drop"), handle)
  }

  /// What `ttm_pool_backup()`'s zero-copy loop does with one block at `index`: clear
  /// `page->private`, `ttm_backup_insert_folio()`, and on success the shmem file owns the
  /// block: `NR_GPU_ACTIVE` drops, the tt's reference is put and the slots hold the handles;
  /// then, as `ttm_tt_backup()` does after a backup that made progress, the tt is
  /// `BACKED_UP` and no longer populated. On failure the order goes back into
  /// `page->private` and the tt is unchanged ("the caller retains ownership"). Returns the
  /// first handle or the negative errno. `clearingPrivate: false` leaves out the loop's
  /// `set_page_private(page, 0)`, as a caller that forgets it would: a page of order > 0 then
  /// reaches `ttm_backup_insert_folio()` with its order in `page->private`, which that
  /// function's `WARN_ON_ONCE(folio_get_private(folio))` reports.
  public func ttmBackupInsertFolio(
    _ tt: TTMTT, index: Int, writeback: Bool = false, clearingPrivate: Bool = true
  ) throws -> Int {
    let backup = try backupFile(tt, for: "ttm_backup_insert_folio")
    guard let f = functions.ttmBackupInsertFolio else {
      throw TTMAbsentFunction("ttm_backup_insert_folio", why: "added by the zero-copy patch of 2026-05-12")
    }
    let page = try pageAt(tt, index)
    let order = ttmPoolPageOrder(pool, page)
    if clearingPrivate { machine.setPagePrivate(page, 0) }
    let handle = f(self, backup, page, order, writeback, index, ttmPoolBackupPageGFP)
    if handle < 0 {
      machine.setPagePrivate(page, UInt(order))
      return handle
    }
    machine.modNodePageState(.nrGPUActive, -(1 << order))
    machine.folioPut(page)
    for j in 0..<(1 << order) { tt.pages[index + j] = ttmBackupHandleToPagePtr(UInt(handle + j)) }
    tt.pageFlags.remove(.PRIV_POPULATED)
    tt.pageFlags.insert(.BACKED_UP)
    return handle
  }

  /// `ttm_pool_restore_and_alloc(&bdev->pool, tt, ctx)` on its own, without the
  /// `ttm_tt_restore()`/`ttm_tt_populate()` around it: the tt keeps `BACKED_UP` and is not
  /// marked populated, as a driver calling it directly would leave it. Returns 0 or a
  /// negative errno.
  public func ttmPoolRestoreAndAlloc(_ tt: TTMTT, _ ctx: TTMOperationContext = TTMOperationContext()) throws -> Int {
    _ = try backupFile(tt, for: "ttm_pool_restore_and_alloc")
    let f = functions.require(functions.ttmPoolRestoreAndAlloc, "ttm_pool_restore_and_alloc")
    return try f(self, tt, ctx)
  }
}
