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
  /// A hard error from the swap write; the folio is unlocked. (In the model the folio also
  /// stays in the page cache, redirtied, so nothing is lost; see ``FaultPoint/swapWriteout``.)
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
  /// The owner a folio truncated from this file keeps until its last reference is gone
  /// (``Machine/shmemTruncateRange(_:start:end:)``), built once per file instead of per page.
  var truncatedOwner: PageOwner
  /// Whether an insert into this file already logged that it ran with no free page (the
  /// model's uncharged xarray nodes, an assumption), so the note appears once per file.
  var notedInsertWithoutFreePage = false
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
  /// It cannot fail in the model; the kernel's can, when `shmem_acct_size()` is refused under
  /// strict overcommit (`vm.overcommit_memory=2`), so those callers' error paths are not
  /// reached here.
  /// `largeFolioOrder` defaults to the machine's ``Machine/shmemLargeFolioOrder``.
  public func shmemFileSetup(_ name: String, size: Int, largeFolioOrder: Int? = nil) -> ShmemFileID {
    let largeFolioOrder = largeFolioOrder ?? shmemLargeFolioOrder
    precondition(size >= 0 && (0...MAX_PAGE_ORDER).contains(largeFolioOrder))
    let pages = (size + PAGE_SIZE - 1) / PAGE_SIZE
    let id = shmemFiles.count
    shmemFiles.append(
      ShmemFile(
        name: name, size: size, gfpMask: .GFP_HIGHUSER_MOVABLE, largeFolioOrder: largeFolioOrder,
        entries: Array(repeating: nil, count: pages),
        truncatedOwner: .other("shmem folio truncated from file \(id)")))
    return ShmemFileID(id: id)
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

  /// `folio_next_index(folio)`: the page-cache index just past the folio.
  public func folioNextIndex(_ folio: Page) -> Int {
    guard case .shmem(_, let index)? = mem[folio].owner else {
      preconditionFailure("folio_next_index() of \(folio), which is not in a page cache")
    }
    return index + folioNrPages(folio)
  }

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
  ///   swap slot is freed after the read and the folio is back in the page cache, dirty. Only
  ///   that one folio is read: the kernel's swap readahead (`shmem_swapin_cluster()`, up to
  ///   `1 << page-cluster` = 8 folios, with the same gfp) is not modelled, so the model
  ///   allocates less per swap-in than a kernel without `SWP_SYNCHRONOUS_IO` would.
  /// - A hole is filled with a zeroed folio, large if the file allows it and the aligned range
  ///   is empty and inside `i_size` (allocated as `GFP_TRANSHUGE_LIGHT` limited by `gfp`: no
  ///   direct reclaim, falling back to order 0 with `gfp`).
  ///
  /// - Throws: `-EINVAL` at or beyond `i_size`; `-ENOMEM` when the allocation fails or the
  ///   model-only ``FaultPoint/shmemRead`` fires; ``KernelHalt`` from the allocator.
  public func shmemReadFolioGFP(_ file: ShmemFileID, _ index: Int, _ gfp: GFP) throws -> Page {
    if faults.shouldFail(.shmemRead) { throw Errno.ENOMEM }
    guard index >= 0, index < shmemFile(file).entries.count else { throw Errno.EINVAL }
    // shmem_get_folio_gfp() repeats its lookup when the entry changed under it (-EEXIST);
    // here that can only happen if a shrinker called from the allocation touched this file.
    while true {
      switch shmemFile(file).entries[index] {
      case .folio(let folio):
        getPage(folio)
        return folio
      case .swapped(let slot):
        // The swap-in folio comes from folio_alloc(), which adds __GFP_COMP.
        guard
          let page = try allocPages(gfp.union(.__GFP_COMP), order: 0, owner: .shmem(file: file.id, index: index))
        else { throw Errno.ENOMEM }
        guard case .swapped(slot) = shmemFile(file).entries[index] else {
          freePages(page, order: 0)
          continue
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
        guard let folio = try shmemAllocFolio(file, index, gfp) else { continue }
        getPage(folio)
        return folio
      }
    }
  }

  /// `limit_gfp_mask(huge_gfp, limit_gfp)` (`mm/shmem.c`): the large-folio gfp may only be
  /// as permissive as the caller's: the allow flags (`__GFP_IO | __GFP_FS | __GFP_RECLAIM`)
  /// are intersected, the deny flags (`__GFP_NOWARN | __GFP_NORETRY`) of the limit added, and
  /// the zone comes from the limit.
  static func limitGFPMask(_ hugeGFP: GFP, _ limitGFP: GFP) -> GFP {
    let allowflags: GFP = [.__GFP_IO, .__GFP_FS, .__GFP_RECLAIM]
    let denyflags: GFP = [.__GFP_NOWARN, .__GFP_NORETRY]
    let zoneflags = limitGFP.intersection(.GFP_ZONEMASK)
    var result = hugeGFP.subtracting(allowflags.union(.GFP_ZONEMASK))
    result.formUnion(zoneflags)
    result.formUnion(limitGFP.intersection(denyflags))
    result.formUnion(hugeGFP.intersection(limitGFP).intersection(allowflags))
    return result
  }

  /// `shmem_alloc_and_add_folio()` for a hole: try the file's large orders from the largest
  /// down, each where its aligned range fits in `i_size` and is empty, allocated with
  /// `limit_gfp_mask(vma_thp_gfp_mask(NULL), gfp)` (`GFP_TRANSHUGE_LIGHT` with the default
  /// `defrag` setting, so no direct reclaim); then order 0 with `gfp`. The new folio is zeroed
  /// and in the page cache. Returns `nil` if the hole was filled meanwhile (the caller looks
  /// again). Large folios on this path are a 6.1x+ feature (`acd7ccb284b8`, mTHP for shmem).
  private func shmemAllocFolio(_ file: ShmemFileID, _ index: Int, _ gfp: GFP) throws -> Page? {
    let f = shmemFile(file)
    var folio: Page?
    var order = f.largeFolioOrder
    var base = index
    let hugeGFP = Machine.limitGFPMask(.GFP_TRANSHUGE_LIGHT, gfp)
    while folio == nil && order > 0 {
      base = index & ~((1 << order) - 1)
      if base + (1 << order) <= f.entries.count,
        f.entries[base..<(base + (1 << order))].allSatisfy({ $0 == nil })
      {
        folio = try allocPages(hugeGFP, order: order, owner: .shmem(file: file.id, index: base))
      }
      if folio == nil { order -= 1 }
    }
    if folio == nil {
      base = index
      folio = try allocPages(gfp.union(.__GFP_COMP), order: 0, owner: .shmem(file: file.id, index: index))
    }
    guard let folio else { throw Errno.ENOMEM }
    guard shmemFile(file).entries[base..<(base + (1 << order))].allSatisfy({ $0 == nil }) else {
      folioPut(folio)
      return nil
    }
    for i in 0..<(1 << order) {
      mem[folio + i].content = .zero
      shmemFiles[file.id]!.entries[base + i] = .folio(folio)
    }
    vmstat.nrShmem += 1 << order
    shmemLRU.append(ShmemLRUEntry(file: file.id, index: base, folio: folio))
    return folio
  }

  // MARK: Insertion

  /// `shmem_insert_folio(file, folio, order, index, writeback, folio_gfp)`: hand an isolated
  /// folio to the page cache without copying ("mm/shmem: add shmem_insert_folio()", patch 1/2
  /// of the zero-copy series, posted 2026-05-12, not merged).
  ///
  /// The text of that patch is not public (UNVERIFIED); the model follows the requirements the
  /// kerneldoc of `ttm_backup_insert_folio()` states, which are preconditions here: an
  /// isolated, unlocked folio with exactly one reference, `private` cleared, not split, `index`
  /// aligned to `1 << order`. On success a non-compound block of `order > 0` is promoted to a
  /// compound folio of that order, takes the indices `index ..< index + (1 << order)`, and the
  /// page cache holds its own reference; the caller then drops its reference. With
  /// `writeback` the folio is written out at once, best effort (only `AOP_WRITEPAGE_ACTIVATE`
  /// leaves it locked, and only then is it unlocked here).
  ///
  /// Failure conditions are the model's named assumptions, each logged as a `[model]` note
  /// marked UNVERIFIED; on failure nothing has changed and the caller still owns the folio:
  /// - `-EINVAL`: `order` is larger than the file's large-folio order (the mapping does not
  ///   accept folios that large);
  /// - `-ENOMEM`: the page cache's own bookkeeping allocation failed (`xas_nomem()` for an
  ///   xarray node), through the model-only ``FaultPoint/shmemInsertNode``; the model does not
  ///   otherwise charge xarray nodes to memory;
  /// - `-EINVAL`: `index` is not aligned to `1 << order` (the kerneldoc forbids it);
  /// - `-EEXIST`: an index in the range is already in use or beyond the file.
  ///
  /// Not modelled: memcg charging with `folio_gfp`, shmem's block accounting, and the xarray
  /// nodes' memory (only their allocation failing is), so an insert needs no free page here.
  public func shmemInsertFolio(
    _ file: ShmemFileID, _ folio: Page, order: Int, _ index: Int, writeback: Bool, folioGFP: GFP
  ) -> Int {
    let nr = 1 << order
    precondition(
      mem[folio].refcount == 1 && !mem[folio].locked,
      "shmem_insert_folio(): \(folio) is not an isolated, unlocked folio with one reference")
    // The kerneldoc requires idx aligned to 1 << order, and the zero-copy loop does not check
    // it (a resumed restore can leave a block at an unaligned index); what the real function
    // does then is not public, so the model refuses, like an order the mapping does not take.
    if index % nr != 0 {
      dmesg.modelNote(
        "[assumption, UNVERIFIED] shmem_insert_folio(): index \(index) not aligned to order \(order), refused")
      return Errno.EINVAL.negated
    }
    precondition(
      mem[folio].compoundOrder == 0 && mem[folio].allocOrder == Int8(order),
      "shmem_insert_folio(): \(folio) is not an unsplit order-\(order) block")
    let f = shmemFile(file)
    guard index + nr <= f.entries.count, f.entries[index..<(index + nr)].allSatisfy({ $0 == nil }) else {
      return Errno.EEXIST.negated
    }
    if order > f.largeFolioOrder {
      dmesg.modelNote(
        "[assumption, UNVERIFIED] shmem_insert_folio(): order \(order) refused, the mapping takes folios up to order \(f.largeFolioOrder)"
      )
      return Errno.EINVAL.negated
    }
    // The xarray nodes an insert may need are not charged to memory in the model, so it
    // succeeds with no free page at all; the kernel's xas_nomem() would allocate them, and
    // could fail or enter reclaim there. Said once per file.
    if mem.nrFreePages == 0 && !f.notedInsertWithoutFreePage {
      shmemFiles[file.id]!.notedInsertWithoutFreePage = true
      dmesg.modelNote(
        "[assumption, UNVERIFIED] shmem_insert_folio(): inserting with no free page; the model charges no xarray node to memory, where the kernel's xas_nomem() could fail or reclaim"
      )
    }
    if faults.shouldFail(.shmemInsertNode) {
      dmesg.modelNote("[assumption, UNVERIFIED] shmem_insert_folio(): page cache node allocation failed")
      return Errno.ENOMEM.negated
    }
    // Promote to a compound folio of `order` (prep_compound_page()); the tails' refcounts
    // are already 0.
    if order > 0 { mem[folio].compoundOrder = Int8(order) }
    for i in 0..<nr {
      if i > 0 { mem[folio + i].compoundHead = Int32(folio.pfn) }
      mem[folio + i].owner = .shmem(file: file.id, index: index)
      shmemFiles[file.id]!.entries[index + i] = .folio(folio)
    }
    vmstat.nrShmem += nr
    counters.shmemFoliosInserted += 1
    counters.shmemPagesInserted += nr
    shmemLRU.append(ShmemLRUEntry(file: file.id, index: index, folio: folio))
    getPage(folio)  // the page cache's reference
    if writeback {
      folioLock(folio)
      if shmemWriteout(folio) == .activate { folioUnlock(folio) }
    }
    return 0
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
  ///
  /// The model-only ``FaultPoint/swapWriteout`` makes the write fail hard: the folio is
  /// unlocked and `.error(-EIO)` returned, the contract callers must honour (no second
  /// unlock); the model keeps the folio in the page cache, so the data stays safe.
  ///
  /// - Precondition: the folio is locked and in a shmem page cache (the kernel would
  ///   dereference `folio->mapping`).
  public func shmemWriteout(_ folio: Page) -> WriteoutResult {
    precondition(mem[folio].locked, "shmem_writeout() of an unlocked folio")
    guard case .shmem(let fileID, let index)? = mem[folio].owner,
      shmemFiles[fileID]?.entries[index] == .folio(folio)
    else {
      preconditionFailure("shmem_writeout() of a folio not in a shmem page cache")
    }
    if swap.totalSlots == 0 { return .activate }
    if mem[folio].compoundOrder > 0 {
      // The caller's reference (it locked the folio) does not prevent the split.
      guard splitShmemFolio(folio, extraReferences: 1) else { return .activate }
    }
    if faults.shouldFail(.swapAlloc) { return .activate }
    if faults.shouldFail(.swapWriteout) {
      mem[folio].locked = false
      return .error(.EIO)
    }
    guard let slot = swap.allocate(storing: mem[folio].content) else { return .activate }
    counters.swapEntriesAllocated += 1
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
  /// reference. Fails (returns `false`) when the folio has references beyond the page cache's
  /// and the `extraReferences` the caller itself holds, as `can_split_folio()` would.
  func splitShmemFolio(_ folio: Page, extraReferences: Int) -> Bool {
    let order = Int(mem[folio].compoundOrder)
    guard order > 0, Int(mem[folio].refcount) <= 1 + extraReferences,
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
  /// are zeroed and the folio stays, as `truncate_inode_partial_folio()` falls back to. A
  /// folio someone still holds leaves the page cache (`folio->mapping = NULL`) and is freed by
  /// the holder's last `folio_put()`.
  ///
  /// - Precondition: the range is page aligned (every caller modelled passes whole pages; the
  ///   kernel zeroes partial pages at the edges, which the model does not).
  public func shmemTruncateRange(_ file: ShmemFileID, start: Int, end: Int) {
    precondition(start % PAGE_SIZE == 0 && (end < 0 || (end + 1) % PAGE_SIZE == 0), "unaligned truncate")
    let count = shmemFile(file).entries.count
    let first = start / PAGE_SIZE
    let last = end < 0 ? count - 1 : Swift.min(end / PAGE_SIZE, count - 1)
    guard first <= last else { return }
    let truncatedOwner = shmemFile(file).truncatedOwner
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
          if splitShmemFolio(folio, extraReferences: 0) { continue }  // revisit as order-0 folios
          for i in Swift.max(base, first)...Swift.min(base + nr - 1, last) {
            mem[folio + (i - base)].content = .zero
          }
          index = base + nr
          continue
        }
        for i in base..<(base + nr) {
          shmemFiles[file.id]!.entries[i] = nil
          mem[folio + (i - base)].owner = truncatedOwner
        }
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
        // Unlocked by the failed write; it stays in the page cache and on the list.
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
