import Testing

@testable import BOCore

/// The DMA-alloc path of `ttm_pool.c` (`ttm_pool_uses_dma_alloc()`): coherent allocations per
/// order with their `struct ttm_pool_dma`, the pool's own pool types that freed pages go to
/// and come back from, the `drm-ttm_pool` shrinker, and the base text's `NR_GPU_*`
/// accounting for it. The `ttm_pool` KUnit suite has `_free_dma_alloc` and
/// `_free_no_dma_alloc` for the first part.
@Suite("TTM pool: the DMA-alloc path", .tags(.ttm))
struct TTMPoolDMATests {
  func device(memory: Int = 1024, maxOrder: Int = 0, dmaAlloc: Bool = true) -> TTMDevice {
    var functions = TTMFunctions()
    functions.ttmDeviceInit = { _ in }
    return TTMDevice(
      machine: Machine(MachineConfig(memoryPages: memory)),
      pool: TTMPool(usesDMAAlloc: dmaAlloc, maxOrder: maxOrder), functions: functions)
  }

  /// Each block comes from `dma_alloc_attrs()` with a `struct ttm_pool_dma` whose address is
  /// in `page->private` (the order is in its vaddr's low bits), not the order itself; the
  /// memory is zeroed; `NR_GPU_ACTIVE` does not count it (that branch has no accounting).
  @Test("populate: one coherent allocation per block, page->private points to its ttm_pool_dma", arguments: [0, 2])
  func allocation(order: Int) throws {
    let dev = device(maxOrder: order)
    let tt = TTMTT(id: 1, numPages: 8)
    let before = dev.machine.statistics
    #expect(try dev.ttmPoolAlloc(tt, TTMOperationContext()) == 0)
    let stats = dev.machine.statistics.since(before)
    #expect(stats.dmaAllocations == 8 >> order)
    // Each block also needs its kmalloc'ed ttm_pool_dma (an order-0 allocation in the model).
    #expect(stats.allocationsPerOrder[order] == 8 >> order + (order == 0 ? 8 : 0))
    for i in stride(from: 0, to: 8, by: 1 << order) {
      guard case .page(let p) = tt.pages[i] else {
        Issue.record("slot \(i) holds \(tt.pages[i])")
        continue
      }
      #expect(dev.machine.mem[p].private >= 0xffff_8880_0000_0000, "a pointer, not the order")
      #expect(dev.ttmPoolPageOrder(dev.pool, p) == order)
      #expect(dev.machine.mem[p].content == .zero)
    }
    #expect(dev.machine.vmstat.nrGPUActive == 0)
    dev.ttmPoolFree(tt)
    dev.fini()
    let audit = dev.machine.audit()
    #expect(audit.isClean, "\(audit)")
    #expect(dev.machine.statistics.since(before).dmaFrees == 8 >> order)
  }

  /// Freed pages go to the pool type of their caching and order, cleared; the next
  /// allocation takes them from there (no new coherent allocation); `ttm_pool_fini()` frees
  /// them. The kernel counters keep the base text's residue: give/take move `1 << order`
  /// between NR_GPU_ACTIVE and NR_GPU_RECLAIM, the allocation and the final free do not.
  @Test("Freed pages wait in the pool types and are reused; fini frees them, leaving the NR_GPU_* residue")
  func poolTypes() throws {
    let dev = device()
    let tt = TTMTT(id: 1, numPages: 4)
    #expect(try dev.ttmPoolAlloc(tt, TTMOperationContext()) == 0)
    dev.machine.writePage(try #require(tt.pages[0].page), .pattern(seed: 1, object: 1, index: 0))
    dev.ttmPoolFree(tt)
    #expect(dev.poolAllocatedPages == 4)
    #expect(dev.poolTypes[TTMPoolTypeKey(caching: .cached, order: 0)]?.count == 4)
    #expect(dev.machine.vmstat.nrGPUActive == -4 && dev.machine.vmstat.nrGPUReclaim == 4)

    let before = dev.machine.statistics
    #expect(try dev.ttmPoolAlloc(tt, TTMOperationContext()) == 0)
    #expect(dev.machine.statistics.since(before).dmaAllocations == 0, "taken from the pool type")
    #expect(dev.poolAllocatedPages == 0)
    #expect(tt.pages.allSatisfy { $0.page.map { dev.machine.mem[$0].content == .zero } ?? false }, "cleared on give")
    #expect(dev.machine.vmstat.nrGPUActive == 0 && dev.machine.vmstat.nrGPUReclaim == 0)

    dev.ttmPoolFree(tt)
    dev.fini()
    #expect(dev.poolAllocatedPages == 0)
    let audit = dev.machine.audit()
    #expect(audit.isClean, "\(audit)")
    #expect(audit.kernelCounterResidue == ["nr_gpu_active": -4, "nr_gpu_reclaim": 4])
  }

  /// A pool without DMA allocation has no pool types in the model and balances exactly.
  @Test("Without DMA allocation: no pool types, NR_GPU_* balance")
  func noDMAAlloc() throws {
    let dev = device(dmaAlloc: false)
    let tt = TTMTT(id: 1, numPages: 4)
    #expect(try dev.ttmPoolAlloc(tt, TTMOperationContext()) == 0)
    #expect(dev.machine.vmstat.nrGPUActive == 4)
    dev.ttmPoolFree(tt)
    #expect(dev.poolAllocatedPages == 0 && dev.poolShrinker == nil)
    dev.fini()
    let audit = dev.machine.audit()
    #expect(audit.isClean && audit.kernelCounterResidue.isEmpty, "\(audit)")
  }

  /// More than `pool_node_limit` pages in pool types: `ttm_pool_free()` shrinks the excess;
  /// under memory pressure the `drm-ttm_pool` shrinker frees them for an allocation.
  @Test("The pool limit and the drm-ttm_pool shrinker give pool-type pages back")
  func limitAndShrinker() throws {
    let dev = device(memory: 256)
    dev.poolNodeLimit = 8
    let tt = TTMTT(id: 1, numPages: 32)
    #expect(try dev.ttmPoolAlloc(tt, TTMOperationContext()) == 0)
    dev.ttmPoolFree(tt)
    #expect(dev.poolAllocatedPages == 8, "trimmed to the limit")

    // Fill memory; the allocation that needs the last pages reclaims them from the pool.
    let m = dev.machine
    let task = try m.spawnTask("chrome", rssPages: m.mem.nrFreePages)
    let page = try m.allocPages(.GFP_KERNEL, order: 0, owner: .other("test"))
    #expect(page != nil)
    #expect(dev.poolAllocatedPages < 8)
    #expect(m.vmstat.oomKill == 0)
    if let page { m.freePages(page, order: 0) }
    m.exitTask(task)
    dev.fini()
    let audit = m.audit()
    #expect(audit.isClean, "\(audit)")
  }
}

extension TTMPagePointer {
  fileprivate var page: Page? { if case .page(let p) = self { p } else { nil } }
}
