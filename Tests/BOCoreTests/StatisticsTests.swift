import Testing

@testable import BOCore

/// ``ModelStatistics``: each counter moves where the modelled kernel code does the thing
/// counted, and `since()` gives the events between two snapshots while gauges keep the later
/// value.
@Suite("Statistics", .tags(.mm))
struct StatisticsTests {
  @Test("Allocations per order, failures, copies, splits")
  func allocationsAndCopies() throws {
    let m = Machine(MachineConfig(memoryPages: 64))
    let start = m.statistics
    let a = try #require(try m.allocPages(.GFP_KERNEL, order: 2, owner: .other("test")))
    let b = try #require(try m.allocPages(.GFP_KERNEL, order: 0, owner: .other("test")))
    #expect(try m.allocPages([.__GFP_NOWARN], order: 11, owner: .other("test")) == nil)
    m.copyHighpage(to: b, from: a)
    m.splitPage(a, order: 2)
    let s = m.statistics.since(start)
    #expect(s.allocationsPerOrder[2] == 1 && s.allocationsPerOrder[0] == 1)
    #expect(s.pagesAllocated == 5)
    #expect(s.allocationFailures == 1)
    #expect(s.pagesCopied == 1 && s.bytesCopied == PAGE_SIZE)
    #expect(s.splits == 1)
    for i in 0..<4 { m.freePages(a + i, order: 0) }
    m.freePages(b, order: 0)
    // Events do not go back down when the pages are freed.
    #expect(m.statistics.since(start).pagesAllocated == 5)
  }

  @Test("OOM victims are listed in order; since() keeps only the later ones")
  func oomVictims() throws {
    let m = Machine(MachineConfig(memoryPages: 64))
    _ = try m.spawnTask("first", rssPages: 20)
    _ = try m.spawnTask("second", rssPages: m.mem.nrFreePages)
    let start = m.statistics
    _ = try m.allocPages(.GFP_KERNEL, order: 0, owner: .other("test"))
    let s = m.statistics.since(start)
    #expect(s.oomKills == 1)
    #expect(s.oomVictims == ["second"])
    #expect(s.reclaimPasses >= 1)
    #expect(s.fields.contains { $0.name == "oomVictims" && $0.value == "[second]" })
  }

  @Test("Page-cache pages and swap entries are gauges")
  func gauges() throws {
    let m = Machine(MachineConfig(memoryPages: 64, swapPages: 8))
    let file = m.shmemFileSetup("test", size: 2 * PAGE_SIZE)
    let folio = try m.shmemReadFolioGFP(file, 0, m.mappingGFPMask(file))
    m.folioPut(folio)
    let start = m.statistics
    #expect(start.pageCachePages == 1)
    m.folioLock(folio)
    #expect(m.shmemWriteout(folio) == .written)
    let s = m.statistics.since(start)
    #expect(s.pageCachePages == 0 && s.swapEntriesInUse == 1)
    #expect(s.swapEntriesAllocated == 1 && s.swapEntriesWritten == 1)
    m.fput(file)
    #expect(m.statistics.swapEntriesInUse == 0)
    #expect(m.audit().isClean)
  }
}
