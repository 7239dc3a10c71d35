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

  /// With a shrinker holding 64 pages, every reclaiming request is satisfied without a kill;
  /// a shrinker that needs `__GFP_FS` gives a `GFP_NOFS` request nothing, which then retries
  /// forever, as in the kernel.
  @Test(
    "success after shrinker reclaim",
    arguments: [
      (GFP.GFP_KERNEL, GFP([]), AllocOutcome.reclaimed),
      ([.GFP_KERNEL, .__GFP_NORETRY], [], .reclaimed),
      ([.GFP_KERNEL, .__GFP_RETRY_MAYFAIL, .__GFP_NOWARN], [], .reclaimed),
      (.GFP_NOFS, [], .reclaimed),
      (.GFP_NOFS, .__GFP_FS, .neverReturns),
      (.GFP_KERNEL, .__GFP_FS, .reclaimed),
      (.GFP_ATOMIC, [], .fail(warned: true)),
    ] as [(GFP, GFP, AllocOutcome)])
  func shrinkerReclaim(_ gfp: GFP, _ shrinkerNeeds: GFP, _ expected: AllocOutcome) throws {
    let m = Machine(MachineConfig(memoryPages: 256))
    let cache = try PageCacheShrinker(machine: m, pages: 64, requires: shrinkerNeeds)
    m.registerShrinker(cache)
    let chrome = try m.spawnTask("chrome", rssPages: m.mem.nrFreePages)
    #expect(try classify(m, gfp, order: 0, bystander: chrome) == expected)
    if expected == .reclaimed {
      #expect(cache.pages.count < 64)
      #expect(m.vmstat.allocstall > 0)
    }
    cache.release(m)
    #expect(m.audit().isClean, "\(m.audit())")
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

  @Test("split_page() gives every sub-page its own reference")
  func splitPage() throws {
    let m = Machine(MachineConfig(memoryPages: 64))
    let p = try #require(try m.allocPages(.GFP_KERNEL, order: 3, owner: .other("ttm")))
    m.mem.splitPage(p, order: 3)
    for i in 0..<8 {
      #expect(m.mem[p + i].refcount == 1)
      m.freePages(p + i, order: 0)
    }
    #expect(m.audit().isClean)
  }

  /// Reserves: `__GFP_HIGH` may use half the min watermark, `PF_MEMALLOC` (reclaim
  /// context) all of it, and `__GFP_NOMEMALLOC` none.
  @Test(
    "watermarks and reserves",
    arguments: [
      (GFP.GFP_NOWAIT, false, false),
      (.GFP_ATOMIC, false, true),
      ([.GFP_NOWAIT, .__GFP_MEMALLOC], false, true),
      ([.GFP_NOWAIT, .__GFP_MEMALLOC, .__GFP_NOMEMALLOC], false, false),
      (.GFP_NOWAIT, true, true),
      ([.GFP_NOWAIT, .__GFP_NOMEMALLOC], true, false),
    ] as [(GFP, Bool, Bool)])
  func reserves(_ gfp: GFP, _ inReclaim: Bool, _ succeeds: Bool) throws {
    // min = 64: with 40 pages free, only reserve users get one.
    let m = Machine(MachineConfig(memoryPages: 256, watermarks: Watermarks(min: 64)))
    try m.spawnTask("chrome", rssPages: 256 - 40)
    let i = m.taskIndex(m.currentPID)!
    m.tasks[i].inMemallocScope = inReclaim
    let page = try m.allocPages(gfp, order: 0, owner: .other("request"))
    #expect((page != nil) == succeeds)
    if let page { m.freePages(page, order: 0) }
  }
}
