/// A page frame, the model's `struct page *`.
///
/// A `Page` is only a frame number, as `pfn_to_page()` would give; what the kernel keeps in
/// `struct page` (refcount, `private`, order, the model's content) lives in the frame table of
/// ``PhysicalMemory`` and is read through the ``Machine``. Comparing pages compares frame
/// numbers, so `page + 3` is the fourth sub-page of a higher-order allocation, like `page + 3`
/// on a `struct page *`.
public struct Page: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
  /// The page frame number.
  public let pfn: Int

  /// Creates a reference to frame `pfn` (`pfn_to_page()`).
  public init(pfn: Int) { self.pfn = pfn }

  public static func < (lhs: Page, rhs: Page) -> Bool { lhs.pfn < rhs.pfn }

  /// The page `offset` frames after this one, like pointer arithmetic on `struct page *`.
  public static func + (lhs: Page, offset: Int) -> Page { Page(pfn: lhs.pfn + offset) }

  public var description: String { "pfn:\(pfn)" }
}

/// The bytes in a page, in the kernel's 4 KiB base page size (`PAGE_SIZE`).
public let PAGE_SIZE = 4096

/// The largest order the buddy allocator manages (`MAX_PAGE_ORDER`, formerly `MAX_ORDER - 1`):
/// 10, i.e. 4 MiB blocks, as on x86_64 with 4 KiB pages.
public let MAX_PAGE_ORDER = 10

/// Orders above this are "costly" (`PAGE_ALLOC_COSTLY_ORDER`): the allocator gives up on
/// them without invoking the OOM killer.
public let PAGE_ALLOC_COSTLY_ORDER = 3

/// What a page holds, as a model value instead of 4 KiB of bytes.
///
/// Tests fill pages with a seeded pattern and compare after a round trip, as the xe shrink
/// test does with PRNG data on hardware. Freed pages are poisoned with ``poison`` so that
/// reading memory after it was freed shows up as wrong content, never as the right one.
public struct PageContent: Hashable, Codable, Sendable, CustomStringConvertible {
  /// The 64-bit value standing for the page's bytes.
  public let value: UInt64

  /// Creates content from a raw value.
  public init(_ value: UInt64) { self.value = value }

  /// A zero-filled page (`__GFP_ZERO`, `clear_highpage()`).
  public static let zero = PageContent(0)

  /// The content of a freed page: `PAGE_POISON` (0xaa) repeated, what `CONFIG_PAGE_POISONING`
  /// writes into freed pages.
  public static let poison = PageContent(0xaaaa_aaaa_aaaa_aaaa)

  /// What a frame holds before anything ever wrote to it: stale data, unique per frame.
  public static func uninitialized(pfn: Int) -> PageContent {
    PageContent(0x5a5a_0000_0000_0000 | UInt64(truncatingIfNeeded: pfn))
  }

  /// A deterministic pattern for page `index` of object `object` under `seed`, so a test can
  /// fill a buffer and later check every page of it.
  public static func pattern(seed: UInt64, object: Int, index: Int) -> PageContent {
    var x = seed &+ 0x9e37_79b9_7f4a_7c15 &* UInt64(truncatingIfNeeded: object &+ 1)
    x ^= UInt64(truncatingIfNeeded: index) &* 0xbf58_476d_1ce4_e5b9
    // splitmix64 finaliser
    x = (x ^ (x >> 30)) &* 0xbf58_476d_1ce4_e5b9
    x = (x ^ (x >> 27)) &* 0x94d0_49bb_1331_11eb
    x ^= x >> 31
    // Never collide with the special values.
    if x == 0 || x == PageContent.poison.value { x = ~x }
    return PageContent(x)
  }

  public var description: String { "0x" + String(value, radix: 16) }
}

/// Who holds an allocated page, for the accounting audit.
///
/// The kernel does not track this (short of `CONFIG_PAGE_OWNER`); the model does, so that a
/// leak names its owner.
public enum PageOwner: Hashable, Sendable, CustomStringConvertible {
  /// Anonymous memory of a task (its RSS).
  case task(pid: PID)
  /// A folio in the page cache of a shmem file.
  case shmem(file: Int, index: Int)
  /// A page of a TTM page array (`ttm_tt`), identified by the tt's id.
  case ttm(tt: Int)
  /// Anything else, named by the allocation site.
  case other(String)

  /// The object the page belongs to, without the index: what the audit groups leaks by.
  public var object: String {
    switch self {
    case .shmem(let file, _): "shmem file \(file)"
    default: description
    }
  }

  public var description: String {
    switch self {
    case .task(let pid): "task \(pid)"
    case .shmem(let file, let index): "shmem file \(file) index \(index)"
    case .ttm(let tt): "ttm_tt \(tt)"
    case .other(let what): what
    }
  }
}
