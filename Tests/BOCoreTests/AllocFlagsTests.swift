import Testing

@testable import BOCore

/// The slow path's flag translation, table-tested against `mm/page_alloc.c` (v6.18.19, read
/// from the stable tree): `gfp_to_alloc_flags()`, `__gfp_pfmemalloc_flags()` and the reserve
/// arithmetic of `__zone_watermark_ok()`, for every gfp bit and task state the model reads.
///
/// What the model leaves out, so no row here claims it: `ALLOC_CPUSET` (no cpusets),
/// `ALLOC_KSWAPD` (no kswapd), `ALLOC_HIGHATOMIC` (no highatomic pageblocks), `ALLOC_CMA`,
/// `ALLOC_NOFRAGMENT` (`defrag_mode`), the realtime-task `ALLOC_MIN_RESERVE` and the
/// softirq/interrupt cases of `__gfp_pfmemalloc_flags()` (the model has no interrupt context).
@Suite("mm/page_alloc.c: allocation flags and reserves", .tags(.mm))
struct AllocFlagsTests {
  /// `gfp_to_alloc_flags()`:
  ///
  ///     alloc_flags = ALLOC_WMARK_MIN | ALLOC_CPUSET;
  ///     alloc_flags |= gfp_mask & (__GFP_HIGH | __GFP_KSWAPD_RECLAIM);
  ///     if (!(gfp_mask & __GFP_DIRECT_RECLAIM)) {
  ///         if (!(gfp_mask & __GFP_NOMEMALLOC)) {
  ///             alloc_flags |= ALLOC_NON_BLOCK;
  ///     ...
  ///
  /// Each row differs from a neighbour in one bit. `__GFP_NOMEMALLOC` takes away
  /// `ALLOC_NON_BLOCK` only from a caller that cannot reclaim, and never `ALLOC_MIN_RESERVE`;
  /// `__GFP_MEMALLOC` and the retry/warn bits do not enter the translation at all.
  @Test(
    "gfp_to_alloc_flags()",
    arguments: [
      ("GFP_KERNEL", GFP.GFP_KERNEL, AllocFlags.wmarkMin),
      ("GFP_KERNEL|__GFP_HIGH", [.GFP_KERNEL, .__GFP_HIGH], [.wmarkMin, .minReserve]),
      ("GFP_KERNEL|__GFP_NOMEMALLOC", [.GFP_KERNEL, .__GFP_NOMEMALLOC], .wmarkMin),
      ("GFP_KERNEL|__GFP_MEMALLOC", [.GFP_KERNEL, .__GFP_MEMALLOC], .wmarkMin),
      (
        "GFP_KERNEL|__GFP_RETRY_MAYFAIL|__GFP_NORETRY|__GFP_NOFAIL|__GFP_NOWARN",
        [.GFP_KERNEL, .__GFP_RETRY_MAYFAIL, .__GFP_NORETRY, .__GFP_NOFAIL, .__GFP_NOWARN], .wmarkMin
      ),
      ("GFP_NOFS", .GFP_NOFS, .wmarkMin),
      ("GFP_ATOMIC", .GFP_ATOMIC, [.wmarkMin, .minReserve, .nonBlock]),
      ("GFP_ATOMIC|__GFP_NOMEMALLOC", [.GFP_ATOMIC, .__GFP_NOMEMALLOC], [.wmarkMin, .minReserve]),
      ("GFP_NOWAIT", .GFP_NOWAIT, [.wmarkMin, .nonBlock]),
      ("GFP_NOWAIT|__GFP_NOMEMALLOC", [.GFP_NOWAIT, .__GFP_NOMEMALLOC], .wmarkMin),
      ("GFP_NOWAIT|__GFP_MEMALLOC", [.GFP_NOWAIT, .__GFP_MEMALLOC], [.wmarkMin, .nonBlock]),
      ("GFP_KERNEL & ~__GFP_DIRECT_RECLAIM", [.__GFP_KSWAPD_RECLAIM, .__GFP_IO, .__GFP_FS], [.wmarkMin, .nonBlock]),
      ("no bits at all", [], [.wmarkMin, .nonBlock]),
      ("__GFP_HIGH alone", .__GFP_HIGH, [.wmarkMin, .minReserve, .nonBlock]),
    ] as [(String, GFP, AllocFlags)])
  func gfpToAllocFlags(_ name: String, _ gfp: GFP, _ expected: AllocFlags) {
    let m = Machine(MachineConfig(memoryPages: 64))
    #expect(m.gfpToAllocFlags(gfp) == expected, "\(name)")
  }

  /// The task state `__gfp_pfmemalloc_flags()` reads.
  enum Context: String, CaseIterable, Sendable {
    case plain
    case pfMemalloc = "PF_MEMALLOC"
    case oomVictim = "OOM victim"
    case both = "PF_MEMALLOC and OOM victim"
  }

  /// `__gfp_pfmemalloc_flags()`, in its order: `__GFP_NOMEMALLOC` first (0, whatever else),
  /// then `__GFP_MEMALLOC`, then `PF_MEMALLOC` before the OOM victim's `ALLOC_OOM`.
  @Test(
    "__gfp_pfmemalloc_flags()",
    arguments: [
      (GFP.GFP_KERNEL, Context.plain, AllocFlags?.none),
      (.GFP_KERNEL, .pfMemalloc, .noWatermarks),
      (.GFP_KERNEL, .oomVictim, .oom),
      (.GFP_KERNEL, .both, .noWatermarks),
      ([.GFP_KERNEL, .__GFP_MEMALLOC], .plain, .noWatermarks),
      ([.GFP_KERNEL, .__GFP_MEMALLOC], .oomVictim, .noWatermarks),
      ([.GFP_KERNEL, .__GFP_NOMEMALLOC], .pfMemalloc, nil),
      ([.GFP_KERNEL, .__GFP_NOMEMALLOC], .oomVictim, nil),
      ([.GFP_KERNEL, .__GFP_NOMEMALLOC, .__GFP_MEMALLOC], .both, nil),
      (.GFP_ATOMIC, .plain, nil),
      (.GFP_ATOMIC, .oomVictim, .oom),
    ] as [(GFP, Context, AllocFlags?)])
  func gfpPfmemallocFlags(_ gfp: GFP, _ context: Context, _ expected: AllocFlags?) {
    let m = Machine(MachineConfig(memoryPages: 64))
    if context == .oomVictim || context == .both {
      m.tasks[m.taskIndex(m.currentPID)!].isOOMVictim = true
    }
    let flags =
      context == .pfMemalloc || context == .both
      ? m.memallocNoreclaim { m.gfpPfmemallocFlags(gfp) } : m.gfpPfmemallocFlags(gfp)
    #expect(flags == expected, "\(gfp) in \(context.rawValue)")
  }

  /// `__zone_watermark_ok()` with `mark` 64: the lowest number of free pages (after the
  /// `(1 << order) - 1` the allocation itself takes) that passes, for each reserve flag set.
  /// `ALLOC_NON_BLOCK` alone gets nothing (GFP_NOWAIT does not reach the min reserve); with
  /// `ALLOC_MIN_RESERVE` it takes a further quarter; `ALLOC_OOM` halves what is left.
  @Test(
    "__zone_watermark_ok(): the reserve each flag may use",
    arguments: [
      (AllocFlags.wmarkMin, 64),
      ([.wmarkMin, .nonBlock], 64),
      ([.wmarkMin, .minReserve], 32),
      ([.wmarkMin, .minReserve, .nonBlock], 24),
      ([.wmarkMin, .oom], 32),
      ([.wmarkMin, .minReserve, .oom], 16),
      ([.wmarkMin, .minReserve, .nonBlock, .oom], 12),
    ] as [(AllocFlags, Int)])
  func watermarkReserves(_ flags: AllocFlags, _ min: Int) {
    let mem = PhysicalMemory(totalPages: 1024, watermarks: Watermarks(min: 64))
    // `free_pages <= min` fails: the bar is exactly one page above the reduced min.
    #expect(!mem.watermarkOK(order: 0, mark: 64, flags: flags, freePages: min))
    #expect(mem.watermarkOK(order: 0, mark: 64, flags: flags, freePages: min + 1))
    // An order-2 request first takes its own three extra pages off the free count.
    #expect(!mem.watermarkOK(order: 2, mark: 64, flags: flags, freePages: min + 3))
    #expect(mem.watermarkOK(order: 2, mark: 64, flags: flags, freePages: min + 4))
  }

  /// A watermark that passes still needs a free block of the order: the fragmentation check
  /// after the order-0 test.
  @Test("__zone_watermark_ok(): a high order needs a free block of that order")
  func watermarkNeedsBlock() throws {
    let m = Machine(MachineConfig(memoryPages: 64))
    // Take one page of every order-1 pair: 32 free pages, none of them in a pair.
    var pairs: [Page] = []
    while let p = m.mem.getPageFromFreelist(order: 1, flags: .noWatermarks, gfp: .GFP_KERNEL, owner: .other("t")) {
      pairs.append(p)
    }
    for p in pairs { m.mem.freeNonCompoundTail(p, order: 1) }
    #expect(m.mem.nrFreePages == 32)
    #expect(m.mem.watermarkOK(order: 0, mark: 0, flags: .wmarkMin))
    #expect(!m.mem.watermarkOK(order: 1, mark: 0, flags: .wmarkMin))
    for p in pairs { m.freePages(p, order: 0) }
    #expect(m.audit().isClean, "\(m.audit())")
  }

  /// `mark(for:)`: `ALLOC_WMARK_HIGH` and `ALLOC_WMARK_LOW` choose their watermark, anything
  /// else the min one (`ALLOC_OOM` and the reserve flags keep `ALLOC_WMARK_MIN`, 0).
  @Test(
    "the watermark each ALLOC_WMARK_* selects",
    arguments: [
      (AllocFlags.wmarkHigh, 96), (.wmarkLow, 80), (.wmarkMin, 64), (.oom, 64), ([.minReserve, .nonBlock], 64),
    ] as [(AllocFlags, Int)])
  func markSelection(_ flags: AllocFlags, _ mark: Int) {
    let mem = PhysicalMemory(totalPages: 256, watermarks: Watermarks(min: 64))
    #expect(mem.mark(for: flags) == mark)
  }

  /// The same flags end to end, through `alloc_pages()` with nothing to reclaim: a zone with
  /// min 64 and `free` pages left, the caller in `context`. Outcomes differ by one bit or one
  /// page from a neighbouring row.
  @Test(
    "alloc_pages(): who gets a page below the watermarks",
    arguments: [
      // __GFP_NOMEMALLOC with a non-blocking __GFP_HIGH: half the min reserve, not the
      // further quarter.
      (GFP.GFP_ATOMIC, Context.plain, 25, true),
      (.GFP_ATOMIC, .plain, 24, false),
      ([.GFP_ATOMIC, .__GFP_NOMEMALLOC], .plain, 25, false),
      ([.GFP_ATOMIC, .__GFP_NOMEMALLOC], .plain, 33, true),
      // GFP_NOWAIT gets no reserve.
      (.GFP_NOWAIT, .plain, 65, true),
      (.GFP_NOWAIT, .plain, 64, false),
      // PF_MEMALLOC ignores the watermarks, unless __GFP_NOMEMALLOC.
      (.GFP_NOWAIT, .pfMemalloc, 1, true),
      ([.GFP_NOWAIT, .__GFP_NOMEMALLOC], .pfMemalloc, 1, false),
      ([.GFP_NOWAIT, .__GFP_MEMALLOC], .plain, 1, true),
      // An OOM victim gets half the min reserve, on the retry.
      (.GFP_NOWAIT, .oomVictim, 33, true),
      (.GFP_NOWAIT, .oomVictim, 32, false),
      ([.GFP_NOWAIT, .__GFP_NOMEMALLOC], .oomVictim, 33, false),
    ] as [(GFP, Context, Int, Bool)])
  func endToEnd(_ gfp: GFP, _ context: Context, _ free: Int, _ succeeds: Bool) throws {
    let m = Machine(MachineConfig(memoryPages: 256, watermarks: Watermarks(min: 64)))
    let task = try m.spawnTask("bystander", rssPages: m.mem.nrFreePages - free)
    #expect(m.mem.nrFreePages == free)
    if context == .oomVictim { m.tasks[m.taskIndex(m.currentPID)!].isOOMVictim = true }
    let alloc = { try m.allocPages([gfp, .__GFP_NOWARN], order: 0, owner: .other("t")) }
    let page = context == .pfMemalloc ? try m.memallocNoreclaim(alloc) : try alloc()
    #expect((page != nil) == succeeds, "\(gfp) with \(free) free in \(context.rawValue)")
    #expect(m.vmstat.oomKill == 0)
    if let page { m.freePages(page, order: 0) }
    m.exitTask(task)
    #expect(m.audit().isClean, "\(m.audit())")
  }
}
