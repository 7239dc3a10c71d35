/// `enum ttm_caching` (`include/drm/ttm/ttm_caching.h`): the CPU caching of a tt's pages.
public enum TTMCaching: String, Hashable, Codable, Sendable, CaseIterable, CustomStringConvertible {
  /// `ttm_uncached`.
  case uncached
  /// `ttm_write_combined`.
  case writeCombined
  /// `ttm_cached`: write-back, what every page has when it comes from or goes back to the
  /// system.
  case cached

  public var description: String {
    switch self {
    case .uncached: "ttm_uncached"
    case .writeCombined: "ttm_write_combined"
    case .cached: "ttm_cached"
    }
  }
}

/// `struct ttm_operation_ctx` (`include/drm/ttm/ttm_bo.h`), as of 2026 (after `5f1d250a8fc4`
/// "Update the struct ttm_operation_ctx kerneldoc"; `force_alloc` is gone).
public struct TTMOperationContext: Hashable, Codable, Sendable, CustomStringConvertible {
  /// `interruptible`: sleep interruptibly; with `backup_fault_inject` armed, a restore
  /// returns -EINTR.
  public var interruptible: Bool
  /// `no_wait_gpu`: return -EBUSY instead of waiting for the GPU.
  public var noWaitGPU: Bool
  /// `gfp_retry_mayfail`: "use `__GFP_RETRY_MAYFAIL | __GFP_NOWARN` when allocating pages
  /// ... avoid invoking the OOM killer ... forward the error".
  public var gfpRetryMayfail: Bool
  /// `allow_res_evict`: evict reserved BOs that share `resv`.
  public var allowResEvict: Bool
  /// `bytes_moved`: statistics.
  public var bytesMoved: Int

  public init(
    interruptible: Bool = false, noWaitGPU: Bool = false, gfpRetryMayfail: Bool = false,
    allowResEvict: Bool = false, bytesMoved: Int = 0
  ) {
    self.interruptible = interruptible
    self.noWaitGPU = noWaitGPU
    self.gfpRetryMayfail = gfpRetryMayfail
    self.allowResEvict = allowResEvict
    self.bytesMoved = bytesMoved
  }

  public var description: String {
    "{.interruptible = \(interruptible), .no_wait_gpu = \(noWaitGPU), .gfp_retry_mayfail = \(gfpRetryMayfail)}"
  }
}

/// `struct ttm_backup_flags` (`include/drm/ttm/ttm_tt.h`, 6.15+).
public struct TTMBackupFlags: Hashable, Codable, Sendable, CustomStringConvertible {
  /// `purge`: free the pages without backing them up, bypassing the pools.
  public var purge: Bool
  /// `writeback`: try to push the backed-up content to swap immediately.
  public var writeback: Bool

  public init(purge: Bool = false, writeback: Bool = false) {
    self.purge = purge
    self.writeback = writeback
  }

  public var description: String { "{.purge = \(purge), .writeback = \(writeback)}" }
}

/// `TTM_TT_FLAG_*`, the bits of `ttm_tt->page_flags`, with the values of 6.15+. Older trees
/// number them differently (6.1 and 6.6 have `TTM_TT_FLAG_PRIV_POPULATED` at `1U << 31`, and
/// no `BACKED_UP`); the model uses one set of values for every tree.
public struct TTMTTFlags: OptionSet, Hashable, Sendable {
  public let rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  /// `TTM_TT_FLAG_SWAPPED`: the legacy `ttm_tt_swapout()` moved the content to
  /// `swap_storage`.
  public static let SWAPPED = TTMTTFlags(rawValue: 1 << 0)
  /// `TTM_TT_FLAG_ZERO_ALLOC`: allocate zeroed pages.
  public static let ZERO_ALLOC = TTMTTFlags(rawValue: 1 << 1)
  /// `TTM_TT_FLAG_EXTERNAL`: the pages belong to someone else (dma-buf import).
  public static let EXTERNAL = TTMTTFlags(rawValue: 1 << 2)
  /// `TTM_TT_FLAG_EXTERNAL_MAPPABLE`.
  public static let EXTERNAL_MAPPABLE = TTMTTFlags(rawValue: 1 << 3)
  /// `TTM_TT_FLAG_DECRYPTED`.
  public static let DECRYPTED = TTMTTFlags(rawValue: 1 << 4)
  /// `TTM_TT_FLAG_BACKED_UP`: the tt has been (possibly partially) backed up.
  public static let BACKED_UP = TTMTTFlags(rawValue: 1 << 5)
  /// `TTM_TT_FLAG_PRIV_POPULATED`: set after a successful `ttm_tt_populate()`.
  public static let PRIV_POPULATED = TTMTTFlags(rawValue: 1 << 6)
}

/// An entry of `ttm_tt->pages`: a `struct page *` that is NULL, a real page, or a backup
/// handle disguised as a pointer (`ttm_backup_handle_to_page_ptr()`: `handle << 1 | 1`).
///
/// ``rawValue`` is the pointer value the kernel would hold: a handle with bit 0 set, or a
/// page's address in the x86_64 `vmemmap` (`0xffffea0000000000 + pfn * sizeof(struct page)`),
/// which is what an oops prints when a handle is used as a page.
public enum TTMPagePointer: Hashable, Sendable, CustomStringConvertible {
  /// NULL: nothing there (never populated, or purged).
  case null
  /// A page the tt holds.
  case page(Page)
  /// A backup handle; handle 0 marks a slot already restored.
  case handle(UInt)

  /// `VMEMMAP_START` on x86_64 with 4-level paging.
  static let vmemmapStart: UInt = 0xffff_ea00_0000_0000
  /// `sizeof(struct page)` on x86_64.
  static let structPageSize: UInt = 64

  /// The pointer value the kernel stores.
  public var rawValue: UInt {
    switch self {
    case .null: 0
    case .page(let p): Self.vmemmapStart + UInt(p.pfn) * Self.structPageSize
    case .handle(let h): ttmBackupHandleToPagePtr(h)
    }
  }

  public var description: String {
    switch self {
    case .null: "NULL"
    case .page(let p): "page(\(p))"
    case .handle(let h): "handle(\(h))"
    }
  }
}

/// `ttm_backup_handle_to_page_ptr()` (`include/drm/ttm/ttm_backup.h`): the value stored in
/// the page array for `handle`, `handle << 1 | 1`.
public func ttmBackupHandleToPagePtr(_ handle: UInt) -> UInt { handle << 1 | 1 }

/// `ttm_backup_page_ptr_is_handle()`: bit 0 set.
public func ttmBackupPagePtrIsHandle(_ p: TTMPagePointer) -> Bool { p.rawValue & 1 != 0 }

/// `ttm_backup_page_ptr_to_handle()`: `p >> 1`. The kernel WARNs if bit 0 is clear and
/// goes on; the model traps, since no modelled flow passes it a page.
public func ttmBackupPagePtrToHandle(_ p: TTMPagePointer) -> UInt {
  guard case .handle(let h) = p else { preconditionFailure("WARN_ON: \(p) is not a handle") }
  return h
}

extension Errno {
  /// The kernel's negative return value (`-ENOMEM` is -12).
  public var negated: Int { -Int(rawValue) }

  /// The errno of a negative kernel return value, `nil` for 0 or a positive value.
  public init?(returnValue: Int) {
    guard returnValue < 0, let raw = Int32(exactly: -returnValue) else { return nil }
    self.init(rawValue: raw)
  }
}

/// Prints a kernel return value the way a reviewer reads it: `-ENOMEM`, or the number.
public func kernelReturnDescription(_ ret: Int) -> String {
  Errno(returnValue: ret).map(\.description) ?? "\(ret)"
}

/// `ERR_PTR`/`IS_ERR` at a call boundary: runs `body`, turning a thrown ``Errno`` into a
/// failure and letting ``KernelHalt`` (a panic, an oops, a lockup) through.
@inlinable
public func errPtr<T>(_ body: () throws -> T) throws -> Result<T, Errno> {
  do {
    return .success(try body())
  } catch let err as Errno {
    return .failure(err)
  }
}

extension TTMPagePointer {
  /// The oops of code that takes this entry for a `struct page *` and reads the field at
  /// `offset` (`page->private` is at 0x28 on x86_64), as `ttm_pool_page_order()` does with a
  /// backup handle. A small address is reported as a NULL pointer dereference, a larger one
  /// as a page fault, as x86's `page_fault_oops()` words them; the exact lines the kernel
  /// prints for these handle values are UNVERIFIED.
  public func derefOops(offset: UInt, callChain: [String]) -> KernelHalt {
    let address = rawValue &+ offset
    let hex = String(address, radix: 16)
    let padded = String(repeating: "0", count: max(0, 16 - hex.count)) + hex
    let message =
      address < UInt(PAGE_SIZE)
      ? "BUG: kernel NULL pointer dereference, address: \(padded)"
      : "BUG: unable to handle page fault for address: \(padded)"
    return .oops(message: message, callChain: callChain)
  }
}

/// The offset of `private` in `struct page` on x86_64.
public let STRUCT_PAGE_PRIVATE_OFFSET: UInt = 0x28

/// Which kind of driver a TTM device belongs to: it decides which of the two swapout paths
/// of 6.15 and later reaches its BOs.
///
/// - ``xe``: a driver with its own BO shrinker built on the TTM shrink helpers (xe, from
///   00c8efc3180f, 6.15). Its tts are `TTM_TT_FLAG_EXTERNAL | TTM_TT_FLAG_EXTERNAL_MAPPABLE`
///   with a backup file set up at creation (`ttm_tt_setup_backup()`), so TTM's global swapout
///   skips them and reclaim reaches them through `ttm_bo_shrink()` → `ttm_tt_backup()`.
/// - ``amdgpu``: a driver without one (amdgpu, radeon, nouveau, vmwgfx, qxl, ...): plain
///   `ttm_tt_init()`, no backup file; TTM's global swapout (`ttm_global_swapout()` →
///   `ttm_device_swapout()` → `ttm_bo_swapout_cb()` → `ttm_tt_swapout()`) swaps its BOs out
///   when `ttm_tt_populate()` finds more than `ttm_pages_limit` pages allocated.
///
/// Before 6.15 neither the helpers nor the xe shrinker exist, and every driver is swapped out
/// the legacy way; the style then changes nothing.
public enum TTMDriverStyle: String, Hashable, Sendable, CaseIterable {
  case xe
  case amdgpu
}

/// A pool type of a DMA-alloc pool: `pool->caching[caching].orders[order]`.
public struct TTMPoolTypeKey: Hashable, Sendable, CustomStringConvertible {
  public let caching: TTMCaching
  public let order: Int
  public var description: String { "\(caching) order \(order)" }
}

/// `struct ttm_pool_dma` (`ttm_pool.c`): "Helper object for coherent DMA mappings", the
/// `kmalloc`ed object a DMA-alloc page's `page->private` points to: the DMA address and the
/// vaddr "and order in the lower bits".
public struct TTMPoolDMA: Hashable, Sendable {
  /// The slab object holding it.
  public let object: KmallocObject
  /// `addr` and the pages (`vaddr & PAGE_MASK`).
  public let allocation: DMACoherentAllocation
  /// `vaddr & ~PAGE_MASK`.
  public let order: Int

  /// The pointer value stored in `page->private`: the object's address in the x86_64 direct
  /// map (`PAGE_OFFSET` 0xffff888000000000; each object has its own page in the model).
  public var pointer: UInt { 0xffff_8880_0000_0000 + UInt(object.page.pfn) << 12 }
}

/// The `drm-ttm_pool` shrinker (`ttm_pool_mgr_init()`: `ttm_pool_shrinker_count()`,
/// `ttm_pool_shrinker_scan()`, `batch = TTM_SHRINKER_BATCH`, `seeks = 1`): frees pages sitting
/// in pool types. The kernel registers one for all devices; the model registers one per
/// device whose pool has pool types.
public final class TTMPoolShrinker: Shrinker {
  public let name = "drm-ttm_pool"
  public let seeks = 1
  /// `TTM_SHRINKER_BATCH`: `(1 << (MAX_PAGE_ORDER / 2)) * NR_PAGE_ORDERS`.
  public let batch = (1 << (MAX_PAGE_ORDER / 2)) * (MAX_PAGE_ORDER + 1)
  public unowned let device: TTMDevice

  init(device: TTMDevice) { self.device = device }

  /// `ttm_pool_shrinker_count()`: the pages in pool types (`SHRINK_EMPTY` for none, which
  /// `do_shrink_slab()` treats as 0).
  public func countObjects(_ sc: ShrinkControl, on machine: Machine) -> Int { device.poolAllocatedPages }

  /// `ttm_pool_shrinker_scan()`: `ttm_pool_shrink()` until `nr_to_scan` pages are freed or
  /// the pool types are empty; `SHRINK_STOP` if nothing was freed.
  public func scanObjects(_ sc: inout ShrinkControl, on machine: Machine) -> ShrinkResult {
    var numFreed = 0
    repeat {
      numFreed += device.ttmPoolShrink(sc.nrToScan)
    } while numFreed < sc.nrToScan && device.poolAllocatedPages > 0
    sc.nrScanned = numFreed
    return numFreed > 0 ? .freed(numFreed) : .stop
  }
}

/// `struct ttm_bo_shrink_flags` (`include/drm/ttm/ttm_bo.h`, 6.15+).
public struct TTMBOShrinkFlags: Hashable, Sendable, CustomStringConvertible {
  /// `purge`: purge the content rather than backing it up.
  public var purge: Bool
  /// `writeback`: attempt to immediately move content to swap.
  public var writeback: Bool
  /// `allow_move`: allow moving to system before shrinking (xe passes `true`).
  public var allowMove: Bool

  public init(purge: Bool = false, writeback: Bool = false, allowMove: Bool = true) {
    self.purge = purge
    self.writeback = writeback
    self.allowMove = allowMove
  }

  public var description: String { "{.purge = \(purge), .writeback = \(writeback), .allow_move = \(allowMove)}" }
}
