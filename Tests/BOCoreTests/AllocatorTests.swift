import Testing

@testable import BOCore

/// What the page allocator does with one request.
enum AllocOutcome: Hashable, Sendable, CustomStringConvertible {
  /// Succeeded after the OOM killer killed the bystander.
  case oomKill
  /// Succeeded after reclaim, without a kill.
  case reclaimed
  /// Returned NULL; `warned` says whether `warn_alloc()` printed.
  case fail(warned: Bool)
  /// Would retry forever (the model stops with a lockup report).
  case neverReturns

  var description: String {
    switch self {
    case .oomKill: "OOM kill, then success"
    case .reclaimed: "success after reclaim"
    case .fail(let warned): warned ? "fail with warning" : "fail silently"
    case .neverReturns: "retries forever"
    }
  }
}

struct AllocCase: Sendable, CustomTestStringConvertible {
  let gfp: GFP
  let order: Int
  let expected: AllocOutcome
  var testDescription: String { "\(gfp) order \(order) → \(expected)" }
}

/// Runs one allocation and classifies the outcome, checking the log and the bystander.
func classify(_ m: Machine, _ gfp: GFP, order: Int, bystander: PID) throws -> AllocOutcome {
  let killsBefore = m.vmstat.oomKill
  let page: Page?
  do {
    page = try m.allocPages(gfp, order: order, owner: .other("request"))
  } catch KernelHalt.lockup {
    #expect(m.vmstat.oomKill == killsBefore, "no kill while retrying forever")
    #expect(m.task(bystander)?.isOOMVictim == false)
    return .neverReturns
  }
  let killed = m.vmstat.oomKill > killsBefore
  #expect(m.task(bystander)?.isOOMVictim == killed)
  #expect(!m.dmesg.grep("invoked oom-killer").isEmpty == killed)
  let warned = !m.dmesg.grep("page allocation failure: order:\(order)").isEmpty
  guard let page else { return .fail(warned: warned) }
  #expect(!warned)
  m.freePages(page, order: order)
  return killed ? .oomKill : .reclaimed
}

@Suite("Page allocator slow path", .tags(.mm))
struct AllocatorTests {
  /// The decision table of `__alloc_pages_slowpath()` under genuine OOM: nothing is
  /// reclaimable and one bystander task holds all memory.
  static let genuineOOM: [AllocCase] = [
    AllocCase(gfp: .GFP_KERNEL, order: 0, expected: .oomKill),
    AllocCase(gfp: .GFP_KERNEL, order: 3, expected: .oomKill),
    // Costly order: no OOM kill.
    AllocCase(gfp: .GFP_KERNEL, order: 4, expected: .fail(warned: true)),
    AllocCase(gfp: [.GFP_KERNEL, .__GFP_NORETRY], order: 0, expected: .fail(warned: true)),
    AllocCase(gfp: [.GFP_KERNEL, .__GFP_RETRY_MAYFAIL], order: 0, expected: .fail(warned: true)),
    AllocCase(gfp: [.GFP_KERNEL, .__GFP_RETRY_MAYFAIL], order: 3, expected: .fail(warned: true)),
    AllocCase(gfp: [.GFP_KERNEL, .__GFP_RETRY_MAYFAIL], order: 4, expected: .fail(warned: true)),
    AllocCase(
      gfp: [.GFP_KERNEL, .__GFP_RETRY_MAYFAIL, .__GFP_NOWARN], order: 0, expected: .fail(warned: false)),
    // __GFP_NOWARN changes nothing but the warning.
    AllocCase(gfp: [.GFP_KERNEL, .__GFP_NOWARN], order: 0, expected: .oomKill),
    AllocCase(gfp: [.GFP_KERNEL, .__GFP_THISNODE], order: 0, expected: .fail(warned: true)),
    // The shmem readback gfp before and after c6135f67.
    AllocCase(gfp: .GFP_HIGHUSER_MOVABLE, order: 0, expected: .oomKill),
    AllocCase(
      gfp: [.GFP_HIGHUSER_MOVABLE, .__GFP_RETRY_MAYFAIL, .__GFP_NOWARN], order: 0,
      expected: .fail(warned: false)),
    // No __GFP_FS: out_of_memory() reports progress without killing, forever.
    AllocCase(gfp: .GFP_NOFS, order: 0, expected: .neverReturns),
    AllocCase(gfp: .GFP_NOIO, order: 0, expected: .neverReturns),
    // No direct reclaim: fail at once.
    AllocCase(gfp: .GFP_ATOMIC, order: 0, expected: .fail(warned: true)),
    AllocCase(gfp: .GFP_NOWAIT, order: 0, expected: .fail(warned: false)),
    // __GFP_NOFAIL never fails: it kills where it may, and retries forever where it may not.
    AllocCase(gfp: [.GFP_KERNEL, .__GFP_NOFAIL], order: 0, expected: .oomKill),
    AllocCase(gfp: [.GFP_KERNEL, .__GFP_NOFAIL], order: 4, expected: .neverReturns),
    // ...but a __GFP_NOFAIL caller that cannot reclaim goes to fail (the kernel WARNs).
    AllocCase(gfp: [.GFP_ATOMIC, .__GFP_NOFAIL], order: 0, expected: .fail(warned: true)),
    // NORETRY never reaches the OOM killer, so NOFAIL just retries.
    AllocCase(gfp: [.GFP_KERNEL, .__GFP_NORETRY, .__GFP_NOFAIL], order: 0, expected: .neverReturns),
    AllocCase(gfp: [.GFP_KERNEL, .__GFP_RETRY_MAYFAIL, .__GFP_NOFAIL], order: 4, expected: .neverReturns),
    // A request limited to ZONE_DMA32 (below ZONE_NORMAL) never OOM-kills.
    AllocCase(gfp: [.GFP_KERNEL, .__GFP_DMA32], order: 0, expected: .fail(warned: true)),
  ]

  @Test("decision table under genuine OOM", arguments: genuineOOM)
  func decisionUnderOOM(_ c: AllocCase) throws {
    let (m, chrome) = try machineInOOM()
    #expect(try classify(m, c.gfp, order: c.order, bystander: chrome) == c.expected)
    if c.expected == .oomKill {
      // The victim's memory was freed: everything is free again after the request.
      #expect(m.mem.nrFreePages == m.mem.totalPages)
    }
    if c.gfp == .GFP_ATOMIC || c.gfp == .GFP_NOWAIT {
      #expect(m.vmstat.allocstall == 0, "no direct reclaim without __GFP_DIRECT_RECLAIM")
    }
    #expect(m.audit().isClean, "\(m.audit())")
  }

  /// With a shrinker holding 64 pages, reclaiming requests are satisfied without a kill. A
  /// GPU-style shrinker's pages do not count as reclaim progress, so an order-0
  /// `__GFP_NORETRY` request fails although the shrinker freed memory (the kernel's
  /// `__alloc_pages_direct_reclaim()` skips its retry without progress); one that accounts
  /// its pages lets it succeed. A shrinker that needs `__GFP_FS` gives a `GFP_NOFS` request
  /// nothing, which then retries forever.
  @Test(
    "success after shrinker reclaim",
    arguments: [
      (GFP.GFP_KERNEL, GFP([]), false, AllocOutcome.reclaimed),
      ([.GFP_KERNEL, .__GFP_NORETRY], [], false, .fail(warned: true)),
      ([.GFP_KERNEL, .__GFP_NORETRY], [], true, .reclaimed),
      ([.GFP_KERNEL, .__GFP_RETRY_MAYFAIL, .__GFP_NOWARN], [], false, .reclaimed),
      (.GFP_NOFS, [], false, .reclaimed),
      (.GFP_NOFS, .__GFP_FS, false, .neverReturns),
      (.GFP_KERNEL, .__GFP_FS, false, .reclaimed),
      (.GFP_ATOMIC, [], false, .fail(warned: true)),
    ] as [(GFP, GFP, Bool, AllocOutcome)])
  func shrinkerReclaim(_ gfp: GFP, _ shrinkerNeeds: GFP, _ accounts: Bool, _ expected: AllocOutcome) throws {
    let m = Machine(MachineConfig(memoryPages: 256))
    let cache = try PageCacheShrinker(machine: m, pages: 64, requires: shrinkerNeeds, accounts: accounts)
    m.registerShrinker(cache)
    let chrome = try m.spawnTask("chrome", rssPages: m.mem.nrFreePages)
    #expect(try classify(m, gfp, order: 0, bystander: chrome) == expected)
    if gfp.contains(.__GFP_DIRECT_RECLAIM) && shrinkerNeeds.isEmpty {
      #expect(cache.pages.count < 64, "the shrinker freed pages in every reclaiming case")
    }
    cache.release(m)
    #expect(m.audit().isClean, "\(m.audit())")
  }

  /// `should_reclaim_retry()` keeps retrying while the pages reclaim could free would be
  /// enough, at most `MAX_RECLAIM_RETRIES` passes without progress. Here 16 shmem folios are
  /// reclaimable on paper but held by someone, so every pass frees nothing.
  @Test(
    "reclaim retries MAX_RECLAIM_RETRIES times before giving up or killing",
    arguments: [
      ([GFP.GFP_KERNEL, .__GFP_RETRY_MAYFAIL], MAX_RECLAIM_RETRIES + 1, AllocOutcome.fail(warned: true)),
      ([.GFP_KERNEL, .__GFP_NORETRY], 1, .fail(warned: true)),
      (.GFP_KERNEL, MAX_RECLAIM_RETRIES + 1, .oomKill),
    ] as [(GFP, Int, AllocOutcome)])
  func reclaimRetries(_ gfp: GFP, _ passes: Int, _ expected: AllocOutcome) throws {
    let m = Machine(MachineConfig(memoryPages: 256, swapPages: 64))
    let file = m.shmemFileSetup("held", size: 16 * PAGE_SIZE)
    let held = try (0..<16).map { try m.shmemReadFolio(file, $0) }  // each keeps a reference
    let chrome = try m.spawnTask("chrome", rssPages: m.mem.nrFreePages)
    #expect(try classify(m, gfp, order: 0, bystander: chrome) == expected)
    #expect(m.vmstat.allocstall == passes)
    #expect(m.vmstat.pswpout == 0, "held folios are never written out")
    for folio in held { m.folioPut(folio) }
    m.fput(file)
    #expect(m.audit().isClean, "\(m.audit())")
  }

  /// A task already in reclaim (`PF_MEMALLOC`) may use every reserve but never reclaims
  /// again, so with nothing free its allocation fails, without an OOM kill.
  @Test("an allocation from reclaim context never recurses into reclaim")
  func memallocNoRecursion() throws {
    let (m, chrome) = try machineInOOM()
    m.tasks[m.taskIndex(m.currentPID)!].inMemallocScope = true
    #expect(try classify(m, .GFP_KERNEL, order: 0, bystander: chrome) == .fail(warned: true))
    #expect(m.vmstat.allocstall == 0)
    #expect(m.audit().isClean, "\(m.audit())")
  }

  /// `out_of_memory()` reports progress without killing for `GFP_NOFS`, and a
  /// `__GFP_NOFAIL` caller then gets the reserves (`ALLOC_NO_WATERMARKS`).
  @Test("GFP_NOFS|__GFP_NOFAIL under OOM takes a reserve page instead of killing")
  func nofsNofailUsesReserves() throws {
    let m = Machine(MachineConfig(memoryPages: 256, watermarks: Watermarks(min: 64)))
    let chrome = try m.spawnTask("chrome", rssPages: 256 - 40)
    let page = try #require(try m.allocPages([.GFP_NOFS, .__GFP_NOFAIL], order: 0, owner: .other("r")))
    #expect(!m.task(chrome)!.isOOMVictim && m.vmstat.oomKill == 0)
    m.freePages(page, order: 0)
    #expect(m.audit().isClean)
  }

  /// shmem folios are reclaimed by writing them to swap, which needs `__GFP_FS`
  /// (`may_enter_fs()`) and a free swap slot.
  @Test(
    "success after shmem writeout to swap",
    arguments: [
      (GFP.GFP_KERNEL, 128, AllocOutcome.reclaimed),
      (.GFP_HIGHUSER_MOVABLE, 128, .reclaimed),
      (.GFP_NOFS, 128, .neverReturns),
      (.GFP_KERNEL, 0, .oomKill),
      ([.GFP_KERNEL, .__GFP_RETRY_MAYFAIL], 0, .fail(warned: true)),
    ] as [(GFP, Int, AllocOutcome)])
  func shmemReclaim(_ gfp: GFP, _ swapPages: Int, _ expected: AllocOutcome) throws {
    let m = Machine(MachineConfig(memoryPages: 256, swapPages: swapPages))
    let file = m.shmemFileSetup("cache", size: 64 * PAGE_SIZE)
    for i in 0..<64 {
      let folio = try m.shmemReadFolio(file, i)
      m.mem[folio].content = .pattern(seed: 1, object: 0, index: i)
      m.folioPut(folio)
    }
    let chrome = try m.spawnTask("chrome", rssPages: m.mem.nrFreePages)
    #expect(try classify(m, gfp, order: 0, bystander: chrome) == expected)
    #expect((m.vmstat.pswpout > 0) == (expected == .reclaimed))
    m.fput(file)
    #expect(m.audit().isClean, "\(m.audit())")
  }

  @Test("a higher order fails while order 0 succeeds in fragmented memory")
  func perOrderAvailability() throws {
    let m = Machine(MachineConfig(memoryPages: 1024))
    // Pin one page in every 8, at offset 4: the largest free block is then order 2.
    for pfn in stride(from: 4, to: 1024, by: 8) {
      let pinned = m.mem.takePageOffBuddy(Page(pfn: pfn), owner: .other("pinned"))
      #expect(pinned)
    }
    #expect(m.mem.largestFreeOrder == 2)
    #expect(try m.allocPages(.GFP_NOWAIT, order: 3, owner: .other("big")) == nil)
    let small = try #require(try m.allocPages(.GFP_NOWAIT, order: 0, owner: .other("small")))
    let four = try #require(try m.allocPages(.GFP_NOWAIT, order: 2, owner: .other("four")))
    m.freePages(small, order: 0)
    m.freePages(four, order: 2)
    for pfn in stride(from: 4, to: 1024, by: 8) { m.freePages(Page(pfn: pfn), order: 0) }
    // Freeing merges buddies all the way back to order-10 blocks.
    #expect(m.mem.nrFree[MAX_PAGE_ORDER] == 1)
    #expect(m.audit().isClean, "\(m.audit())")
  }

  @Test("the buddy allocator splits on allocation and merges on free")
  func buddySplitMerge() throws {
    var mem = PhysicalMemory(totalPages: 16)
    #expect(mem.nrFree[4] == 1)
    let first = mem.getPageFromFreelist(order: 0, flags: .noWatermarks, gfp: [], owner: .other("a"))
    let a = try #require(first)
    // expand() keeps the lower half: pfn 0, with buddies of order 0, 1, 2, 3 left free.
    #expect(a == Page(pfn: 0))
    #expect(mem.nrFree == [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    #expect(mem[a].refcount == 1)
    let second = mem.getPageFromFreelist(order: 2, flags: .noWatermarks, gfp: [], owner: .other("b"))
    let b = try #require(second)
    #expect(b == Page(pfn: 4))
    // A non-compound order-2 block: only the head is referenced.
    #expect((0..<4).map { mem[b + $0].refcount } == [1, 0, 0, 0])
    mem.freePages(a, order: 0)
    mem.freePages(b, order: 2)
    #expect(mem.nrFree[4] == 1 && mem.nrFreePages == 16)
    #expect(mem[a].content == .poison)
  }

  @Test("split_page() gives every tail page a reference and leaves the head's alone")
  func splitPage() throws {
    let m = Machine(MachineConfig(memoryPages: 64))
    let p = try #require(try m.allocPages(.GFP_KERNEL, order: 3, owner: .other("ttm")))
    m.getPage(p)  // someone else holds the head too
    m.splitPage(p, order: 3)
    #expect((0..<8).map { m.mem[p + $0].refcount } == [2, 1, 1, 1, 1, 1, 1, 1])
    m.freePages(p, order: 0)
    for i in 0..<8 { m.freePages(p + i, order: 0) }
    #expect(m.audit().isClean)
  }

  /// Reserves, with the min watermark at 64 and 30 pages free: `__GFP_HIGH` may go down to
  /// half of it (32, not enough), a caller that also cannot block to a further quarter (24,
  /// enough), `__GFP_MEMALLOC` and `PF_MEMALLOC` (reclaim context) to nothing, and
  /// `__GFP_NOMEMALLOC` forbids all of it.
  @Test(
    "watermarks and reserves",
    arguments: [
      (GFP.GFP_NOWAIT, false, false),
      (.GFP_ATOMIC, false, true),
      ([.GFP_KERNEL, .__GFP_HIGH, .__GFP_NORETRY, .__GFP_NOWARN], false, false),
      ([.GFP_NOWAIT, .__GFP_MEMALLOC], false, true),
      ([.GFP_NOWAIT, .__GFP_MEMALLOC, .__GFP_NOMEMALLOC], false, false),
      (.GFP_NOWAIT, true, true),
      ([.GFP_NOWAIT, .__GFP_NOMEMALLOC], true, false),
    ] as [(GFP, Bool, Bool)])
  func reserves(_ gfp: GFP, _ inReclaim: Bool, _ succeeds: Bool) throws {
    let m = Machine(MachineConfig(memoryPages: 256, watermarks: Watermarks(min: 64)))
    try m.spawnTask("chrome", rssPages: 256 - 30)
    m.tasks[m.taskIndex(m.currentPID)!].inMemallocScope = inReclaim
    let page = try m.allocPages(gfp, order: 0, owner: .other("request"))
    #expect((page != nil) == succeeds)
    #expect(m.vmstat.oomKill == 0)
    if let page { m.freePages(page, order: 0) }
    #expect(m.audit().isClean)
  }

  /// An OOM victim may use half the min reserve (`ALLOC_OOM`) when it retries; with
  /// `__GFP_NOMEMALLOC` it may not, and fails instead of looping.
  @Test(
    "an OOM victim's access to the reserves",
    arguments: [
      (GFP([.GFP_KERNEL, .__GFP_NORETRY, .__GFP_NOWARN]), false, false),
      ([.GFP_KERNEL, .__GFP_NORETRY, .__GFP_NOWARN], true, true),
      ([.GFP_KERNEL, .__GFP_NOMEMALLOC, .__GFP_NOWARN], true, false),
    ] as [(GFP, Bool, Bool)])
  func oomVictimReserves(_ gfp: GFP, _ victim: Bool, _ succeeds: Bool) throws {
    // min 64, 40 free: ALLOC_OOM's bar is 32.
    let m = Machine(MachineConfig(memoryPages: 256, watermarks: Watermarks(min: 64)))
    try m.spawnTask("chrome", rssPages: 256 - 40, oomScoreAdj: OOM_SCORE_ADJ_MIN)
    m.tasks[m.taskIndex(m.currentPID)!].isOOMVictim = victim
    let page = try m.allocPages(gfp, order: 0, owner: .other("request"))
    #expect((page != nil) == succeeds)
    #expect(m.vmstat.oomKill == 0)
    if let page { m.freePages(page, order: 0) }
    #expect(m.audit().isClean, "\(m.audit())")
  }

  /// `do_shrink_slab()`: `(freeable >> priority) * 4 / seeks` objects, at most twice the
  /// freeable count, in batches of 128, everything left once it is more than the freeable.
  @Test(
    "do_shrink_slab() scan arithmetic",
    arguments: [
      (10, 12, 0, 0),  // 10 >> 12 = 0: nothing to scan at the start of reclaim
      (10, 2, 0, 0),  // (10 >> 2) * 2 = 4 < 10 and < 128
      (10, 1, 1, 10),  // (10 >> 1) * 2 = 10 >= freeable: one scan of all 10
      (300, 0, 4, 300),  // 600 to scan: 128, 128, 128, 128, stop at 88 < 128
    ] as [(Int, Int, Int, Int)])
  func shrinkSlabArithmetic(_ freeable: Int, _ priority: Int, _ scans: Int, _ freed: Int) throws {
    let m = Machine(MachineConfig(memoryPages: 512))
    let cache = try PageCacheShrinker(machine: m, pages: freeable)
    #expect(try m.doShrinkSlab(cache, gfp: .GFP_KERNEL, priority: priority) == freed)
    #expect(cache.scans == scans)
    cache.release(m)
    #expect(m.audit().isClean, "\(m.audit())")
  }

  @Test("a shrinker that returns SHRINK_STOP ends the scan")
  func shrinkStop() throws {
    let m = Machine(MachineConfig(memoryPages: 512))
    // Counts its objects for any gfp, but stops when asked to scan without __GFP_FS.
    final class Stopper: Shrinker {
      let name = "stopper"
      var scans = 0
      func countObjects(_ sc: ShrinkControl, on machine: Machine) -> Int { 300 }
      func scanObjects(_ sc: inout ShrinkControl, on machine: Machine) -> ShrinkResult {
        scans += 1
        return .stop
      }
    }
    let s = Stopper()
    #expect(try m.doShrinkSlab(s, gfp: .GFP_NOFS, priority: 0) == 0)
    #expect(s.scans == 1)
    #expect(m.audit().isClean, "\(m.audit())")
  }
}
