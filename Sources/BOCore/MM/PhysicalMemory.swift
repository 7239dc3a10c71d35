/// What the kernel keeps in `struct page` for one frame, plus the model's content and owner.
public struct PageFrame: Sendable {
  /// `page_ref_count()`. 0 for a free page and for the tail pages of a non-compound
  /// higher-order allocation, as in the kernel.
  public var refcount: Int32 = 0
  /// `page->private`. TTM stores the allocation order here.
  public var `private`: UInt = 0
  /// What the page holds.
  public var content: PageContent
  /// Who holds the page, or `nil` while it is free.
  public var owner: PageOwner?
  /// For the first page of an allocation: its order; -1 for any other page. The model's
  /// bookkeeping (the kernel trusts the caller to free with the right order), used to catch
  /// frees with the wrong order.
  var allocOrder: Int8 = -1
  /// For the head of a compound (`__GFP_COMP`) allocation: `folio_order()`. 0 otherwise.
  public var compoundOrder: Int8 = 0
  /// For a tail page of a compound allocation: the head's frame number; -1 otherwise.
  public var compoundHead: Int32 = -1
  /// `PageBuddy()`: this frame heads a free block of order ``buddyOrder``.
  var isBuddy = false
  /// `buddy_order()` of a free block head.
  var buddyOrder: Int8 = 0
  /// The free-list links (`page->buddy_list`), as frame numbers; -1 is the list end.
  var freeNext: Int32 = -1
  var freePrev: Int32 = -1
  /// The page is inside a free block (head or not).
  public var isFree = true
  /// `PG_locked` of a folio head (`folio_lock()`).
  public var locked = false

  init(content: PageContent) { self.content = content }
}

/// Allocator flags the slow path derives from the gfp mask (`ALLOC_*` in `mm/internal.h`).
public struct AllocFlags: OptionSet, Hashable, Sendable {
  public let rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }
  /// Check against the min watermark (`ALLOC_WMARK_MIN`).
  public static let wmarkMin = AllocFlags(rawValue: 1 << 0)
  /// Check against the low watermark (`ALLOC_WMARK_LOW`), the fast path.
  public static let wmarkLow = AllocFlags(rawValue: 1 << 1)
  /// Check against the high watermark (`ALLOC_WMARK_HIGH`), the last try before OOM.
  public static let wmarkHigh = AllocFlags(rawValue: 1 << 2)
  /// Ignore watermarks entirely (`ALLOC_NO_WATERMARKS`): `__GFP_MEMALLOC` or `PF_MEMALLOC`.
  public static let noWatermarks = AllocFlags(rawValue: 1 << 3)
  /// `__GFP_HIGH`: may use half of the min reserve (`ALLOC_MIN_RESERVE`).
  public static let minReserve = AllocFlags(rawValue: 1 << 4)
  /// The caller cannot sleep: may use a further quarter (`ALLOC_NON_BLOCK`).
  public static let nonBlock = AllocFlags(rawValue: 1 << 5)
  /// The OOM victim's access to reserves (`ALLOC_OOM`).
  public static let oom = AllocFlags(rawValue: 1 << 6)
}

/// Zone watermarks in pages (`zone->_watermark[WMARK_MIN/LOW/HIGH]`).
public struct Watermarks: Hashable, Codable, Sendable {
  /// `WMARK_MIN`: below it only reserve users allocate.
  public var min: Int
  /// `WMARK_LOW`: the fast path's bar, where kswapd is woken.
  public var low: Int
  /// `WMARK_HIGH`: what the last allocation attempt before the OOM killer checks.
  public var high: Int

  /// Watermarks from a min value, spaced as `__setup_per_zone_wmarks()` does with the
  /// default `watermark_scale_factor` on a small zone: low = min + min/4, high = min + min/2.
  public init(min: Int) {
    self.min = min
    self.low = min + min / 4
    self.high = min + min / 2
  }

  /// No reserves at all: every free page can be allocated by anyone.
  public static let none = Watermarks(min: 0)
}

/// One memory zone of finite size managed by a buddy allocator, with the frame table.
///
/// Models `struct zone` with its `free_area[]` and `mm/page_alloc.c`'s `__rmqueue_smallest()`,
/// `expand()` and `__free_one_page()`: an allocation takes the smallest free block that fits
/// and splits it, keeping the lower half; a free merges a block with its buddy as far as it
/// can. So availability is per order: after fragmentation an order-3 allocation can fail
/// while order-0 ones succeed. Migrate types, per-cpu lists, the free-list shuffle and
/// compaction are not modelled; free blocks go to the head of their list and are taken from
/// the head, deterministically.
public struct PhysicalMemory: Sendable {
  /// All frames, indexed by pfn (`mem_map`).
  public private(set) var frames: ContiguousArray<PageFrame>
  /// Heads of the per-order free lists (`zone->free_area[order].free_list`), -1 when empty.
  private var freeHead: [Int32]
  /// `zone->free_area[order].nr_free`: free blocks per order.
  public private(set) var nrFree: [Int]
  /// `NR_FREE_PAGES`.
  public private(set) var nrFreePages: Int
  /// The zone's watermarks.
  public var watermarks: Watermarks
  /// The most pages ever in use at once (`totalPages - nrFreePages` at its high point).
  public private(set) var peakPagesInUse = 0
  /// Base pages handed out and given back since boot, for the audit and benchmarks.
  public private(set) var pagesAllocated = 0
  public private(set) var pagesFreed = 0

  /// Frames in the zone.
  public var totalPages: Int { frames.count }

  /// The fewest pages ever free at once since the last ``resetLowest()``: how deep
  /// allocations dug into the reserves.
  public private(set) var lowestFreePages = Int.max

  /// Starts a new peak measurement from the pages in use now.
  public mutating func resetPeak() { peakPagesInUse = pagesInUse }

  /// Starts a new low-water measurement from the pages free now.
  public mutating func resetLowest() { lowestFreePages = nrFreePages }
  /// Frames currently allocated.
  public var pagesInUse: Int { totalPages - nrFreePages }

  /// Creates a zone of `totalPages` frames, all free, as `memblock_free_all()` leaves it:
  /// each maximal aligned block up to `MAX_PAGE_ORDER` on its free list.
  public init(totalPages: Int, watermarks: Watermarks = .none) {
    precondition(totalPages > 0, "a zone needs at least one page")
    frames = ContiguousArray(
      (0..<totalPages).lazy.map { PageFrame(content: .uninitialized(pfn: $0)) })
    freeHead = Array(repeating: -1, count: MAX_PAGE_ORDER + 1)
    nrFree = Array(repeating: 0, count: MAX_PAGE_ORDER + 1)
    nrFreePages = 0
    self.watermarks = watermarks
    var pfn = 0
    while pfn < totalPages {
      var order = MAX_PAGE_ORDER
      while order > 0 && (pfn & ((1 << order) - 1) != 0 || pfn + (1 << order) > totalPages) {
        order -= 1
      }
      addToFreeList(pfn, order: order)
      nrFreePages += 1 << order
      pfn += 1 << order
    }
  }

  /// The frame of `page`; writable inside the module only, through the named operations.
  ///
  /// Read and modified in place (`_read`/`_modify`), so `mem[page].refcount -= 1` does not
  /// copy the whole frame (with its owner) out and back.
  public internal(set) subscript(page: Page) -> PageFrame {
    _read { yield frames[page.pfn] }
    _modify { yield &frames[page.pfn] }
  }

  // MARK: Free lists

  private mutating func addToFreeList(_ pfn: Int, order: Int) {
    let head = freeHead[order]
    frames[pfn].isBuddy = true
    frames[pfn].buddyOrder = Int8(order)
    frames[pfn].freePrev = -1
    frames[pfn].freeNext = head
    if head >= 0 { frames[Int(head)].freePrev = Int32(pfn) }
    freeHead[order] = Int32(pfn)
    nrFree[order] += 1
  }

  private mutating func delFromFreeList(_ pfn: Int, order: Int) {
    let next = frames[pfn].freeNext
    let prev = frames[pfn].freePrev
    if prev >= 0 { frames[Int(prev)].freeNext = next } else { freeHead[order] = next }
    if next >= 0 { frames[Int(next)].freePrev = prev }
    frames[pfn].isBuddy = false
    frames[pfn].freeNext = -1
    frames[pfn].freePrev = -1
    nrFree[order] -= 1
  }

  // MARK: Allocation

  /// `__zone_watermark_ok()`: whether `order` can be taken while keeping free pages above
  /// `mark`, reduced for reserve users, and a free block of at least `order` exists.
  ///
  /// `freePages` stands in for `NR_FREE_PAGES` where a caller asks "would it pass with this
  /// many free", as `should_reclaim_retry()` does with free plus reclaimable pages.
  public func watermarkOK(
    order: Int, mark: Int, flags: AllocFlags, freePages: Int? = nil
  ) -> Bool {
    var min = mark
    // __zone_watermark_unusable_free(): the check is on what is left after this allocation.
    let freePages = (freePages ?? nrFreePages) - ((1 << order) - 1)
    if flags.contains(.minReserve) {
      // __GFP_HIGH: 50% of the min reserve; a caller that cannot block another 25%.
      min -= min / 2
      if flags.contains(.nonBlock) { min -= min / 4 }
    }
    if flags.contains(.oom) {
      // The OOM victim may use a further half of what is left.
      min -= min / 2
    }
    if freePages <= min { return false }
    if order == 0 { return true }
    for o in order...MAX_PAGE_ORDER where nrFree[o] > 0 { return true }
    return false
  }

  /// The watermark value a set of allocation flags checks against.
  public func mark(for flags: AllocFlags) -> Int {
    if flags.contains(.wmarkHigh) { return watermarks.high }
    if flags.contains(.wmarkLow) { return watermarks.low }
    return watermarks.min
  }

  /// `get_page_from_freelist()` for this single zone: the watermark check, then
  /// `__rmqueue_smallest()` and `prep_new_page()`. Returns `nil` when the check fails or no
  /// block is large enough.
  public mutating func getPageFromFreelist(
    order: Int, flags: AllocFlags, gfp: GFP, owner: PageOwner
  ) -> Page? {
    // ALLOC_NO_WATERMARKS skips the check and goes straight to try_this_zone.
    if !flags.contains(.noWatermarks) {
      guard watermarkOK(order: order, mark: mark(for: flags), flags: flags) else { return nil }
    }
    guard let pfn = rmqueueSmallest(order: order) else { return nil }
    prepNewPage(pfn, order: order, gfp: gfp, owner: owner)
    return Page(pfn: pfn)
  }

  /// `__rmqueue_smallest()` with `expand()`: takes the first block of the smallest order that
  /// fits, and puts the upper halves back on the lower-order free lists.
  private mutating func rmqueueSmallest(order: Int) -> Int? {
    for current in order...MAX_PAGE_ORDER where freeHead[current] >= 0 {
      let pfn = Int(freeHead[current])
      delFromFreeList(pfn, order: current)
      var high = current
      var size = 1 << current
      while high > order {
        high -= 1
        size >>= 1
        addToFreeList(pfn + size, order: high)
      }
      nrFreePages -= 1 << order
      return pfn
    }
    return nil
  }

  /// Clears what `free_pages_prepare()` clears and `prep_new_page()` expects clear: the
  /// refcount, `private`, the order bookkeeping, compound state and `PG_locked`.
  private mutating func clearPageState(_ i: Int) {
    frames[i].refcount = 0
    frames[i].private = 0
    frames[i].allocOrder = -1
    frames[i].compoundOrder = 0
    frames[i].compoundHead = -1
    frames[i].locked = false
  }

  /// `prep_new_page()`: refcount 1 on the head only (tails of a non-compound allocation keep
  /// 0), `private` cleared, a compound folio set up for `__GFP_COMP`, zeroing for `__GFP_ZERO`.
  private mutating func prepNewPage(_ pfn: Int, order: Int, gfp: GFP, owner: PageOwner) {
    let count = 1 << order
    let compound = order > 0 && gfp.contains(.__GFP_COMP)
    for i in pfn..<(pfn + count) {
      clearPageState(i)
      frames[i].isFree = false
      frames[i].owner = owner
      if compound && i != pfn { frames[i].compoundHead = Int32(pfn) }
      if gfp.contains(.__GFP_ZERO) { frames[i].content = .zero }
    }
    frames[pfn].refcount = 1
    frames[pfn].allocOrder = Int8(order)
    if compound { frames[pfn].compoundOrder = Int8(order) }
    pagesAllocated += count
    peakPagesInUse = Swift.max(peakPagesInUse, pagesInUse)
    lowestFreePages = Swift.min(lowestFreePages, nrFreePages)
  }

  // MARK: Freeing

  /// `__free_pages()` after the last reference is gone: poisons the block and returns it to
  /// the buddy allocator, merging with free buddies (`__free_one_page()`).
  ///
  /// - Precondition: `page` heads an allocation of exactly `order`, as the kernel requires
  ///   of its callers; a mismatch is a model bug and traps.
  public mutating func freePages(_ page: Page, order: Int) {
    let pfn = page.pfn
    precondition(
      frames[pfn].allocOrder == Int8(order),
      "freeing pfn \(pfn) at order \(order), but it was allocated at order \(frames[pfn].allocOrder)"
    )
    for i in pfn..<(pfn + (1 << order)) {
      clearPageState(i)
      frames[i].isFree = true
      frames[i].owner = nil
      frames[i].content = .poison
    }
    pagesFreed += 1 << order
    nrFreePages += 1 << order
    freeOnePage(pfn, order: order)
  }

  /// Sets the order a page is accounted as allocated at, after a split turned part of a
  /// larger allocation into an independent one.
  mutating func setAllocOrder(_ page: Page, _ order: Int) {
    frames[page.pfn].allocOrder = Int8(order)
  }

  /// `__free_pages()` for the tail of a non-compound block whose head is still referenced:
  /// frees `page + (1 << o)` at order `o` for `o` = `order - 1` down to 0, leaving the head
  /// page allocated at order 0.
  public mutating func freeNonCompoundTail(_ page: Page, order: Int) {
    let pfn = page.pfn
    precondition(frames[pfn].allocOrder == Int8(order) && frames[pfn].compoundOrder == 0)
    frames[pfn].allocOrder = 0
    var o = order
    while o > 0 {
      o -= 1
      let tail = pfn + (1 << o)
      frames[tail].allocOrder = Int8(o)
      freePages(Page(pfn: tail), order: o)
    }
  }

  /// `__free_one_page()`: merge with the buddy while it is a free block of the same order.
  private mutating func freeOnePage(_ pfn: Int, order: Int) {
    var pfn = pfn
    var order = order
    while order < MAX_PAGE_ORDER {
      let buddy = pfn ^ (1 << order)
      guard buddy + (1 << order) <= frames.count,
        frames[buddy].isBuddy, Int(frames[buddy].buddyOrder) == order
      else { break }
      delFromFreeList(buddy, order: order)
      pfn = Swift.min(pfn, buddy)
      order += 1
    }
    addToFreeList(pfn, order: order)
  }

  /// `split_page()`: turns a non-compound allocation of `order` into `1 << order` independent
  /// order-0 allocations. The head keeps its references; every tail gets one
  /// (`set_page_refcounted(page + i)` for i >= 1).
  public mutating func splitPage(_ page: Page, order: Int) {
    let pfn = page.pfn
    precondition(frames[pfn].compoundOrder == 0, "split_page() on a compound page")
    precondition(frames[pfn].allocOrder == Int8(order), "split_page() with the wrong order")
    precondition(frames[pfn].refcount > 0, "split_page() of an unreferenced page")
    frames[pfn].allocOrder = 0
    for i in (pfn + 1)..<(pfn + (1 << order)) {
      frames[i].allocOrder = 0
      frames[i].refcount = 1
    }
  }

  /// `take_page_off_buddy()`: removes one specific free frame from the buddy allocator,
  /// splitting its free block around it (`break_down_buddy_pages()`). Returns `false` if the
  /// frame is not free. Used to build fragmented memory deterministically.
  public mutating func takePageOffBuddy(_ page: Page, owner: PageOwner) -> Bool {
    let target = page.pfn
    guard frames[target].isFree else { return false }
    // Find the head of the free block containing the frame.
    var order = 0
    var head = target
    while true {
      if frames[head].isBuddy && Int(frames[head].buddyOrder) >= order
        && target < head + (1 << Int(frames[head].buddyOrder))
      {
        break
      }
      order += 1
      precondition(order <= MAX_PAGE_ORDER, "free frame \(target) has no free block head")
      head = target & ~((1 << order) - 1)
    }
    let blockOrder = Int(frames[head].buddyOrder)
    delFromFreeList(head, order: blockOrder)
    // Split the block, keeping the half that holds the target, down to order 0.
    var low = head
    var high = blockOrder
    while high > 0 {
      high -= 1
      let size = 1 << high
      if target >= low + size {
        addToFreeList(low, order: high)
        low += size
      } else {
        addToFreeList(low + size, order: high)
      }
    }
    nrFreePages -= 1
    prepNewPage(target, order: 0, gfp: [], owner: owner)
    return true
  }

  /// The largest order with a free block, or `nil` when memory is full.
  public var largestFreeOrder: Int? {
    (0...MAX_PAGE_ORDER).last { nrFree[$0] > 0 }
  }
}
