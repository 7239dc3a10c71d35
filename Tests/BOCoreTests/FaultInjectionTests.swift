import Testing

@testable import BOCore

@Suite("Fault injection", .tags(.faultInjection))
struct FaultInjectionTests {
  @Test("fail-nth fails exactly the n-th call", arguments: 1...4)
  func failNth(_ n: Int) {
    var f = FaultInjection()
    f.arm(.shmemRead, .nth(n))
    let results = (1...5).map { _ in f.shouldFail(.shmemRead) }
    #expect(results == (1...5).map { $0 == n })
    #expect(f.calls(.shmemRead) == 5 && f.injected(.shmemRead) == 1)
  }

  @Test("space lets calls through while more than their size is left, then times bounds the failures")
  func spaceTimes() {
    var f = FaultInjection()
    f.arm(.shmemRead, .after(space: 3, times: 2))
    #expect((1...6).map { _ in f.shouldFail(.shmemRead) } == [false, false, true, true, false, false])
  }

  @Test("fail-nth ignores times, as should_fail_ex() jumps straight to fail")
  func failNthIgnoresTimes() {
    var f = FaultInjection()
    f.arm(.shmemRead, FaultAttr(failNth: 2, times: 0))
    #expect((1...3).map { _ in f.shouldFail(.shmemRead) } == [false, true, false])
  }

  /// fail_page_alloc passes `1 << order` as the size.
  @Test("fail_page_alloc's space counts pages, not calls")
  func spaceCountsPages() throws {
    let m = Machine(MachineConfig(memoryPages: 64))
    m.failPageAllocFilter = .none
    m.faults.arm(.failPageAlloc, .after(space: 8))
    let first = try #require(try m.allocPages(.GFP_KERNEL, order: 2, owner: .other("a")))
    #expect(try m.allocPages(.GFP_KERNEL, order: 2, owner: .other("b")) == nil, "4 left is not more than 4")
    m.freePages(first, order: 2)
    #expect(m.audit().isClean)
  }

  @Test("without CONFIG_FAULT_INJECTION nothing fails, but calls are still counted")
  func notConfigured() {
    var f = FaultInjection(configured: false)
    f.arm(.shmemRead, .nth(1))
    #expect(!f.shouldFail(.shmemRead) && f.calls(.shmemRead) == 1)
  }

  /// The kernel's default `fail_page_alloc` filters exempt order-0, reclaiming and highmem
  /// allocations, and do not count them as calls; `__GFP_NOFAIL` is always exempt.
  @Test(
    "fail_page_alloc filters",
    arguments: [
      (GFP.GFP_KERNEL, 0, FailPageAllocFilter.kernelDefault, false),
      (.GFP_NOWAIT, 1, .kernelDefault, true),
      (.GFP_NOWAIT, 0, .kernelDefault, false),
      (.GFP_HIGHUSER_MOVABLE, 0, .none, true),
      (.GFP_KERNEL, 2, .none, true),
      ([.GFP_KERNEL, .__GFP_NOFAIL], 0, .none, false),
    ] as [(GFP, Int, FailPageAllocFilter, Bool)])
  func failPageAlloc(_ gfp: GFP, _ order: Int, _ filter: FailPageAllocFilter, _ fails: Bool) throws {
    let m = Machine(MachineConfig(memoryPages: 64))
    m.failPageAllocFilter = filter
    m.faults.arm(.failPageAlloc, .nth(1))
    let page = try m.allocPages(gfp, order: order, owner: .other("request"))
    #expect((page == nil) == fails)
    #expect(m.faults.calls(.failPageAlloc) == (fails ? 1 : 0), "filtered allocations are not calls")
    #expect(!m.dmesg.grep("FAULT_INJECTION: forcing a failure.").isEmpty == (fails && !gfp.contains(.__GFP_NOWARN)))
    if let page { m.freePages(page, order: order) }
    #expect(m.audit().isClean)
  }

  @Test("a shmem read failure injected before allocation leaves nothing behind")
  func shmemReadFailure() throws {
    let m = Machine(MachineConfig(memoryPages: 64))
    let file = m.shmemFileSetup("t", size: 4 * PAGE_SIZE)
    m.faults.arm(.shmemRead, .nth(2))
    let first = try m.shmemReadFolio(file, 0)
    #expect(throws: Errno.ENOMEM) { _ = try m.shmemReadFolio(file, 1) }
    #expect(m.shmemEntry(file, 1) == nil)
    m.folioPut(first)
    m.fput(file)
    #expect(m.audit().isClean)
  }
}
