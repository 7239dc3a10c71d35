/// The functions a kernel tree supplies to the TTM core: every function an upstream patch
/// touches is one of these seams, so the core never asks which patches are applied.
///
/// `Sources/Patches` fills the table from a tree's base and patch stack; each closure is the
/// transliteration of the kernel function named in its documentation, from the Before or
/// After side of the patch that touches it. A seam whose code does not exist in the tree (the
/// backup functions before 6.15) is `nil`; the core only reaches it through the functions
/// that exist there.
public struct TTMFunctions: Sendable {
  /// Swap a BO's pages out to shmem: the legacy `ttm_bo_swapout()` → `ttm_tt_swapout()`, or
  /// `ttm_bo_shrink()` → `ttm_tt_backup()` from 6.15. Returns pages swapped out, backed up or
  /// purged, or a negative errno.
  public var ttmBOSwapout: @Sendable (TTMDevice, TTMBufferObject, TTMOperationContext, TTMBackupFlags) throws -> Int
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
  /// `ttm_pool_restore_and_alloc()` (6.15+).
  public var ttmPoolRestoreAndAlloc: (@Sendable (TTMDevice, TTMTT, TTMOperationContext) throws -> Int)?
  /// `ttm_pool_restore_commit()` (6.15+), with the `ttm_backup_copy_page()` it calls.
  public var ttmPoolRestoreCommit:
    (@Sendable (TTMDevice, TTMPoolTTRestore, ShmemFileID, TTMOperationContext, inout TTMPoolAllocState) throws -> Int)?

  /// A table in which every seam traps until a tree supplies it; the tree composition in
  /// `Sources/Patches` fills it.
  public init() {
    ttmBOSwapout = { _, _, _, _ in unsupplied("ttm_bo_swapout/ttm_bo_shrink") }
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

/// A TTM buffer object in system memory (`struct ttm_buffer_object` with its driver
/// wrapper), reduced to what swapout, backup and the shrinker look at.
public final class TTMBufferObject: CustomStringConvertible {
  /// The tt holding the BO's pages.
  public let tt: TTMTT
  /// A name for reports.
  public let name: String
  /// `pin_count`: pinned BOs are never shrunk.
  public var pinCount = 0
  /// The GPU is still using the BO (its `dma_resv` fences are not signalled).
  public var busy = false
  /// `xe_ttm_tt->purgeable`: the content may be dropped instead of backed up. (6.15 xe has no
  /// uAPI that sets it; its KUnit shrink test does, and ghost BOs are purged the same way.)
  public var purgeable = false
  /// The BO's reservation is held by someone (the shrinker's trylock fails).
  public var reserved = false

  init(tt: TTMTT, name: String) {
    self.tt = tt
    self.name = name
  }

  public var description: String { "\(name) (\(tt))" }
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
  private var nextTTID = 1

  /// `ttm_device_init()`, then the driver's own setup (``TTMFunctions/ttmDeviceInit``).
  public init(machine: Machine, pool: TTMPool = TTMPool(), functions: TTMFunctions) {
    self.machine = machine
    self.pool = pool
    self.functions = functions
    functions.ttmDeviceInit(self)
  }

  /// Registers `shrinker` with reclaim (`shrinker_register()`); for the driver's setup.
  public func registerShrinker(_ shrinker: TTMBOShrinker) {
    precondition(self.shrinker == nil, "the device already has a shrinker")
    self.shrinker = shrinker
    machine.registerShrinker(shrinker)
  }

  /// `ttm_device_fini()`: unregisters the shrinker. Every BO must have been destroyed.
  public func fini() {
    precondition(lru.isEmpty, "ttm_device_fini() with live BOs")
    if let shrinker { machine.unregisterShrinker(shrinker) }
    shrinker = nil
  }

  // MARK: Buffer objects

  /// Creates a BO of `numPages` pages (`ttm_bo_init_reserved()` → `ttm_tt_create()`), not
  /// yet populated, at the most recently used end of the LRU.
  public func createBO(
    numPages: Int, caching: TTMCaching = .cached, zeroAlloc: Bool = false, name: String? = nil
  ) throws -> TTMBufferObject {
    let tt = TTMTT(id: nextTTID, numPages: numPages, pageFlags: zeroAlloc ? .ZERO_ALLOC : [], caching: caching)
    nextTTID += 1
    let ret = try functions.ttmTTCreate(self, tt)
    if let err = Errno(returnValue: ret) { throw err }
    let bo = TTMBufferObject(tt: tt, name: name ?? "bo\(tt.id)")
    lru.append(bo)
    return bo
  }

  /// Populates the BO's tt (`ttm_tt_populate()`), restoring content if it was swapped out or
  /// backed up. The BO is reserved meanwhile, so the shrinker skips it, and moves to the
  /// most recently used end of the LRU. Returns 0 or a negative errno.
  @discardableResult
  public func populate(_ bo: TTMBufferObject, _ ctx: TTMOperationContext = TTMOperationContext()) throws -> Int {
    bo.reserved = true
    defer { bo.reserved = false }
    let ret = try functions.ttmTTPopulate(self, bo.tt, ctx)
    if ret == 0 { bumpLRU(bo) }
    return ret
  }

  /// Swaps the BO out: what TTM's global swapout or the driver's shrinker does for one BO.
  /// Returns pages swapped out, backed up or purged, or a negative errno.
  @discardableResult
  public func swapout(
    _ bo: TTMBufferObject, _ ctx: TTMOperationContext = TTMOperationContext(),
    flags: TTMBackupFlags = TTMBackupFlags()
  ) throws -> Int {
    bo.reserved = true
    defer { bo.reserved = false }
    return try functions.ttmBOSwapout(self, bo, ctx, flags)
  }

  /// Destroys the BO: unpopulate, then `ttm_tt_fini()` (drops swapped-out or backed-up
  /// content).
  public func destroy(_ bo: TTMBufferObject) throws {
    guard let i = lru.firstIndex(where: { $0 === bo }) else { preconditionFailure("\(bo) is not on this device") }
    try functions.ttmTTUnpopulate(self, bo.tt)
    try functions.ttmTTFini(self, bo.tt)
    lru.remove(at: i)
  }

  /// Moves `bo` to the most recently used end (`ttm_bo_move_to_lru_tail()`).
  public func bumpLRU(_ bo: TTMBufferObject) {
    guard let i = lru.firstIndex(where: { $0 === bo }) else { return }
    lru.remove(at: i)
    lru.append(bo)
  }

  // MARK: Content

  /// The GPU writes the whole BO: page `i` gets `pattern(seed, tt.id, i)`.
  ///
  /// - Precondition: the tt is populated.
  public func fill(_ bo: TTMBufferObject, seed: UInt64) {
    precondition(bo.tt.isPopulated, "fill of an unpopulated \(bo)")
    for (i, p) in bo.tt.pages.enumerated() {
      guard case .page(let page) = p else { preconditionFailure("slot \(i) of \(bo) holds \(p)") }
      machine.writePage(page, .pattern(seed: seed, object: bo.tt.id, index: i))
    }
  }

  /// Pages whose content differs from what ``fill(_:seed:)`` wrote, as (index, found); empty
  /// when the content is intact. Slots without a page count as lost.
  public func checkContent(_ bo: TTMBufferObject, seed: UInt64) -> [(index: Int, found: String)] {
    var bad: [(index: Int, found: String)] = []
    for (i, p) in bo.tt.pages.enumerated() {
      guard case .page(let page) = p else {
        bad.append((i, "\(p)"))
        continue
      }
      let content = machine.mem[page].content
      if content != .pattern(seed: seed, object: bo.tt.id, index: i) { bad.append((i, "\(content)")) }
    }
    return bad
  }
}
