/// An allocation mask, the model of the kernel's `gfp_t`.
///
/// Bit values are those of `include/linux/gfp_types.h` from 6.3 on, for bits 0 to 23. Older
/// kernels (5.10, 5.15, 6.1) also had `___GFP_ATOMIC` at 0x200, so their `GFP_ATOMIC` was
/// 0xa20, and had no `__GFP_ZEROTAGS` before 5.14; the model uses the 6.3+ values throughout,
/// which the TTM code it models (6.15+) uses. The config-dependent tail (`__GFP_SKIP_ZERO`,
/// `__GFP_SKIP_KASAN` with `CONFIG_KASAN_HW_TAGS`, `__GFP_NOLOCKDEP` with `CONFIG_LOCKDEP`,
/// `__GFP_NO_OBJ_EXT`) is modelled as a kernel built without those options, where the
/// first three are 0; so `GFP_HIGHUSER_MOVABLE` is `0x100cca`.
///
/// The constants keep the kernel's spelling (`GFP.__GFP_RETRY_MAYFAIL`, `GFP.GFP_KERNEL`) so
/// model code reads like the C it transliterates. ``description`` prints a mask the way the
/// kernel's `%pGg` does (see ``GFP/description``).
public struct GFP: OptionSet, Hashable, Codable, Sendable {
  /// The mask bits.
  public let rawValue: UInt32

  /// Creates a mask from its raw bits.
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  // MARK: Single bits (include/linux/gfp_types.h)

  /// Zone modifier: `ZONE_DMA`.
  public static let __GFP_DMA = GFP(rawValue: 0x1)
  /// Zone modifier: highmem allowed.
  public static let __GFP_HIGHMEM = GFP(rawValue: 0x2)
  /// Zone modifier: `ZONE_DMA32`.
  public static let __GFP_DMA32 = GFP(rawValue: 0x4)
  /// Page is movable (migration/compaction may move it).
  public static let __GFP_MOVABLE = GFP(rawValue: 0x8)
  /// Slab pages that can be reclaimed by shrinkers.
  public static let __GFP_RECLAIMABLE = GFP(rawValue: 0x10)
  /// High priority: may use part of the reserves below the min watermark
  /// (`ALLOC_MIN_RESERVE`).
  public static let __GFP_HIGH = GFP(rawValue: 0x20)
  /// May start physical I/O (needed to write pages to swap).
  public static let __GFP_IO = GFP(rawValue: 0x40)
  /// May call into the filesystem; without it the OOM killer is not invoked.
  public static let __GFP_FS = GFP(rawValue: 0x80)
  /// Return zeroed pages.
  public static let __GFP_ZERO = GFP(rawValue: 0x100)
  /// May enter direct reclaim (the caller can sleep).
  public static let __GFP_DIRECT_RECLAIM = GFP(rawValue: 0x400)
  /// May wake kswapd.
  public static let __GFP_KSWAPD_RECLAIM = GFP(rawValue: 0x800)
  /// Caller intends to dirty the page.
  public static let __GFP_WRITE = GFP(rawValue: 0x1000)
  /// Suppress the allocation-failure warning (`warn_alloc()`); changes nothing else.
  public static let __GFP_NOWARN = GFP(rawValue: 0x2000)
  /// Retry hard, but fail rather than invoke the OOM killer.
  public static let __GFP_RETRY_MAYFAIL = GFP(rawValue: 0x4000)
  /// Never fail: retry (and OOM-kill) for as long as it takes. Only a caller that cannot
  /// direct-reclaim still fails (the kernel WARNs about such a caller).
  public static let __GFP_NOFAIL = GFP(rawValue: 0x8000)
  /// Fail after one light reclaim attempt; never OOM-kill.
  public static let __GFP_NORETRY = GFP(rawValue: 0x10000)
  /// Ignore all watermarks (`ALLOC_NO_WATERMARKS`) unless `__GFP_NOMEMALLOC`.
  public static let __GFP_MEMALLOC = GFP(rawValue: 0x20000)
  /// Make a compound (large) folio of a higher-order allocation.
  public static let __GFP_COMP = GFP(rawValue: 0x40000)
  /// Never use the emergency reserves, even from reclaim (`PF_MEMALLOC`) context.
  public static let __GFP_NOMEMALLOC = GFP(rawValue: 0x80000)
  /// Enforce the cpuset memory allocation policy.
  public static let __GFP_HARDWALL = GFP(rawValue: 0x100000)
  /// Allocate on this node only; the OOM killer is not invoked for it.
  public static let __GFP_THISNODE = GFP(rawValue: 0x200000)
  /// Charge the allocation to the memory cgroup.
  public static let __GFP_ACCOUNT = GFP(rawValue: 0x400000)
  /// Zero memory tags (arm64 MTE).
  public static let __GFP_ZEROTAGS = GFP(rawValue: 0x800000)

  // MARK: Composite masks

  /// `__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM` (0xc00).
  public static let __GFP_RECLAIM: GFP = [.__GFP_DIRECT_RECLAIM, .__GFP_KSWAPD_RECLAIM]
  /// `__GFP_HIGH | __GFP_KSWAPD_RECLAIM` (0x820).
  public static let GFP_ATOMIC: GFP = [.__GFP_HIGH, .__GFP_KSWAPD_RECLAIM]
  /// `__GFP_RECLAIM | __GFP_IO | __GFP_FS` (0xcc0).
  public static let GFP_KERNEL: GFP = [.__GFP_RECLAIM, .__GFP_IO, .__GFP_FS]
  /// `GFP_KERNEL | __GFP_ACCOUNT` (0x400cc0).
  public static let GFP_KERNEL_ACCOUNT: GFP = [.GFP_KERNEL, .__GFP_ACCOUNT]
  /// `__GFP_KSWAPD_RECLAIM | __GFP_NOWARN` (0x2800), as in the 2025/2026 trees read.
  /// Older kernels had just `__GFP_KSWAPD_RECLAIM`; when NOWARN was added is UNVERIFIED.
  public static let GFP_NOWAIT: GFP = [.__GFP_KSWAPD_RECLAIM, .__GFP_NOWARN]
  /// `__GFP_RECLAIM` (0xc00): may reclaim, no I/O, no filesystem.
  public static let GFP_NOIO: GFP = .__GFP_RECLAIM
  /// `__GFP_RECLAIM | __GFP_IO` (0xc40): no filesystem, so no OOM kill.
  public static let GFP_NOFS: GFP = [.__GFP_RECLAIM, .__GFP_IO]
  /// `GFP_KERNEL | __GFP_HARDWALL` (0x100cc0).
  public static let GFP_USER: GFP = [.GFP_KERNEL, .__GFP_HARDWALL]
  /// `__GFP_DMA` (0x1).
  public static let GFP_DMA: GFP = .__GFP_DMA
  /// `__GFP_DMA32` (0x4).
  public static let GFP_DMA32: GFP = .__GFP_DMA32
  /// `GFP_USER | __GFP_HIGHMEM` (0x100cc2).
  public static let GFP_HIGHUSER: GFP = [.GFP_USER, .__GFP_HIGHMEM]
  /// `GFP_HIGHUSER | __GFP_MOVABLE | __GFP_SKIP_KASAN` (0x100cca without
  /// `CONFIG_KASAN_HW_TAGS`): the default `mapping_gfp_mask()` of every inode, shmem included.
  public static let GFP_HIGHUSER_MOVABLE: GFP = [.GFP_HIGHUSER, .__GFP_MOVABLE]
  /// `(GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM`
  /// (0x1c20ca).
  public static let GFP_TRANSHUGE_LIGHT: GFP = GFP([
    .GFP_HIGHUSER_MOVABLE, .__GFP_COMP, .__GFP_NOMEMALLOC, .__GFP_NOWARN,
  ]).subtracting(.__GFP_RECLAIM)
  /// `GFP_TRANSHUGE_LIGHT | __GFP_DIRECT_RECLAIM` (0x1c24ca).
  public static let GFP_TRANSHUGE: GFP = [.GFP_TRANSHUGE_LIGHT, .__GFP_DIRECT_RECLAIM]

  /// `GFP_ZONEMASK`: the zone modifiers `__GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32 |
  /// __GFP_MOVABLE`.
  public static let GFP_ZONEMASK: GFP = [.__GFP_DMA, .__GFP_HIGHMEM, .__GFP_DMA32, .__GFP_MOVABLE]

  // MARK: Predicates used by the allocator

  /// Whether the caller may sleep in direct reclaim (`gfpflags_allow_blocking()`).
  public var allowsBlocking: Bool { contains(.__GFP_DIRECT_RECLAIM) }
}

extension GFP {
  /// Whether an allocation with this gfp at `order` can end in the OOM killer when memory
  /// runs out, by the decision table of `__alloc_pages_slowpath()` and
  /// `__alloc_pages_may_oom()` (kernel-facts.md §6.2): it must be allowed to direct-reclaim,
  /// not `__GFP_NORETRY`, at most `PAGE_ALLOC_COSTLY_ORDER`, neither `__GFP_RETRY_MAYFAIL`
  /// nor `__GFP_THISNODE`, not limited to a zone below `ZONE_NORMAL`, and `__GFP_FS` (without
  /// it `out_of_memory()` returns without killing). `__GFP_NOFAIL` may kill even where the
  /// others would not.
  public func mayInvokeOOMKiller(order: Int) -> Bool {
    guard contains(.__GFP_DIRECT_RECLAIM), contains(.__GFP_FS) else { return false }
    if contains(.__GFP_NOFAIL) { return true }
    if contains(.__GFP_NORETRY) || order > PAGE_ALLOC_COSTLY_ORDER { return false }
    if !isDisjoint(with: [.__GFP_RETRY_MAYFAIL, .__GFP_THISNODE, .__GFP_DMA, .__GFP_DMA32]) { return false }
    return true
  }
}
