/// The functions a kernel tree supplies to the TTM core: every function an upstream patch
/// touches is one of these seams, so the core never asks which patches are applied.
///
/// `Sources/Patches` fills the table from a tree's base and patch stack; each closure is the
/// transliteration of the kernel function named in its documentation, from the Before or
/// After side of the patch that touches it. A seam whose code does not exist in the tree (the
/// backup functions before 6.15) is `nil`; the core only reaches it through the functions
/// that exist there.
public struct TTMFunctions: Sendable {
  /// `ttm_bo_shrink()` (`ttm_bo_util.c`, 6.15+): the helper a driver's own BO shrinker calls,
  /// → `ttm_tt_backup()`. Returns pages backed up or purged, or a negative errno. `nil`
  /// before 6.15; TTM's global swapout (``TTMDevice/ttmGlobalSwapout(_:_:)``), which every
  /// tree has, is core code no patch changes.
  public var ttmBOShrink: (@Sendable (TTMDevice, TTMBufferObject, TTMOperationContext, TTMBOShrinkFlags) throws -> Int)?
  /// `ttm_tt_populate()` with the driver's populate callback: allocate the pages and bring
  /// back swapped-out or backed-up content. Returns 0 or a negative errno.
  public var ttmTTPopulate: @Sendable (TTMDevice, TTMTT, TTMOperationContext) throws -> Int
  /// `ttm_tt_unpopulate()` with the driver's unpopulate callback.
  public var ttmTTUnpopulate: @Sendable (TTMDevice, TTMTT) throws -> Void
  /// The driver's `ttm_tt_create()` setup after `ttm_tt_init()` (6.15+: `ttm_tt_setup_backup()`).
  /// Returns 0 or a negative errno.
  public var ttmTTCreate: @Sendable (TTMDevice, TTMTT) throws -> Int
  /// `ttm_tt_fini()` via the driver's `ttm_tt_destroy()`: release swap or backup storage.
  public var ttmTTFini: @Sendable (TTMDevice, TTMTT) throws -> Void
  /// Device initialisation beyond the pool: the 6.15+ xe-style driver registers its BO
  /// shrinker here.
  public var ttmDeviceInit: @Sendable (TTMDevice) -> Void
  /// `ttm_pool_backup()` (6.15+). Patches change three parts of it, which are seams of their
  /// own: ``ttmPoolBackupWriteBack``, ``ttmPoolBackupPurgeLoop`` and ``ttmPoolBackupLoop``.
  public var ttmPoolBackup: (@Sendable (TTMDevice, TTMTT, TTMBackupFlags) throws -> Int)?
  /// `ttm_pool_backup()`, the `CONFIG_X86` block that returns write-combined or uncached pages
  /// to write-back caching ("Anything returned to the system needs to be cached").
  public var ttmPoolBackupWriteBack: (@Sendable (TTMDevice, TTMTT) throws -> Void)?
  /// `ttm_pool_backup()`, the DMA-unmap and purge loop (`if (tt->dma_address ||
  /// flags->purge)`): returns the pages purged.
  public var ttmPoolBackupPurgeLoop: (@Sendable (TTMDevice, TTMTT, TTMBackupFlags) throws -> Int)?
  /// `ttm_pool_backup()`, from the gfp setup to the end: the backup loop, returning
  /// `shrunken ? shrunken : ret`.
  public var ttmPoolBackupLoop: (@Sendable (TTMDevice, TTMTT, TTMBackupFlags) throws -> Int)?
  /// `ttm_backup_backup_page()` (`ttm_backup.c`, 6.15 until the zero-copy or native-order
  /// patch replaces it): back one page up into the backup file at `idx`, returning the handle
  /// or a negative errno. Arguments: backup, page, writeback, idx, page_gfp, alloc_gfp.
  public var ttmBackupBackupPage: (@Sendable (TTMDevice, ShmemFileID, Page, Bool, Int, GFP, GFP) throws -> Int)?
  /// `ttm_backup_copy_page()` (`ttm_backup.c`, 6.15+): copy a backed-up page into `dst`. The
  /// last argument is `additional_gfp`, a parameter from c6135f67aa37; `nil` calls the form
  /// without it. Returns 0 or a negative errno.
  public var ttmBackupCopyPage: (@Sendable (TTMDevice, ShmemFileID, Page, UInt, Bool, GFP?) throws -> Int)?
  /// `ttm_backup_insert_folio()` (`ttm_backup.c`, the zero-copy patch): hand an isolated
  /// folio to the backup file at `idx`. Arguments: backup, folio, order, writeback, idx,
  /// folio_gfp. Returns the first sub-page's handle or a negative errno.
  public var ttmBackupInsertFolio: (@Sendable (TTMDevice, ShmemFileID, Page, Int, Bool, Int, GFP) -> Int)?
  /// `ttm_pool_restore_and_alloc()` (6.15+).
  public var ttmPoolRestoreAndAlloc: (@Sendable (TTMDevice, TTMTT, TTMOperationContext) throws -> Int)?
  /// `ttm_pool_restore_commit()` (6.15+), with the `ttm_backup_copy_page()` it calls.
  public var ttmPoolRestoreCommit:
    (@Sendable (TTMDevice, TTMPoolTTRestore, ShmemFileID, TTMOperationContext, inout TTMPoolAllocState) throws -> Int)?

  /// A table in which every seam traps until a tree supplies it; the tree composition in
  /// `Sources/Patches` fills it.
  public init() {
    ttmTTPopulate = { _, _, _ in unsupplied("ttm_tt_populate") }
    ttmTTUnpopulate = { _, _ in unsupplied("ttm_tt_unpopulate") }
    ttmTTCreate = { _, _ in unsupplied("ttm_tt_create") }
    ttmTTFini = { _, _ in unsupplied("ttm_tt_fini") }
    ttmDeviceInit = { _ in unsupplied("ttm_device_init") }
  }

  /// A seam the calling code needs; its absence means the tree was composed wrongly (the
  /// composition refuses such stacks), so it traps.
  func require<F>(_ seam: F?, _ name: StaticString) -> F {
    guard let seam else { preconditionFailure("\(name) does not exist in this kernel tree") }
    return seam
  }
}

private func unsupplied(_ name: String) -> Never {
  preconditionFailure("\(name): no patch of this kernel tree supplies it")
}

/// A TTM buffer object (`struct ttm_buffer_object` with its driver wrapper), reduced to what
/// placement, swapout, backup and the shrinker look at.
public final class TTMBufferObject: CustomStringConvertible {
  /// The model's id: the id of every tt the BO gets, and of its content patterns.
  public let id: Int
  /// `bo->base.size >> PAGE_SHIFT`.
  public let numPages: Int
  /// `bo->ttm`: the tt holding the BO's pages while it is placed where a manager uses one
  /// (`TTM_PL_SYSTEM`, `TTM_PL_TT`); `nil` in VRAM or a driver-private type.
  public internal(set) var ttm: TTMTT?
  /// `bo->resource`: where the BO is.
  public internal(set) var resource: TTMResource
  /// The BO's content while it is in VRAM (device memory, not RAM), one value per page.
  public internal(set) var vramContent: [PageContent]?
  /// The caching its tts get (`ttm_tt_init()`'s `caching`).
  public let caching: TTMCaching
  /// A name for reports.
  public let name: String

  /// `bo->ttm` where the caller knows there is one (every BO outside VRAM).
  public var tt: TTMTT {
    guard let ttm else { preconditionFailure("\(name) is in \(resource.memType) and has no ttm_tt") }
    return ttm
  }
  /// `pin_count`: pinned BOs are never shrunk.
  public var pinCount = 0
  /// The GPU is still using the BO (its `dma_resv` fences are not signalled).
  public var busy = false
  /// `xe_ttm_tt->purgeable`: the content may be dropped instead of backed up. (6.15 xe has no
  /// uAPI that sets it; its KUnit shrink test does, and ghost BOs are purged the same way.)
  public var purgeable = false
  /// The BO's reservation is held by someone (the shrinker's trylock fails).
  public var reserved = false

  init(id: Int, numPages: Int, caching: TTMCaching, resource: TTMResource, name: String) {
    self.id = id
    self.numPages = numPages
    self.caching = caching
    self.resource = resource
    self.name = name
  }

  public var description: String { "\(name) (\(ttm.map { "\($0)" } ?? "\(resource.memType), no tt"))" }
}

/// A TTM device (`struct ttm_device`) with its pool, its buffer objects on one LRU, and the
/// kernel tree's functions.
///
/// All TTM operations go through the device, which knows the ``Machine`` the pages come
/// from. Content helpers (``fill(_:seed:)``, ``checkContent(_:seed:)``) stand in for the
/// GPU writing the BO and a test reading it back.
public final class TTMDevice {
  /// The machine the pages come from.
  public let machine: Machine
  /// `bdev->pool`.
  public var pool: TTMPool
  /// The kernel tree's seam functions.
  public let functions: TTMFunctions
  /// The BOs in LRU order, least recently used first (the resource manager's LRU that
  /// `ttm_bo_lru_for_each_reserved_guarded()` walks).
  public internal(set) var lru: [TTMBufferObject] = []
  /// Every caching change `set_pages_array_*()` made, in order: the tt, the page-array range
  /// and the new caching (page attributes themselves are not modelled).
  public internal(set) var cachingLog: [(tt: Int, range: Range<Int>, caching: TTMCaching)] = []
  /// The BO shrinker, if the tree's driver registers one.
  public internal(set) var shrinker: TTMBOShrinker?
  /// The `drm-ttm_pool` shrinker, registered while the pool has pool types (a DMA-alloc
  /// pool).
  public internal(set) var poolShrinker: TTMPoolShrinker?
  /// The pool's own pool types (`pool->caching[c].orders[o]`, DMA-alloc pools only): the
  /// blocks each holds, oldest first.
  public internal(set) var poolTypes: [TTMPoolTypeKey: [Page]] = [:]
  /// The pool types on the pool shrinker's list (`shrinker_list`), in the order
  /// `ttm_pool_shrink()` visits them next.
  var poolTypeShrinkerList: [TTMPoolTypeKey] = []
  /// `allocated_pages[nid]`: pages sitting in pool types. Global in the kernel (every device
  /// of the node); per device in the model, which matters only with two DMA-alloc devices.
  public internal(set) var poolAllocatedPages = 0
  /// `pool_node_limit[nid]`: `page_pool_size`, or half the node's memory by default
  /// (`ttm_pool_mgr_init()`).
  public var poolNodeLimit: Int
  /// The `struct ttm_pool_dma` of every live DMA-alloc block, by the pointer value in
  /// `page->private`.
  var poolDMA: [UInt: TTMPoolDMA] = [:]
  /// The driver style the tree's driver code was written for (see ``TTMDriverStyle``).
  public let driverStyle: TTMDriverStyle
  /// VRAM pages the device has (its `TTM_PL_VRAM` manager); 0 for an integrated GPU.
  public var vramPages = 0
  /// VRAM pages BOs occupy.
  public internal(set) var vramPagesUsed = 0
  /// `ttm_pages_allocated`: pages of populated tts that are not `TTM_TT_FLAG_EXTERNAL`.
  /// Global in the kernel; per device in the model (one device per machine).
  public internal(set) var ttmPagesAllocated = 0
  /// `ttm_dma32_pages_allocated`.
  public internal(set) var ttmDMA32PagesAllocated = 0
  /// `ttm_pages_limit`: half of RAM (`ttm_global_init()`), unless the `pages_limit` module
  /// parameter says otherwise.
  public var ttmPagesLimit: Int
  /// `ttm_dma32_pages_limit`: RAM below 4 GiB, at most 2 GiB (`ttm_global_init()`).
  public var ttmDMA32PagesLimit: Int
  private var nextTTID = 1

  /// `ttm_device_init()` (which calls `ttm_pool_init()`), then the driver's own setup
  /// (``TTMFunctions/ttmDeviceInit``).
  public init(
    machine: Machine, pool: TTMPool = TTMPool(), driverStyle: TTMDriverStyle = .xe, functions: TTMFunctions
  ) {
    self.machine = machine
    self.pool = pool
    self.functions = functions
    self.driverStyle = driverStyle
    poolNodeLimit = machine.mem.totalPages / 2
    ttmPagesLimit = machine.mem.totalPages / 2
    ttmDMA32PagesLimit = Swift.min(machine.mem.totalPages, 2 << (30 - 12))
    ttmPoolInitTypes()
    if pool.usesDMAAlloc {
      let s = TTMPoolShrinker(device: self)
      poolShrinker = s
      machine.registerShrinker(s)
    }
    functions.ttmDeviceInit(self)
  }

  /// Registers `shrinker` with reclaim (`shrinker_register()`); for the driver's setup.
  public func registerShrinker(_ shrinker: TTMBOShrinker) {
    precondition(self.shrinker == nil, "the device already has a shrinker")
    self.shrinker = shrinker
    machine.registerShrinker(shrinker)
  }

  /// `ttm_device_fini()`: unregisters the driver's shrinker, then `ttm_pool_fini()` frees
  /// what sits in the pool types. Every BO must have been destroyed.
  public func fini() {
    precondition(lru.isEmpty, "ttm_device_fini() with live BOs")
    if let shrinker { machine.unregisterShrinker(shrinker) }
    shrinker = nil
    ttmPoolFini()
    if let poolShrinker { machine.unregisterShrinker(poolShrinker) }
    poolShrinker = nil
  }

  // MARK: Buffer objects

  /// `ttm_tt_create(bo, zero_alloc)`: a new tt for the BO (`ttm_tt_init()` with the BO's
  /// caching, `TTM_TT_FLAG_ZERO_ALLOC` if asked) and the driver's setup
  /// (``TTMFunctions/ttmTTCreate``). Returns 0 or a negative errno.
  func ttmTTCreate(_ bo: TTMBufferObject, zeroAlloc: Bool) throws -> Int {
    let tt = TTMTT(id: bo.id, numPages: bo.numPages, pageFlags: zeroAlloc ? .ZERO_ALLOC : [], caching: bo.caching)
    let ret = try functions.ttmTTCreate(self, tt)
    if ret == 0 { bo.ttm = tt }
    return ret
  }

  /// Creates a BO of `numPages` pages in `placement` (`ttm_bo_init_reserved()`: the resource,
  /// and for a manager that uses one, `ttm_tt_create()`), at the most recently used end of the
  /// LRU. A system BO's tt is not yet populated; a `TTM_PL_TT` BO's is; a VRAM BO has none,
  /// its content starts cleared.
  ///
  /// - Throws: the errno of a failed step (`-ENOSPC` when VRAM is full and nothing can be
  ///   evicted, `-ENOMEM` when the pages cannot be had).
  public func createBO(
    numPages: Int, caching: TTMCaching = .cached, zeroAlloc: Bool = false, name: String? = nil,
    placement: TTMMemType = .system, _ ctx: TTMOperationContext = TTMOperationContext()
  ) throws -> TTMBufferObject {
    precondition(numPages > 0, "a BO has at least one page")
    let id = nextTTID
    nextTTID += 1
    let bo = TTMBufferObject(
      id: id, numPages: numPages, caching: caching, resource: TTMResource(memType: .system), name: name ?? "bo\(id)")
    bo.reserved = true
    defer { bo.reserved = false }
    switch try ttmBOMemSpace(bo, placement, ctx) {
    case .failure(let err): throw err
    case .success(let res): bo.resource = res
    }
    if placement.usesTT {
      let ret = try ttmTTCreate(bo, zeroAlloc: zeroAlloc)
      if let err = Errno(returnValue: ret) {
        ttmResourceFree(bo, bo.resource)
        throw err
      }
      if placement != .system {
        let ret = try functions.ttmTTPopulate(self, bo.tt, ctx)
        if let err = Errno(returnValue: ret) {
          try ttmBOTTDestroy(bo)
          ttmResourceFree(bo, bo.resource)
          throw err
        }
      }
    } else {
      bo.vramContent = Array(repeating: .zero, count: numPages)
    }
    lru.append(bo)
    return bo
  }

  /// Populates the BO's tt (`ttm_tt_populate()`), restoring content if it was swapped out or
  /// backed up. The BO is reserved meanwhile, so the shrinker and TTM's global swapout skip
  /// it, and moves to the most recently used end of the LRU. Returns 0 or a negative errno;
  /// -EINVAL for a BO without a tt (`if (!ttm) return -EINVAL`).
  @discardableResult
  public func populate(_ bo: TTMBufferObject, _ ctx: TTMOperationContext = TTMOperationContext()) throws -> Int {
    guard let ttm = bo.ttm else { return Errno.EINVAL.negated }
    bo.reserved = true
    defer { bo.reserved = false }
    let ret = try functions.ttmTTPopulate(self, ttm, ctx)
    if ret == 0 { bumpLRU(bo) }
    return ret
  }

  /// Which swapout path reaches one BO.
  public enum SwapoutPath: String, Hashable, Sendable {
    /// `ttm_bo_shrink()` → `ttm_tt_backup()`, what a driver's BO shrinker calls (6.15+).
    case shrink
    /// `ttm_bo_swapout_cb()` → `ttm_tt_swapout()`, one BO of TTM's global swapout.
    case swapout
  }

  /// The path reclaim takes to this device's BOs: the driver's shrinker through
  /// `ttm_bo_shrink()` for an xe-style driver on a tree that has the helper, TTM's global
  /// swapout otherwise.
  public var defaultSwapoutPath: SwapoutPath {
    driverStyle == .xe && functions.ttmBOShrink != nil ? .shrink : .swapout
  }

  /// Swaps the BO out the way `path` does (by default the device's own,
  /// ``defaultSwapoutPath``): `ttm_bo_shrink(ctx, bo, {purge, writeback, allow_move})` as xe's
  /// shrinker calls it (`allow_move = true`), or `ttm_bo_swapout_cb()` with the `GFP_KERNEL`
  /// of `ttm_global_swapout()` (which has no purge and no writeback: `flags` is not looked
  /// at). Returns pages swapped out, backed up or purged, or a negative errno.
  ///
  /// - Throws: ``TTMAbsentFunction`` for `.shrink` on a tree without `ttm_bo_shrink()`.
  @discardableResult
  public func swapout(
    _ bo: TTMBufferObject, _ ctx: TTMOperationContext = TTMOperationContext(),
    flags: TTMBackupFlags = TTMBackupFlags(), allowMove: Bool = true, path: SwapoutPath? = nil
  ) throws -> Int {
    bo.reserved = true
    defer { bo.reserved = false }
    switch path ?? defaultSwapoutPath {
    case .shrink:
      guard let shrink = functions.ttmBOShrink else {
        throw TTMAbsentFunction("ttm_bo_shrink", why: "added by the shrinker helpers of 6.15 (70d645deac98)")
      }
      return try shrink(
        self, bo, ctx, TTMBOShrinkFlags(purge: flags.purge, writeback: flags.writeback, allowMove: allowMove))
    case .swapout:
      return try kernelFrame("ttm_bo_swapout_cb") { try ttmBOSwapoutCB(bo, ctx, .GFP_KERNEL) }
    }
  }

  /// Destroys the BO (`ttm_bo_release()` → `ttm_bo_cleanup_memtype_use()`):
  /// `ttm_bo_tt_destroy()` (unpopulate, then `ttm_tt_destroy()` → `ttm_tt_fini()`, which drops
  /// swapped-out or backed-up content: `ttm_pool_drop_backed_up()`, `ttm_backup_fini()`), then
  /// `ttm_resource_free()`.
  public func destroy(_ bo: TTMBufferObject) throws {
    guard let i = lru.firstIndex(where: { $0 === bo }) else { preconditionFailure("\(bo) is not on this device") }
    try ttmBOTTDestroy(bo)
    ttmResourceFree(bo, bo.resource)
    bo.vramContent = nil
    lru.remove(at: i)
  }

  /// Moves `bo` to the most recently used end (`ttm_bo_move_to_lru_tail()`).
  public func bumpLRU(_ bo: TTMBufferObject) {
    guard let i = lru.firstIndex(where: { $0 === bo }) else { return }
    lru.remove(at: i)
    lru.append(bo)
  }

  // MARK: Content

  /// The GPU writes the whole BO: page `i` gets `pattern(seed, bo.id, i)`, in its tt's pages
  /// or in VRAM.
  ///
  /// - Precondition: the BO is in VRAM, or its tt is populated.
  public func fill(_ bo: TTMBufferObject, seed: UInt64) {
    guard let ttm = bo.ttm else {
      bo.vramContent = (0..<bo.numPages).map { .pattern(seed: seed, object: bo.id, index: $0) }
      return
    }
    precondition(ttm.isPopulated, "fill of an unpopulated \(bo)")
    for (i, p) in ttm.pages.enumerated() {
      guard case .page(let page) = p else { preconditionFailure("slot \(i) of \(bo) holds \(p)") }
      machine.writePage(page, .pattern(seed: seed, object: bo.id, index: i))
    }
  }

  /// Whether the GPU can write the BO now: it is in VRAM, or its tt is populated with a page
  /// in every slot.
  public func isWritable(_ bo: TTMBufferObject) -> Bool {
    guard let ttm = bo.ttm else { return bo.vramContent != nil }
    return ttm.isPopulated && ttm.pages.allSatisfy { if case .page = $0 { true } else { false } }
  }

  /// Pages whose content differs from what ``fill(_:seed:)`` wrote, as (index, found); empty
  /// when the content is intact. Slots without a page count as lost.
  public func checkContent(_ bo: TTMBufferObject, seed: UInt64) -> [(index: Int, found: String)] {
    var bad: [(index: Int, found: String)] = []
    guard let ttm = bo.ttm else {
      for (i, c) in (bo.vramContent ?? []).enumerated() where c != .pattern(seed: seed, object: bo.id, index: i) {
        bad.append((i, "\(c)"))
      }
      return bad
    }
    for (i, p) in ttm.pages.enumerated() {
      guard case .page(let page) = p else {
        bad.append((i, "\(p)"))
        continue
      }
      let content = machine.mem[page].content
      if content != .pattern(seed: seed, object: bo.id, index: i) { bad.append((i, "\(content)")) }
    }
    return bad
  }
}

/// A kernel function a caller asked for that this tree does not have (e.g.
/// `ttm_backup_insert_folio()` before the zero-copy patch): one line naming it and why.
public struct TTMAbsentFunction: Error, Hashable, Sendable, CustomStringConvertible {
  public let function: String
  public let why: String
  public init(_ function: String, why: String) {
    self.function = function
    self.why = why
  }
  public var description: String { "\(function)() does not exist in this kernel tree (\(why))" }
}
