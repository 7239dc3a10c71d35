/// A swap slot (`swp_entry_t` on the one swap device).
public struct SwapSlot: Hashable, Codable, Sendable, CustomStringConvertible {
  /// The offset on the device.
  public let offset: Int
  public var description: String { "swap:\(offset)" }
}

/// A finite swap device: slots that hold page contents.
///
/// Slots are handed out lowest offset first and freed individually (`folio_alloc_swap()`,
/// `swap_free()`); clusters, the swap cache and readahead are not modelled.
public struct SwapDevice: Sendable {
  /// `total_swap_pages`.
  public let totalSlots: Int
  private var free: [Int]
  private var contents: [PageContent?]

  /// Creates a device of `slots` pages (0 for a machine without swap).
  public init(slots: Int) {
    precondition(slots >= 0, "negative swap size")
    totalSlots = slots
    free = Array((0..<slots).reversed())
    contents = Array(repeating: nil, count: slots)
  }

  /// `get_nr_swap_pages()`: free slots.
  public var nrSwapPages: Int { free.count }
  /// Slots holding data.
  public var slotsInUse: Int { totalSlots - free.count }

  /// `folio_alloc_swap()` for one page: a free slot holding `content`, or `nil` when full.
  public mutating func allocate(storing content: PageContent) -> SwapSlot? {
    guard let offset = free.popLast() else { return nil }
    contents[offset] = content
    return SwapSlot(offset: offset)
  }

  /// What slot `slot` holds.
  public func read(_ slot: SwapSlot) -> PageContent {
    guard let content = contents[slot.offset] else {
      preconditionFailure("read of free swap slot \(slot.offset)")
    }
    return content
  }

  /// `swap_free()`: releases `slot`.
  public mutating func release(_ slot: SwapSlot) {
    precondition(contents[slot.offset] != nil, "double free of swap slot \(slot.offset)")
    contents[slot.offset] = nil
    free.append(slot.offset)
  }
}
