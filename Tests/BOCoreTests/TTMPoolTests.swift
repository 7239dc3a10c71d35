import Testing

@testable import BOCore

extension Tag {
  /// The TTM pool and backup helpers.
  @Tag static var ttm: Self
}

/// The parts of `ttm_pool.c` no patch touches, in the style of the kernel's `ttm_pool` KUnit
/// suite, plus what that suite does not check (gfp, fallback under fragmentation, accounting).
@Suite("TTM pool", .tags(.ttm))
struct TTMPoolTests {
  /// A device whose tree supplies nothing: enough for allocation and freeing, which call no
  /// seam.
  func device(memory: Int = 4096, maxOrder: Int = MAX_PAGE_ORDER) -> TTMDevice {
    var functions = TTMFunctions()
    functions.ttmDeviceInit = { _ in }
    return TTMDevice(
      machine: Machine(MachineConfig(memoryPages: memory)), pool: TTMPool(maxOrder: maxOrder), functions: functions)
  }

  /// `ttm_pool_alloc_basic`: the tt holds every sub-page, the head of each block has its order
  /// in `private`, blocks are not compound, and `NR_GPU_ACTIVE` counts the pages.
  @Test("Allocation by order: private holds the order, blocks are not compound", arguments: [1, 4, 2048, 3000])
  func allocBasic(pages: Int) throws {
    let dev = device()
    let tt = TTMTT(id: 1, numPages: pages)
    #expect(try dev.ttmPoolAlloc(tt, TTMOperationContext()) == 0)
    var i = 0
    var orders: [Int] = []
    while i < pages {
      guard case .page(let head) = tt.pages[i] else {
        Issue.record("slot \(i) holds \(tt.pages[i])")
        return
      }
      let order = Int(dev.machine.mem[head].private)
      orders.append(order)
      #expect(dev.machine.mem[head].compoundOrder == 0)
      for j in 0..<(1 << order) { #expect(tt.pages[i + j] == .page(head + j)) }
      i += 1 << order
    }
    // Largest first, as far as the remaining count allows: the binary digits of `pages`,
    // capped at MAX_PAGE_ORDER.
    #expect(orders.first == min(MAX_PAGE_ORDER, Int.bitWidth - 1 - pages.leadingZeroBitCount))
    #expect(orders == orders.sorted(by: >))
    #expect(dev.machine.vmstat.nrGPUActive == pages)
    dev.ttmPoolFree(tt)
    #expect(dev.machine.vmstat.nrGPUActive == 0)
    #expect(dev.machine.audit().isClean)
  }

  /// With every other page pinned, no block above order 0 exists: the pool falls back one
  /// order at a time and still fills the tt. The higher-order attempts carry
  /// `__GFP_NOMEMALLOC | __GFP_NORETRY | __GFP_NOWARN | __GFP_THISNODE`.
  @Test("Falls back to smaller orders when memory is fragmented")
  func fallback() throws {
    let dev = device(memory: 256, maxOrder: 3)
    for pfn in stride(from: 1, to: 256, by: 2) {
      dev.machine.takePageOffBuddy(Page(pfn: pfn), owner: .other("pinned"))
    }
    dev.machine.allocationTrace = []
    let tt = TTMTT(id: 1, numPages: 8)
    #expect(try dev.ttmPoolAlloc(tt, TTMOperationContext()) == 0)
    let trace = dev.machine.allocationTrace ?? []
    #expect(trace.prefix(3).map(\.order) == [3, 2, 1])
    #expect(trace.prefix(3).allSatisfy { !$0.succeeded })
    let highOrderExtra: GFP = [.__GFP_NOMEMALLOC, .__GFP_NORETRY, .__GFP_NOWARN, .__GFP_THISNODE]
    #expect(trace.filter { $0.order > 0 }.allSatisfy { $0.gfp == GFP.GFP_HIGHUSER.union(highOrderExtra) })
    #expect(trace.filter { $0.order == 0 }.allSatisfy { $0.gfp == .GFP_HIGHUSER && $0.succeeded })
    #expect(tt.slotCounts.pages == 8)
    dev.ttmPoolFree(tt)
  }

  /// The gfp `__ttm_pool_alloc()` builds from the context and the tt.
  @Test("The allocation gfp follows ctx->gfp_retry_mayfail, ZERO_ALLOC and DMA32")
  func allocGFP() {
    let dev = device()
    let tt = TTMTT(id: 1, numPages: 1)
    #expect(dev.ttmPoolAllocGFP(tt, TTMOperationContext()) == .GFP_HIGHUSER)
    #expect(dev.ttmPoolAllocGFP(tt, TTMOperationContext()).hexString == "0x100cc2")
    #expect(
      dev.ttmPoolAllocGFP(tt, TTMOperationContext(gfpRetryMayfail: true))
        == GFP.GFP_HIGHUSER.union([.__GFP_RETRY_MAYFAIL, .__GFP_NOWARN]))
    let zeroed = TTMTT(id: 2, numPages: 1, pageFlags: .ZERO_ALLOC)
    #expect(dev.ttmPoolAllocGFP(zeroed, TTMOperationContext()).contains(.__GFP_ZERO))
    dev.pool.usesDMA32 = true
    #expect(dev.ttmPoolAllocGFP(tt, TTMOperationContext()) == GFP.GFP_USER.union(.GFP_DMA32))
  }

  /// Without memory for the whole tt, everything allocated so far is freed and the result is
  /// -ENOMEM (no restore state to keep it for).
  @Test("A failed allocation frees what it got")
  func failedAllocationFreesAll() throws {
    let dev = device(memory: 64)
    _ = try dev.machine.spawnTask("chrome", rssPages: 60, oomScoreAdj: OOM_SCORE_ADJ_MIN)
    let tt = TTMTT(id: 1, numPages: 8)
    #expect(try dev.ttmPoolAlloc(tt, TTMOperationContext(gfpRetryMayfail: true)) == Errno.ENOMEM.negated)
    #expect(tt.slotCounts.pages == 0)
    #expect(dev.machine.vmstat.nrGPUActive == 0)
    #expect(dev.machine.mem.nrFreePages == 4)
  }

  /// `ttm_pool_split_for_swap()`: order-0 pages with `private` cleared, each freeable alone.
  @Test("Split for swap turns one block into independent pages", arguments: [1, 3, 10])
  func splitForSwap(order: Int) throws {
    let dev = device()
    let p = try #require(try dev.ttmPoolAllocPage(dev.pool, .GFP_HIGHUSER, order: order, owner: .ttm(tt: 1)))
    #expect(dev.ttmPoolPageOrder(dev.pool, p) == order)
    dev.ttmPoolSplitForSwap(dev.pool, p)
    for i in (0..<(1 << order)).reversed() {
      #expect(dev.machine.mem[p + i].private == 0)
      dev.freePagesGPUAccount(p + i, order: 0)
    }
    #expect(dev.machine.audit().isClean)
  }

  /// The handle encoding of `ttm_backup.h`.
  @Test("Handles: idx + 1, stored as handle << 1 | 1")
  func handles() {
    #expect(ttmBackupShmemIdxToHandle(0) == 1)
    #expect(ttmBackupHandleToShmemIdx(ttmBackupShmemIdxToHandle(41)) == 41)
    let p = TTMPagePointer.handle(42)
    #expect(p.rawValue == 85)
    #expect(ttmBackupPagePtrIsHandle(p))
    #expect(ttmBackupPagePtrToHandle(p) == 42)
    #expect(!ttmBackupPagePtrIsHandle(.page(Page(pfn: 3))))
    #expect(TTMPagePointer.page(Page(pfn: 3)).rawValue == 0xffff_ea00_0000_00c0)
    #expect(!ttmBackupPagePtrIsHandle(.null))
  }
}

extension TTMPoolTests {
  /// A handle taken for a `struct page *`: reading `page->private` through it faults at the
  /// handle's pointer value plus 0x28.
  @Test("Dereferencing a handle as a page oopses at its pointer value")
  func handleDeref() {
    guard case .oops(let small, let chain) = TTMPagePointer.handle(1).derefOops(offset: 0x28, callChain: ["f"]) else {
      Issue.record("not an oops")
      return
    }
    #expect(small == "BUG: kernel NULL pointer dereference, address: 000000000000002b")
    #expect(chain == ["f"])
    guard case .oops(let large, _) = TTMPagePointer.handle(5000).derefOops(offset: 0x28, callChain: []) else {
      Issue.record("not an oops")
      return
    }
    #expect(large == "BUG: unable to handle page fault for address: 0000000000002739")
  }
}
