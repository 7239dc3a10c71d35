/// `struct ttm_tt` (`include/drm/ttm/ttm_tt.h`): the page array of a buffer object in system
/// memory, and what it was swapped out or backed up to.
///
/// A class, because the kernel object is shared by pointer: the BO, the shrinker walking the
/// LRU and an ongoing restore all refer to the same tt.
public final class TTMTT: CustomStringConvertible {
  /// The model's id, used as the page owner (`.ttm(tt:)`) and for content patterns.
  public let id: Int
  /// `num_pages`.
  public let numPages: Int
  /// `pages`: each slot NULL, a page, or a backup handle.
  ///
  /// `@exclusivity(unchecked)` for speed, as ``Machine/mem`` (see there).
  @exclusivity(unchecked) public var pages: [TTMPagePointer]
  /// `page_flags`.
  public var pageFlags: TTMTTFlags
  /// `caching`.
  public var caching: TTMCaching
  /// `swap_storage`: the shmem file of the legacy `ttm_tt_swapout()`.
  public var swapStorage: ShmemFileID?
  /// `backup`: the shmem file of the 6.15+ backup (`ttm_tt_setup_backup()`).
  public var backup: ShmemFileID?
  /// `restore`: the state of a partial restore (`struct ttm_pool_tt_restore`).
  public var restore: TTMPoolTTRestore?

  /// `ttm_tt_init()` / `ttm_tt_init_fields()`: `numPages` NULL entries, no storage.
  public init(id: Int, numPages: Int, pageFlags: TTMTTFlags = [], caching: TTMCaching = .cached) {
    precondition(numPages > 0, "a tt has at least one page")
    self.id = id
    self.numPages = numPages
    self.pages = Array(repeating: .null, count: numPages)
    self.pageFlags = pageFlags
    self.caching = caching
  }

  /// `ttm_tt_is_populated()`.
  public var isPopulated: Bool { pageFlags.contains(.PRIV_POPULATED) }
  /// `ttm_tt_is_backed_up()`.
  public var isBackedUp: Bool { pageFlags.contains(.BACKED_UP) }
  /// `ttm_tt_is_swapped()` (legacy).
  public var isSwapped: Bool { pageFlags.contains(.SWAPPED) }

  /// The number of slots holding a page, a live handle (not 0), and nothing, for reports.
  public var slotCounts: (pages: Int, handles: Int, null: Int) {
    var counts = (pages: 0, handles: 0, null: 0)
    for p in pages {
      switch p {
      case .page: counts.pages += 1
      case .handle(let h) where h != 0: counts.handles += 1
      default: counts.null += 1
      }
    }
    return counts
  }

  public var description: String {
    let c = slotCounts
    return "ttm_tt \(id): \(numPages) pages (\(c.pages) resident, \(c.handles) handles), flags \(pageFlags.rawValue)"
  }
}

/// `struct ttm_pool_alloc_state` (`ttm_pool.c`): where a (possibly resumed) allocation of a
/// tt's pages stands. The kernel keeps pointers into `tt->pages`; the model keeps the tt
/// (``tt``, the array the pointers point into) and indices. `dma_addr` is not modelled (the
/// modelled device does not DMA-map through the pool).
public struct TTMPoolAllocState {
  /// The tt whose page array `pages` and `caching_divide` point into.
  public unowned let tt: TTMTT
  /// `pages`: the index of the next page pointer to populate.
  public var pages: Int
  /// `caching_divide`: the first index whose page has a staged but not committed caching
  /// transition from write-back to `ttCaching`.
  public var cachingDivide: Int
  /// `remaining_pages`.
  public var remainingPages: Int
  /// `tt_caching`.
  public var ttCaching: TTMCaching

  public init(tt: TTMTT, pages: Int, cachingDivide: Int, remainingPages: Int, ttCaching: TTMCaching) {
    self.tt = tt
    self.pages = pages
    self.cachingDivide = cachingDivide
    self.remainingPages = remainingPages
    self.ttCaching = ttCaching
  }
}

/// `struct ttm_pool_tt_restore` (`ttm_pool.c`): what a restore from backup needs to resume
/// after an error ("In order not to loose any data (yet), keep information around that
/// allows us to restart a failed ttm backup recovery").
///
/// It is `kzalloc()`ed by `ttm_pool_restore_and_alloc()`; ``object`` is that allocation.
public final class TTMPoolTTRestore {
  /// The slab object backing this struct, for `kfree()`.
  public let object: KmallocObject
  /// `pool`.
  public var pool: TTMPool?
  /// `snapshot_alloc`.
  public var snapshotAlloc: TTMPoolAllocState
  /// `alloced_page`: the page most recently allocated.
  public var allocedPage: Page?
  /// `alloced_pages`: pages in the tt's page array from this restore session.
  public var allocedPages = 0
  /// `restored_pages`: 4K pages of ``allocedPage`` restored so far.
  public var restoredPages = 0
  /// `page_caching`.
  public var pageCaching = TTMCaching.cached
  /// `order` of ``allocedPage``.
  public var order = 0

  public init(object: KmallocObject, snapshotAlloc: TTMPoolAllocState) {
    self.object = object
    self.snapshotAlloc = snapshotAlloc
  }
}

/// `struct ttm_pool` (`include/drm/ttm/ttm_pool.h`): how a device allocates tt pages.
///
/// A DMA-alloc pool has per-caching, per-order pool types (``TTMDevice/poolTypes``) that freed
/// pages go to; x86's global write-combined and uncached pool types are not modelled, so a
/// pool without DMA allocation gets every page from and gives it back to the page allocator,
/// which is what `ttm_pool_select_type()` gives for `ttm_cached` pages.
public struct TTMPool: Hashable, Sendable {
  /// `ttm_pool_uses_dma_alloc()` (`pool->use_dma_alloc` in trees before the
  /// `TTM_ALLOCATION_POOL_*` flags): pages come from `dma_alloc_attrs()` and go back to the
  /// pool's own pool types; backup refuses such pools with -EBUSY.
  public var usesDMAAlloc: Bool
  /// `ttm_pool_uses_dma32()`: allocate with `GFP_DMA32`.
  public var usesDMA32: Bool
  /// `ttm_pool_beneficial_order()`: above it, higher-order allocations do not reclaim; 0
  /// means no limit.
  public var beneficialOrder: Int
  /// Model knob: the largest order `__ttm_pool_alloc()` tries first. The kernel always
  /// starts at `MAX_PAGE_ORDER`; a test lowers it to build a tt of a given page order
  /// without having to fragment memory first.
  public var maxOrder: Int

  public init(
    usesDMAAlloc: Bool = false, usesDMA32: Bool = false, beneficialOrder: Int = 0,
    maxOrder: Int = MAX_PAGE_ORDER
  ) {
    precondition((0...MAX_PAGE_ORDER).contains(maxOrder), "pool order out of range")
    self.usesDMAAlloc = usesDMAAlloc
    self.usesDMA32 = usesDMA32
    self.beneficialOrder = beneficialOrder
    self.maxOrder = maxOrder
  }
}
