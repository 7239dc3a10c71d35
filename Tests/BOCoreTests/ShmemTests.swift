import Testing

@testable import BOCore

/// Fills `pages` indices of a new shmem file with a pattern and drops the references.
func filledShmemFile(_ m: Machine, pages: Int, seed: UInt64 = 7, largeOrder: Int = 0) throws -> ShmemFileID {
  let file = m.shmemFileSetup("test", size: pages * PAGE_SIZE, largeFolioOrder: largeOrder)
  for i in 0..<pages {
    let folio = try m.shmemReadFolio(file, i)
    m.mem[m.folioFilePage(folio, i)].content = .pattern(seed: seed, object: file.id, index: i)
    m.folioPut(folio)
  }
  return file
}

/// Locks the folio at `index` and calls `shmem_writeout()` on it, unlocking it afterwards
/// only when writeout returned it locked (`AOP_WRITEPAGE_ACTIVATE`), as callers must.
func writeOut(_ m: Machine, _ file: ShmemFileID, _ index: Int) throws -> WriteoutResult {
  guard case .folio(let folio)? = m.shmemEntry(file, index) else { throw Errno.EINVAL }
  m.folioLock(folio)
  let result = m.shmemWriteout(folio)
  if result == .activate { m.folioUnlock(folio) }
  return result
}

/// Writes every in-memory index of `file` out to swap, as `shmem_writeout()` under reclaim.
func writeOutAll(_ m: Machine, _ file: ShmemFileID) -> [WriteoutResult] {
  (0..<m.shmemPageCount(file)).compactMap { try? writeOut(m, file, $0) }
}

/// Reads every index back and compares it with the pattern.
func contentIntact(_ m: Machine, _ file: ShmemFileID, seed: UInt64 = 7) throws -> Bool {
  var ok = true
  for i in 0..<m.shmemPageCount(file) {
    let folio = try m.shmemReadFolio(file, i)
    ok = ok && m.mem[m.folioFilePage(folio, i)].content == .pattern(seed: seed, object: file.id, index: i)
    m.folioPut(folio)
  }
  return ok
}

@Suite("shmem and swap", .tags(.shmem))
struct ShmemTests {
  @Test("content survives writeout to swap and swap-in")
  func roundTrip() throws {
    let m = Machine(MachineConfig(memoryPages: 128, swapPages: 64))
    let file = try filledShmemFile(m, pages: 32)
    #expect(m.vmstat.nrShmem == 32)
    #expect(writeOutAll(m, file) == Array(repeating: .written, count: 32))
    #expect(m.vmstat.nrShmem == 0 && m.vmstat.nrShmemSwapped == 32 && m.swap.slotsInUse == 32)
    #expect(m.mem.nrFreePages == 128, "written-out folios are freed")
    #expect(try contentIntact(m, file))
    // Swap-in frees the slot and puts the folio back in the page cache.
    #expect(m.vmstat.pswpin == 32 && m.swap.slotsInUse == 0 && m.vmstat.nrShmem == 32)
    m.fput(file)
    #expect(m.audit().isClean, "\(m.audit())")
  }

  @Test("content survives reclaim driven by allocation pressure")
  func reclaimRoundTrip() throws {
    let m = Machine(MachineConfig(memoryPages: 128, swapPages: 64))
    let file = try filledShmemFile(m, pages: 32)
    let hog = try m.spawnTask("hog", rssPages: m.mem.nrFreePages)
    // Each request reclaims shmem folios to swap.
    var got: [Page] = []
    for _ in 0..<16 {
      got.append(try #require(try m.allocPages(.GFP_KERNEL, order: 0, owner: .other("pressure"))))
    }
    #expect(m.vmstat.pswpout >= 16 && m.vmstat.oomKill == 0)
    for p in got { m.freePages(p, order: 0) }
    m.exitTask(hog)
    #expect(try contentIntact(m, file))
    m.fput(file)
    #expect(m.audit().isClean, "\(m.audit())")
  }

  /// The swap-in allocation uses the caller's gfp: with the mapping's default it OOM-kills a
  /// bystander; with `__GFP_RETRY_MAYFAIL | __GFP_NOWARN` it fails with -ENOMEM and the
  /// swapped page stays safe in swap.
  @Test(
    "swap-in under OOM fails or kills according to the gfp it is given",
    arguments: [
      (GFP.GFP_HIGHUSER_MOVABLE, true),
      ([.GFP_HIGHUSER_MOVABLE, .__GFP_RETRY_MAYFAIL, .__GFP_NOWARN], false),
    ] as [(GFP, Bool)])
  func swapInUnderOOM(_ gfp: GFP, _ kills: Bool) throws {
    let m = Machine(MachineConfig(memoryPages: 128, swapPages: 64))
    let file = try filledShmemFile(m, pages: 8)
    _ = writeOutAll(m, file)
    let chrome = try m.spawnTask("chrome", rssPages: m.mem.nrFreePages)
    if kills {
      let folio = try m.shmemReadFolioGFP(file, 3, gfp)
      #expect(m.mem[folio].content == .pattern(seed: 7, object: file.id, index: 3))
      #expect(m.task(chrome)!.isOOMVictim)
      m.folioPut(folio)
    } else {
      #expect(throws: Errno.ENOMEM) { _ = try m.shmemReadFolioGFP(file, 3, gfp) }
      #expect(!m.task(chrome)!.isOOMVictim && m.vmstat.oomKill == 0)
      #expect(m.dmesg.lines.isEmpty, "__GFP_NOWARN: nothing logged")
      // Nothing was lost: the index is still in swap and reads back once memory is there.
      guard case .swapped? = m.shmemEntry(file, 3) else {
        Issue.record("index 3 should still be swapped")
        return
      }
      m.exitTask(chrome)
    }
    #expect(try contentIntact(m, file))
    m.fput(file)
    #expect(m.audit().isClean, "\(m.audit())")
  }

  @Test("swap exhaustion: writeout redirties, and reclaim cannot help")
  func swapExhaustion() throws {
    let m = Machine(MachineConfig(memoryPages: 128, swapPages: 8))
    let file = try filledShmemFile(m, pages: 16)
    let results = writeOutAll(m, file)
    #expect(results.filter { $0 == .written }.count == 8)
    #expect(results.filter { $0 == .activate }.count == 8, "AOP_WRITEPAGE_ACTIVATE without a slot")
    #expect(m.swap.nrSwapPages == 0 && m.vmstat.nrShmem == 8)
    // Nothing is reclaimable any more: a RETRY_MAYFAIL request fails, a plain one kills.
    let chrome = try m.spawnTask("chrome", rssPages: m.mem.nrFreePages)
    #expect(try m.allocPages([.GFP_KERNEL, .__GFP_RETRY_MAYFAIL], order: 0, owner: .other("r")) == nil)
    let page = try #require(try m.allocPages(.GFP_KERNEL, order: 0, owner: .other("r")))
    #expect(m.task(chrome)!.isOOMVictim)
    m.freePages(page, order: 0)
    #expect(try contentIntact(m, file))
    m.fput(file)
    #expect(m.audit().isClean, "\(m.audit())")
  }

  @Test("large folios: folio_file_page() selects the page of the index")
  func largeFolios() throws {
    let m = Machine(MachineConfig(memoryPages: 256, swapPages: 64))
    let file = try filledShmemFile(m, pages: 8, largeOrder: 2)
    // Two order-2 folios cover the file.
    let folio = try m.shmemReadFolio(file, 5)
    #expect(m.folioNrPages(folio) == 4)
    #expect(m.shmemEntry(file, 4) == .folio(folio) && m.shmemEntry(file, 7) == .folio(folio))
    #expect(m.folioFilePage(folio, 5) == folio + 1)
    #expect(m.mem[folio + 1].content == .pattern(seed: 7, object: file.id, index: 5))
    m.folioPut(folio)
    // Writeout splits the large folio and writes its first page only.
    #expect(try writeOut(m, file, 4) == .written)
    guard case .swapped? = m.shmemEntry(file, 4) else {
      Issue.record("index 4 should be in swap")
      return
    }
    #expect(m.shmemEntry(file, 5) == .folio(folio + 1))
    #expect((1..<4).map { m.mem[folio + $0].refcount } == [1, 1, 1], "each split page has the page cache's reference")
    #expect(m.vmstat.nrShmem == 7 && m.vmstat.nrShmemSwapped == 1)
    // Truncating part of the other folio splits it.
    m.shmemTruncateRange(file, start: 0, end: 1 * PAGE_SIZE - 1)
    #expect(m.shmemEntry(file, 0) == nil && m.shmemEntry(file, 1) != nil)
    m.fput(file)
    #expect(m.audit().isClean, "\(m.audit())")
  }

  /// `truncate_inode_partial_folio()` falls back to zeroing when the folio cannot be split
  /// because someone else holds it.
  @Test("truncating part of a large folio someone holds zeroes the range instead of splitting")
  func truncateHeldLargeFolio() throws {
    let m = Machine(MachineConfig(memoryPages: 64))
    let file = try filledShmemFile(m, pages: 4, largeOrder: 2)
    let held = try m.shmemReadFolio(file, 0)
    m.shmemTruncateRange(file, start: 2 * PAGE_SIZE, end: -1)
    #expect(m.folioNrPages(held) == 4, "not split")
    #expect(m.shmemEntry(file, 3) == .folio(held))
    #expect(m.mem[held + 1].content == .pattern(seed: 7, object: file.id, index: 1))
    #expect(m.mem[held + 2].content == .zero && m.mem[held + 3].content == .zero)
    m.folioPut(held)
    m.fput(file)
    #expect(m.audit().isClean, "\(m.audit())")
  }

  @Test("truncating a folio someone holds detaches it; the holder's put frees it")
  func truncateWhileHeld() throws {
    let m = Machine(MachineConfig(memoryPages: 64, swapPages: 8))
    let file = try filledShmemFile(m, pages: 4)
    let held = try m.shmemReadFolio(file, 2)
    m.fput(file)
    #expect(m.mem[held].owner == .other("shmem folio truncated from file \(file.id)"))
    #expect(m.vmstat.nrShmem == 0)
    #expect(!m.audit().isClean, "still held")
    m.folioPut(held)
    #expect(m.audit().isClean, "\(m.audit())")
  }

  @Test("truncating a range of swapped and resident pages frees both")
  func truncateMixed() throws {
    let m = Machine(MachineConfig(memoryPages: 64, swapPages: 8))
    let file = try filledShmemFile(m, pages: 8)
    for i in 0..<4 { #expect(try writeOut(m, file, i) == .written) }
    m.shmemTruncateRange(file, start: 2 * PAGE_SIZE, end: 6 * PAGE_SIZE - 1)
    #expect(m.vmstat.nrShmemSwapped == 2 && m.swap.slotsInUse == 2)
    #expect(m.vmstat.nrShmem == 2)
    #expect((2..<6).allSatisfy { m.shmemEntry(file, $0) == nil })
    m.fput(file)
    #expect(m.audit().isClean, "\(m.audit())")
  }

  /// A hard swap-write error unlocks the folio (the caller must not unlock it again) and, in
  /// the model, leaves it in the page cache.
  @Test("a swap write error returns -EIO with the folio unlocked and the data safe", .tags(.faultInjection))
  func swapWriteError() throws {
    let m = Machine(MachineConfig(memoryPages: 64, swapPages: 8))
    let file = try filledShmemFile(m, pages: 2)
    m.faults.arm(.swapWriteout, .nth(1))
    guard case .folio(let folio)? = m.shmemEntry(file, 0) else { throw Errno.EINVAL }
    #expect(try writeOut(m, file, 0) == .error(.EIO))
    #expect(!m.mem[folio].locked && m.shmemEntry(file, 0) == .folio(folio))
    #expect(m.swap.slotsInUse == 0)
    #expect(try contentIntact(m, file))
    m.fput(file)
    #expect(m.audit().isClean, "\(m.audit())")
  }

  /// shmem_get_folio_gfp() repeats its lookup if the entry changed while it allocated; here a
  /// shrinker called from that allocation swaps the same page in first (and reclaim may write
  /// it out again to a new slot before the outer swap-in looks again).
  @Test("a swap-in whose entry changes during its allocation looks again")
  func swapInRaceRepeatsLookup() throws {
    let m = Machine(MachineConfig(memoryPages: 128, swapPages: 8))
    let file = try filledShmemFile(m, pages: 1)
    _ = writeOutAll(m, file)
    let cache = try PageCacheShrinker(machine: m, pages: 8)
    m.registerShrinker(cache)
    var raced = false
    cache.onScan = {
      guard !raced, let folio = try? m.shmemReadFolio(file, 0) else { return }
      raced = true
      m.folioPut(folio)
    }
    try m.spawnTask("chrome", rssPages: m.mem.nrFreePages)
    let folio = try m.shmemReadFolio(file, 0)
    #expect(raced && m.vmstat.pswpin >= 1)
    #expect(m.mem[folio].content == .pattern(seed: 7, object: file.id, index: 0))
    m.folioPut(folio)
    m.fput(file)
    cache.release(m)
    m.unregisterShrinker(cache)
    #expect(m.audit().isClean, "\(m.audit())")
  }

  @Test("reading at or beyond i_size is -EINVAL")
  func beyondEOF() throws {
    let m = Machine(MachineConfig(memoryPages: 16))
    let file = m.shmemFileSetup("t", size: 2 * PAGE_SIZE)
    #expect(throws: Errno.EINVAL) { _ = try m.shmemReadFolio(file, 2) }
    m.fput(file)
    #expect(m.audit().isClean)
  }

  @Test("an unreleased shmem file and its swap are reported at teardown", .tags(.audit))
  func auditReportsLeak() throws {
    let m = Machine(MachineConfig(memoryPages: 64, swapPages: 8))
    let file = try filledShmemFile(m, pages: 4)
    #expect(try writeOut(m, file, 0) == .written)
    let audit = m.audit()
    #expect(!audit.isClean)
    #expect(audit.leakedPages == ["shmem file \(file.id)": 3])
    #expect(audit.swapSlotsInUse == 1 && audit.openShmemFiles == ["test#\(file.id)"])
    #expect(audit.nonZeroCounters == ["nr_shmem": 3, "nr_shmem_swapped": 1])
    m.fput(file)
    #expect(m.audit().isClean)
  }

  /// `shmem_insert_folio()` refuses an index already in use, or a range reaching one or
  /// the end of the file, with -EEXIST and changes nothing: the page cache keeps what it had,
  /// and the caller still owns the folio it offered (the model's assumption, UNVERIFIED).
  @Test(
    "shmem_insert_folio(): an index in use or past the end is -EEXIST",
    arguments: [(0, 1), (1, 2), (0, 4), (0, 3)] as [(Int, Int)])
  func insertFolioOccupied(_ order: Int, _ index: Int) throws {
    let m = Machine(MachineConfig(memoryPages: 64))
    let file = m.shmemFileSetup("backup", size: 4 * PAGE_SIZE, largeFolioOrder: 1)
    // Index 1 holds a folio already (index 3 where the offered range is 2 ..< 4 or 3).
    let held = index == 3 || order == 1 ? 3 : 1
    let first = try #require(try m.allocPages(.GFP_KERNEL, order: 0, owner: .other("first")))
    m.writePage(first, .pattern(seed: 5, object: file.id, index: held))
    #expect(m.shmemInsertFolio(file, first, order: 0, held, writeback: false, folioGFP: .GFP_KERNEL) == 0)
    m.folioPut(first)

    let offered = try #require(try m.allocPages(.GFP_KERNEL, order: order, owner: .other("offered")))
    #expect(
      m.shmemInsertFolio(file, offered, order: order, index, writeback: false, folioGFP: .GFP_KERNEL)
        == Errno.EEXIST.negated)
    #expect(m.shmemEntry(file, held) == .folio(first))
    #expect((0..<4).filter { m.shmemEntry(file, $0) != nil } == [held])
    #expect(m.mem[offered].refcount == 1)
    m.freePages(offered, order: order)

    let folio = try m.shmemReadFolio(file, held)
    #expect(m.mem[folio].content == .pattern(seed: 5, object: file.id, index: held))
    m.folioPut(folio)
    m.fput(file)
    #expect(m.audit().isClean, "\(m.audit())")
  }
}
