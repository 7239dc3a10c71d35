/// A shmem file (`struct file` from `shmem_file_setup()`), by id.
public struct ShmemFileID: Hashable, Codable, Sendable, CustomStringConvertible {
  /// The machine-wide id.
  public let id: Int
  public var description: String { "shmem#\(id)" }
}

/// What a shmem page-cache index holds.
public enum ShmemEntry: Hashable, Sendable {
  /// A folio in memory, by its head page; a large folio covers `1 << order` indices.
  case folio(Page)
  /// A swap entry (`swp_to_radix_entry()`): the page was written out.
  case swapped(SwapSlot)
}

/// The result of `shmem_writeout()` (`shmem_writepage()` before 6.15).
public enum WriteoutResult: Hashable, Sendable {
  /// Written to swap; the folio left the page cache and is unlocked (return 0).
  case written
  /// `AOP_WRITEPAGE_ACTIVATE`: no swap slot; the folio was redirtied and is still locked.
  case activate
  /// A hard error from the swap write; the folio is unlocked.
  case error(Errno)
}

/// One shmem inode's page cache (`mapping->i_pages`) and attributes.
struct ShmemFile {
  let name: String
  /// `i_size` in bytes.
  let size: Int
  /// `mapping_gfp_mask()`.
  var gfpMask: GFP
  /// The largest folio order shmem may allocate for this file (the `huge=` policy and mTHP
  /// settings reduced to one number); 0 means small folios only.
  var largeFolioOrder: Int
  /// Index to entry; `nil` is a hole.
  var entries: [ShmemEntry?]
}

/// A folio on the reclaim LRU.
struct ShmemLRUEntry {
  let file: Int
  let index: Int
  let folio: Page
}

extension Machine {
  // MARK: Files

  /// `shmem_file_setup(name, size, flags)`: a new, empty shmem file of `size` bytes. Its
  /// mapping gfp is `GFP_HIGHUSER_MOVABLE`, which `inode_init_always()` gives every inode;
  /// shmem adds no override for files created this way (`kernel-facts.md` §6.3: likely).
  public func shmemFileSetup(_ name: String, size: Int, largeFolioOrder: Int = 0) -> ShmemFileID {
    precondition(size >= 0 && (0...MAX_PAGE_ORDER).contains(largeFolioOrder))
    let pages = (size + PAGE_SIZE - 1) / PAGE_SIZE
    shmemFiles.append(
      ShmemFile(
        name: name, size: size, gfpMask: .GFP_HIGHUSER_MOVABLE, largeFolioOrder: largeFolioOrder,
        entries: Array(repeating: nil, count: pages)))
    return ShmemFileID(id: shmemFiles.count - 1)
  }

  /// `fput()` of the last reference: the inode is evicted and everything it holds, in memory
  /// and in swap, is freed (`shmem_evict_inode()` truncating to 0).
  public func fput(_ file: ShmemFileID) {
    shmemTruncateRange(file, start: 0, end: -1)
    shmemFiles[file.id] = nil
  }

  /// Whether `file` is still open.
  public func shmemFileExists(_ file: ShmemFileID) -> Bool {
    file.id < shmemFiles.count && shmemFiles[file.id] != nil
  }

  /// `mapping_gfp_mask(file->f_mapping)`.
  public func mappingGFPMask(_ file: ShmemFileID) -> GFP { shmemFile(file).gfpMask }

  /// `mapping_set_gfp_mask()`.
  public func mappingSetGFPMask(_ file: ShmemFileID, _ gfp: GFP) {
    shmemFiles[file.id]!.gfpMask = gfp
  }

  /// What page-cache index `index` of `file` holds, or `nil` for a hole.
  public func shmemEntry(_ file: ShmemFileID, _ index: Int) -> ShmemEntry? {
    shmemFile(file).entries[index]
  }

  /// The number of indices of `file` (its size in pages).
  public func shmemPageCount(_ file: ShmemFileID) -> Int { shmemFile(file).entries.count }

  private func shmemFile(_ file: ShmemFileID) -> ShmemFile {
    guard file.id < shmemFiles.count, let f = shmemFiles[file.id] else {
      preconditionFailure("use of released \(file)")
    }
    return f
  }

  // MARK: Folios

  /// `folio_nr_pages()`: `1 << folio_order()`. A non-compound higher-order page is a folio of
  /// one page, as in the kernel (TTM's pages are not compound).
  public func folioNrPages(_ folio: Page) -> Int { 1 << Int(mem[folio].compoundOrder) }

  /// `folio_file_page(folio, index)`: the page of `folio` that holds file index `index`,
  /// `folio_page(folio, index & (folio_nr_pages(folio) - 1))`.
  public func folioFilePage(_ folio: Page, _ index: Int) -> Page {
    folio + (index & (folioNrPages(folio) - 1))
  }

  /// `folio_lock()`. The model is single-threaded, so a locked folio cannot be waited for.
  public func folioLock(_ folio: Page) {
    precondition(!mem[folio].locked, "folio_lock() of a locked folio \(folio) would deadlock")
    mem[folio].locked = true
  }

  /// `folio_unlock()`. Unlocking a folio that is not locked is what `VM_BUG_ON_FOLIO()`
  /// catches with `CONFIG_DEBUG_VM`; without it the kernel clears the bit anyway. The model
  /// records it in ``folioLockViolations`` and the log, and carries on.
  public func folioUnlock(_ folio: Page) {
    if !mem[folio].locked {
      folioLockViolations.append(folio)
      dmesg.modelNote("folio_unlock() of unlocked folio \(folio) (VM_BUG_ON_FOLIO with CONFIG_DEBUG_VM)")
    }
    mem[folio].locked = false
  }

  // MARK: Reading

  /// `shmem_read_folio(mapping, index)`: `shmem_read_folio_gfp()` with the mapping's gfp.
  public func shmemReadFolio(_ file: ShmemFileID, _ index: Int) throws -> Page {
    try shmemReadFolioGFP(file, index, mappingGFPMask(file))
  }

  /// `shmem_read_folio_gfp(mapping, index, gfp)`: the folio at `index`, unlocked, with a
  /// reference the caller must drop with ``folioPut(_:)``.
  ///
  /// - A folio in the page cache is returned as it is (possibly large: use
  ///   ``folioFilePage(_:_:)`` for the page of `index`).
  /// - A swap entry is read back (`shmem_swapin_folio()`): a new folio is allocated **with the
  ///   caller's `gfp`**, so the allocation may reclaim, fail or OOM-kill according to it; the
  ///   swap slot is freed after the read and the folio is back in the page cache, dirty.
  /// - A hole is filled with a zeroed folio, large if the file allows it and the aligned range
  ///   is empty and inside `i_size` (allocated as `GFP_TRANSHUGE_LIGHT` limited by `gfp`: no
  ///   direct reclaim, falling back to order 0 with `gfp`).
  ///
  /// - Throws: `-EINVAL` at or beyond `i_size`; `-ENOMEM` when the allocation fails or the
  ///   model-only ``FaultPoint/shmemRead`` fires; ``KernelHalt`` from the allocator.
  public func shmemReadFolioGFP(_ file: ShmemFileID, _ index: Int, _ gfp: GFP) throws -> Page {
    if faults.shouldFail(.shmemRead) { throw Errno.ENOMEM }
    let f = shmemFile(file)
    guard index >= 0, index < f.entries.count else { throw Errno.EINVAL }
    switch f.entries[index] {
    case .folio(let folio):
      getPage(folio)
      return folio
    case .swapped(let slot):
      guard let page = try allocPages(gfp, order: 0, owner: .shmem(file: file.id, index: index))
      else { throw Errno.ENOMEM }
      // The slot may have been freed by reclaim re-entering for this very file; re-check.
      guard case .swapped(slot) = shmemFiles[file.id]!.entries[index] else {
        preconditionFailure("shmem entry changed under swap-in")
      }
      mem[page].content = swap.read(slot)
      swap.release(slot)
      shmemFiles[file.id]!.entries[index] = .folio(page)
      vmstat.nrShmemSwapped -= 1
      vmstat.nrShmem += 1
      vmstat.pswpin += 1
      shmemLRU.append(ShmemLRUEntry(file: file.id, index: index, folio: page))
      getPage(page)
      return page
    case nil:
      let folio = try shmemAllocFolio(file, index, gfp)
      getPage(folio)
      return folio
    }
  }

  /// `shmem_alloc_and_add_folio()` for a hole: try the file's large order when the aligned
  /// range fits and is empty, else order 0. The new folio is zeroed and in the page cache.
  private func shmemAllocFolio(_ file: ShmemFileID, _ index: Int, _ gfp: GFP) throws -> Page {
    let f = shmemFile(file)
    var order = f.largeFolioOrder
    var base = index
    while order > 0 {
      base = index & ~((1 << order) - 1)
      if base + (1 << order) <= f.entries.count,
        f.entries[base..<(base + (1 << order))].allSatisfy({ $0 == nil })
      {
        break
      }
      order -= 1
    }
    var folio: Page?
    if order > 0 {
      // limit_gfp_mask(GFP_TRANSHUGE_LIGHT, gfp): no direct reclaim for the large attempt.
      var hugeGFP = gfp.union([.__GFP_COMP, .__GFP_NOMEMALLOC, .__GFP_NOWARN])
      hugeGFP.remove(.__GFP_DIRECT_RECLAIM)
      folio = try allocPages(hugeGFP, order: order, owner: .shmem(file: file.id, index: base))
    }
    if folio == nil {
      order = 0
      base = index
      folio = try allocPages(gfp.union(.__GFP_COMP), order: 0, owner: .shmem(file: file.id, index: index))
    }
    guard let folio else { throw Errno.ENOMEM }
    // The allocation may have reclaimed; the range must still be empty.
    precondition(shmemFiles[file.id]!.entries[base..<(base + (1 << order))].allSatisfy { $0 == nil })
    for i in 0..<(1 << order) {
      mem[folio + i].content = .zero
      shmemFiles[file.id]!.entries[base + i] = .folio(folio)
    }
    vmstat.nrShmem += 1 << order
    shmemLRU.append(ShmemLRUEntry(file: file.id, index: base, folio: folio))
    return folio
  }

  // MARK: Writeout

  /// `shmem_writeout()` (`shmem_writepage()` before 6.15) of a locked shmem folio.
  ///
  /// A large folio is split first and only its first page is written, the rest stay in the
  /// page cache (as 6.6's `shmem_writepage()` does always; newer kernels may swap a large folio
  /// whole with `CONFIG_THP_SWAP`, not modelled). Without a free swap slot the folio is
  /// redirtied and `AOP_WRITEPAGE_ACTIVATE` is returned with the folio still locked. On
  /// success the page cache index becomes a swap entry, the swap write (synchronous in the
  /// model) unlocks the folio, and the page cache's reference is dropped, so the folio is
  /// freed unless the caller still holds one.
  public func shmemWriteout(_ folio: Page) -> WriteoutResult {
    precondition(mem[folio].locked, "shmem_writeout() of an unlocked folio")
    guard case .shmem(let fileID, let index)? = mem[folio].owner else {
      preconditionFailure("shmem_writeout() of a folio not in a shmem file")
    }
    if swap.totalSlots == 0 { return .activate }
    if mem[folio].compoundOrder > 0 {
      guard splitShmemFolio(folio) else { return .activate }
    }
    if faults.shouldFail(.swapAlloc) { return .activate }
    guard let slot = swap.allocate(storing: mem[folio].content) else { return .activate }
    shmemFiles[fileID]!.entries[index] = .swapped(slot)
    vmstat.nrShmem -= 1
    vmstat.nrShmemSwapped += 1
    vmstat.pswpout += 1
    mem[folio].locked = false
    folioPut(folio)
    return .written
  }

  /// `split_folio()` of a large shmem folio: every page becomes an order-0 folio in the page
  /// cache. The head keeps the references held on the folio; each tail gets the page cache's
  /// reference. Fails (returns `false`) when anyone but the page cache and one caller holds
  /// the folio, as `can_split_folio()` would.
  @discardableResult
  func splitShmemFolio(_ folio: Page) -> Bool {
    let order = Int(mem[folio].compoundOrder)
    guard order > 0, mem[folio].refcount <= 2,
      case .shmem(let fileID, let base)? = mem[folio].owner
    else { return false }
    for i in 0..<(1 << order) {
      let page = folio + i
      mem[page].compoundOrder = 0
      mem[page].compoundHead = -1
      mem.setAllocOrder(page, 0)
      mem[page].owner = .shmem(file: fileID, index: base + i)
      if i > 0 {
        mem[page].refcount = 1
        mem[page].locked = false
        shmemFiles[fileID]!.entries[base + i] = .folio(page)
        shmemLRU.append(ShmemLRUEntry(file: fileID, index: base + i, folio: page))
      }
    }
    return true
  }

  // MARK: Truncation

  /// `shmem_truncate_range(inode, lstart, lend)`: frees every folio and swap entry in the
  /// byte range `start ... end` (`end` inclusive, -1 for the end of file). A large folio only
  /// partly in range is split; if it cannot be split (someone holds it), the pages in range
  /// are zeroed and the folio stays, as `truncate_inode_partial_folio()` falls back to.
  public func shmemTruncateRange(_ file: ShmemFileID, start: Int, end: Int) {
    let count = shmemFile(file).entries.count
    let first = start / PAGE_SIZE
    let last = end < 0 ? count - 1 : Swift.min(end / PAGE_SIZE, count - 1)
    guard first <= last else { return }
    var index = first
    while index <= last {
      switch shmemFiles[file.id]!.entries[index] {
      case nil:
        index += 1
      case .swapped(let slot):
        swap.release(slot)
        shmemFiles[file.id]!.entries[index] = nil
        vmstat.nrShmemSwapped -= 1
        index += 1
      case .folio(let folio):
        let nr = folioNrPages(folio)
        guard case .shmem(_, let base)? = mem[folio].owner else { preconditionFailure() }
        if base < first || base + nr - 1 > last {
          if splitShmemFolio(folio) { continue }  // revisit this index as an order-0 folio
          for i in Swift.max(base, first)...Swift.min(base + nr - 1, last) {
            mem[folio + (i - base)].content = .zero
          }
          index = base + nr
          continue
        }
        for i in base..<(base + nr) { shmemFiles[file.id]!.entries[i] = nil }
        vmstat.nrShmem -= nr
        folioPut(folio)
        index = base + nr
      }
    }
  }

  // MARK: Reclaim

  /// `shrink_lruvec()` over the shmem folios: scan `size >> priority` folios from the oldest,
  /// write out each unreferenced, unlocked one (`shrink_folio_list()` → `pageout()`), and stop
  /// once `goal` pages were freed.
  ///
  /// Dirty shmem folios are only written with `__GFP_FS` (`may_enter_fs()`), and not at all
  /// without free swap (`get_scan_count()` scans no anon/shmem then). Folios that cannot be
  /// written go back to the end of the list.
  func shrinkShmemLRU(_ gfp: GFP, priority: Int, goal: Int) -> Int {
    guard goal > 0, gfp.contains(.__GFP_FS), swap.nrSwapPages > 0 else { return 0 }
    var nrToScan = vmstat.nrShmem >> priority
    var reclaimed = 0
    while nrToScan > 0, reclaimed < goal, shmemLRUHead < shmemLRU.count {
      let entry = shmemLRU[shmemLRUHead]
      shmemLRUHead += 1
      nrToScan -= 1
      guard entry.file < shmemFiles.count, let f = shmemFiles[entry.file],
        entry.index < f.entries.count, f.entries[entry.index] == .folio(entry.folio),
        mem[entry.folio].owner == .shmem(file: entry.file, index: entry.index)
      else { continue }  // stale: the folio left the page cache since it was queued
      if mem[entry.folio].refcount > 1 || mem[entry.folio].locked {
        shmemLRU.append(entry)
        continue
      }
      let freedBefore = mem.pagesFreed
      folioLock(entry.folio)
      switch shmemWriteout(entry.folio) {
      case .written:
        reclaimed += mem.pagesFreed - freedBefore
      case .activate:
        folioUnlock(entry.folio)
        shmemLRU.append(entry)
      case .error:
        shmemLRU.append(entry)
      }
    }
    if shmemLRUHead > 4096 && shmemLRUHead * 2 > shmemLRU.count {
      shmemLRU.removeFirst(shmemLRUHead)
      shmemLRUHead = 0
    }
    return reclaimed
  }
}
