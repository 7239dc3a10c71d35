/// `DMA_ATTR_*` (`include/linux/dma-mapping.h`): the attributes a coherent allocation is made
/// with. The bit values are as recalled (UNVERIFIED); nothing in the model depends on them.
public struct DMAAttrs: OptionSet, Hashable, Sendable {
  public let rawValue: UInt
  public init(rawValue: UInt) { self.rawValue = rawValue }
  /// `DMA_ATTR_NO_WARN`: do not warn when the allocation fails.
  public static let NO_WARN = DMAAttrs(rawValue: 1 << 8)
  /// `DMA_ATTR_FORCE_CONTIGUOUS`: physically contiguous memory.
  public static let FORCE_CONTIGUOUS = DMAAttrs(rawValue: 1 << 6)
}

/// A coherent DMA allocation: its first page and the bus address the device sees.
public struct DMACoherentAllocation: Hashable, Sendable {
  public let page: Page
  /// `dma_addr_t`: without an IOMMU, the physical address.
  public let addr: UInt64
}

extension Machine {
  /// `dma_alloc_attrs(dev, size, &dma_handle, gfp, attrs)` (`kernel/dma/mapping.c`) for a
  /// device behind the direct mapping (no IOMMU, no CMA area, no restricted pool, no memory
  /// encryption).
  ///
  /// `dma_alloc_attrs()` drops the zone modifiers (`__GFP_DMA | __GFP_DMA32 | __GFP_HIGHMEM`:
  /// "let the implementation decide on the zone"); `dma_direct_alloc()` allocates
  /// `get_order(size)` pages without `__GFP_ZERO` and clears them itself, so the memory is
  /// always zeroed; it is not a compound page. The zone the device's coherent mask asks for is
  /// not modelled (the model has one zone). These dma-direct details are as recalled from
  /// `kernel/dma/direct.c`, not read from a tree in this project: UNVERIFIED. A failure warns
  /// unless `__GFP_NOWARN` or `DMA_ATTR_NO_WARN`; the page allocator's own warning is what
  /// the model prints.
  ///
  /// Returns `nil` (NULL) when the pages cannot be had.
  public func dmaAllocAttrs(
    size: Int, _ gfp: GFP, attrs: DMAAttrs, owner: PageOwner
  ) throws -> DMACoherentAllocation? {
    precondition(size > 0, "dma_alloc_attrs() of nothing")
    let order = Swift.max(0, Int.bitWidth - ((size - 1) >> 12).leadingZeroBitCount)
    var flags = gfp.subtracting([.__GFP_DMA, .__GFP_DMA32, .__GFP_HIGHMEM, .__GFP_ZERO])
    if attrs.contains(.NO_WARN) { flags.insert(.__GFP_NOWARN) }
    guard let page = try allocPages(flags, order: order, owner: owner) else { return nil }
    for i in 0..<(1 << order) { mem[page + i].content = .zero }
    counters.dmaAllocations += 1
    return DMACoherentAllocation(page: page, addr: UInt64(page.pfn) << 12)
  }

  /// `dma_free_attrs()`: gives the pages of a coherent allocation of `size` bytes back.
  public func dmaFreeAttrs(size: Int, _ allocation: DMACoherentAllocation, attrs: DMAAttrs) {
    let order = Swift.max(0, Int.bitWidth - ((size - 1) >> 12).leadingZeroBitCount)
    counters.dmaFrees += 1
    freePages(allocation.page, order: order)
  }
}
