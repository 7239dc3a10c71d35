/// The mapping of a panfrost BO into one file's GPU address space (`struct
/// panfrost_gem_mapping`), reduced to its MMU context and whether it is mapped.
public struct PanfrostGEMMapping: Hashable, Sendable {
  /// `mapping->mmu`: the MMU context (one per open file) it belongs to.
  public let mmu: Int
  /// `mapping->active`: mapped in the GPU page tables.
  public var active: Bool
}

/// A panfrost BO (`struct panfrost_gem_object`): a shmem GEM object plus its GPU mappings and
/// the count of GPU jobs using it. Heap BOs (`PANFROST_BO_HEAP`, grown on GPU faults, no sgt
/// until then) are not modelled: every BO here is mapped and populated at creation.
public final class PanfrostGEMObject: CustomStringConvertible {
  /// `bo->base`.
  public let base: DRMGemShmemObject
  /// `bo->mappings.list`, one entry per file that holds a handle.
  public internal(set) var mappings: [PanfrostGEMMapping] = []
  /// `bo->mappings.lock`.
  public var mappingsLock = KernelMutex("mappings.lock")
  /// `bo->gpu_usecount`: jobs submitted with this BO and not yet cleaned up. The shrinker
  /// skips a BO the GPU is using.
  public internal(set) var gpuUsecount = 0
  /// The GEM object's reference count (`obj->refcount`): handles, lookups and jobs.
  public internal(set) var refcount = 0
  /// Whether `panfrost_gem_free_object()` ran: the object's memory is gone.
  public internal(set) var isFreed = false

  init(base: DRMGemShmemObject) { self.base = base }

  public var name: String { base.name }
  public var description: String { base.name }
}

/// An open DRM file of the device (`struct drm_file` with its `struct panfrost_file_priv`):
/// its GEM handles and its MMU context.
public final class PanfrostFile {
  /// `priv->mmu`: the file's GPU address space.
  public let mmu: Int
  /// GEM handles (`file->object_idr`).
  public internal(set) var handles: [UInt32: PanfrostGEMObject] = [:]
  var nextHandle: UInt32 = 1

  init(mmu: Int) { self.mmu = mmu }
}

/// A panfrost device (`struct panfrost_device`) on a ``Machine``: its BOs, the
/// `shrinker_list` of BOs userspace marked DONTNEED, `shrinker_lock`, and the GEM shrinker it
/// registers with reclaim, running one kernel tree's ``PanfrostFunctions``.
///
/// Every `list_head` of the device (the `shrinker_list` head and each BO's `madv_list`) lives
/// in ``lists``, with the tree's list-debugging options; the list operations below forward
/// what `CONFIG_DEBUG_LIST` reports to the machine's kernel log, as the kernel's `WARN()` and
/// `pr_err()` would print it.
///
/// Modelled from the 2022 panfrost (`panfrost_drv.c`, `panfrost_gem.c`,
/// `panfrost_gem_shrinker.c` as of 5.15-5.19). Not modelled: the GPU itself (jobs are a count),
/// the MMU page tables (a mapping is a flag), runtime PM, dma-buf sharing, heap BOs, perfcnt.
public final class PanfrostDevice {
  /// The machine the BOs' memory comes from.
  public let machine: Machine
  /// The kernel tree's seam functions.
  public let functions: PanfrostFunctions
  /// The memory holding every `list_head` of the device.
  public internal(set) var lists: ListHeads
  /// `pfdev->shrinker_list`: BOs marked DONTNEED whose pages were retained.
  public let shrinkerList: ListNodeID
  /// `pfdev->shrinker_lock`.
  public var shrinkerLock = KernelMutex("shrinker_lock")
  /// The GEM shrinker while registered (`pfdev->shrinker`).
  public internal(set) var shrinker: PanfrostGEMShrinker?
  /// Every BO ever created, freed ones included, in creation order.
  public internal(set) var objects: [PanfrostGEMObject] = []
  /// `container_of()` from a `madv_list` node to its BO, by node index.
  var objectByNode: [PanfrostGEMObject?] = []
  private var nextMMU = 1
  private var warnedOnce: Set<String> = []

  /// `panfrost_probe()`, as far as the model goes: `mutex_init(&pfdev->shrinker_lock)`,
  /// `INIT_LIST_HEAD(&pfdev->shrinker_list)`, and `panfrost_gem_shrinker_init()`, which
  /// registers the shrinker with reclaim.
  public init(machine: Machine, functions: PanfrostFunctions, listDebug: ListDebugConfig = .off) {
    self.machine = machine
    self.functions = functions
    var lists = ListHeads(config: listDebug)
    shrinkerList = lists.makeNode("shrinker_list")
    self.lists = lists
    objectByNode = [nil]
    panfrostGemShrinkerInit()
  }

  /// `panfrost_gem_shrinker_init()` (`panfrost_gem_shrinker.c`): `count_objects`,
  /// `scan_objects`, `seeks = DEFAULT_SEEKS`, `register_shrinker()`.
  func panfrostGemShrinkerInit() {
    let shrinker = PanfrostGEMShrinker(device: self)
    self.shrinker = shrinker
    machine.registerShrinker(shrinker)
  }

  /// `panfrost_remove()` → `panfrost_gem_shrinker_cleanup()`: unregisters the shrinker.
  ///
  /// - Precondition: every BO was freed (close the files first).
  public func fini() {
    precondition(objects.allSatisfy(\.isFreed), "panfrost_remove() with live BOs")
    if let shrinker { machine.unregisterShrinker(shrinker) }
    shrinker = nil
  }

  // MARK: Files and BOs

  /// `panfrost_open()`: a new file with its own MMU context.
  public func open() -> PanfrostFile {
    defer { nextMMU += 1 }
    return PanfrostFile(mmu: nextMMU)
  }

  /// `panfrost_postclose()` after the DRM core released every handle of the file
  /// (`drm_gem_release()`).
  public func close(_ file: PanfrostFile) throws {
    for handle in file.handles.keys.sorted() { try gemClose(file, handle) }
  }

  /// `panfrost_ioctl_create_bo()` for a plain BO: `panfrost_gem_create()` (a shmem GEM
  /// object of `size` bytes), `drm_gem_handle_create()`, whose `panfrost_gem_open()` adds the
  /// file's mapping and maps it (`panfrost_mmu_map()` → `drm_gem_shmem_get_pages_sgt()`), so
  /// the pages are allocated now, with the mapping's `__GFP_RETRY_MAYFAIL`.
  ///
  /// - Returns: the new handle.
  /// - Throws: the `-errno` of a failed step (`-ENOMEM` when the pages cannot be had); the
  ///   BO is then freed again.
  public func createBO(_ file: PanfrostFile, size: Int, name: String? = nil) throws -> PanfrostGEMObject {
    let node = lists.makeNode(name ?? "bo\(objects.count)")
    let bo = PanfrostGEMObject(
      base: DRMGemShmemObject(machine: machine, name: lists.names[node.index], size: size, madvList: node))
    objects.append(bo)
    objectByNode.append(bo)
    bo.refcount = 1
    let ret = try panfrostGemOpen(bo, file)
    if let err = Errno(returnValue: ret) {
      try drmGemObjectPut(bo)
      throw err
    }
    bo.refcount += 1
    file.handles[file.nextHandle] = bo
    file.nextHandle += 1
    try drmGemObjectPut(bo)  // "drop reference from allocate - handle holds it now"
    return bo
  }

  /// The handle of `bo` in `file`, if it has one.
  public func handle(of bo: PanfrostGEMObject, in file: PanfrostFile) -> UInt32? {
    file.handles.first { $0.value === bo }?.key
  }

  /// Gives `file` a handle to `bo` too (a flink or same-device prime import): another
  /// `panfrost_gem_open()`, so the BO has a second mapping and DONTNEED is refused.
  @discardableResult
  public func share(_ bo: PanfrostGEMObject, with file: PanfrostFile) throws -> UInt32 {
    let ret = try panfrostGemOpen(bo, file)
    if let err = Errno(returnValue: ret) { throw err }
    bo.refcount += 1
    defer { file.nextHandle += 1 }
    file.handles[file.nextHandle] = bo
    return file.nextHandle
  }

  /// `panfrost_gem_open()`: adds the file's mapping and maps it for the GPU, which gets the
  /// pages (`panfrost_mmu_map()` → `drm_gem_shmem_get_pages_sgt()`). Returns 0 or -errno.
  func panfrostGemOpen(_ bo: PanfrostGEMObject, _ file: PanfrostFile) throws -> Int {
    let ret = try bo.base.drmGemShmemGetPagesSGT(machine)
    if ret != 0 { return ret }
    try bo.mappingsLock.lock()
    bo.mappings.append(PanfrostGEMMapping(mmu: file.mmu, active: true))
    bo.mappingsLock.unlock()
    return 0
  }

  /// `drm_gem_object_lookup()`: the BO behind `handle`, with a reference the caller drops
  /// with ``drmGemObjectPut(_:)``.
  public func drmGemObjectLookup(_ file: PanfrostFile, _ handle: UInt32) -> PanfrostGEMObject? {
    guard let bo = file.handles[handle] else { return nil }
    bo.refcount += 1
    return bo
  }

  /// `drm_gem_object_put()`: the last reference frees the BO (`panfrost_gem_free_object()`).
  public func drmGemObjectPut(_ bo: PanfrostGEMObject) throws {
    precondition(bo.refcount > 0 && !bo.isFreed, "drm_gem_object_put() of a freed \(bo)")
    bo.refcount -= 1
    if bo.refcount == 0 { try panfrostGemFreeObject(bo) }
  }

  /// Runs an ioctl's `body` holding the reference `drm_gem_object_lookup()` took, then puts
  /// it (`drm_gem_object_put()`), which frees the BO if it was the last. After a throw (a
  /// ``KernelHalt``) the kernel's task would die holding it; the model puts it anyway, so a
  /// test can still tear down.
  public func droppingReference<T>(_ bo: PanfrostGEMObject, _ body: () throws -> T) throws -> T {
    let value: T
    do {
      value = try body()
    } catch {
      if !bo.isFreed && bo.refcount > 0 { try? drmGemObjectPut(bo) }
      throw error
    }
    try drmGemObjectPut(bo)
    return value
  }

  // MARK: Concurrency

  /// A place in an ioctl where another thread of the same process may run: between the
  /// lookup and the locks, or after the locks are dropped and before the lookup's reference
  /// is put. (Inside `shrinker_lock` and `mappings.lock` a concurrent `GEM_CLOSE` would
  /// block on `mappings.lock` in `panfrost_gem_teardown_mapping()`.)
  public enum PreemptionPoint: String, Hashable, Sendable, CaseIterable {
    case madviseAfterLookup = "afterLookup"
    case madviseAfterUnlock = "afterUnlock"
  }

  /// A `DRM_IOCTL_GEM_CLOSE` of `handle` in `file` that another thread runs when the current
  /// ioctl reaches `point`; cleared once it ran.
  public var pendingClose: (point: PreemptionPoint, file: PanfrostFile, handle: UInt32)?

  /// Runs what another thread does at `point`, if anything (``pendingClose``).
  public func preemptionPoint(_ point: PreemptionPoint) throws {
    guard let close = pendingClose, close.point == point else { return }
    pendingClose = nil
    try gemClose(close.file, close.handle)
  }

  /// `DRM_IOCTL_GEM_CLOSE` → `drm_gem_handle_delete()`: `panfrost_gem_close()` removes the
  /// file's mapping (`panfrost_gem_teardown_mapping()`), then the handle's reference is put.
  public func gemClose(_ file: PanfrostFile, _ handle: UInt32) throws {
    guard let bo = file.handles.removeValue(forKey: handle) else { throw Errno.EINVAL }
    try bo.mappingsLock.lock()
    if let i = bo.mappings.firstIndex(where: { $0.mmu == file.mmu }) { bo.mappings.remove(at: i) }
    bo.mappingsLock.unlock()
    try drmGemObjectPut(bo)
  }

  /// `panfrost_gem_free_object()` (`panfrost_gem.c`): "Make sure the BO is no longer
  /// inserted in the shrinker list before taking care of the destruction itself":
  /// `list_del_init(&bo->base.madv_list)` under `shrinker_lock`; `WARN_ON_ONCE()` if
  /// mappings remain; then `drm_gem_shmem_free_object()`.
  ///
  /// The `list_del_init()` is the `list_del` a corrupted `shrinker_list` meets when a BO is
  /// freed: with DEBUG_LIST its checks may report and refuse the unlink.
  func panfrostGemFreeObject(_ bo: PanfrostGEMObject) throws {
    try shrinkerLock.lock()
    defer { shrinkerLock.unlock() }
    try listDelInit(bo.base.madvList)
    if !bo.mappings.isEmpty {
      machine.dmesg.modelNote("WARN_ON_ONCE(!list_empty(&bo->mappings.list)) in panfrost_gem_free_object()")
    }
    bo.base.drmGemShmemFreeObject(machine)
    bo.isFreed = true
  }

  // MARK: ioctls and the GPU

  /// `DRM_IOCTL_PANFROST_MADVISE` through the tree's ``PanfrostFunctions/panfrostIoctlMadvise``.
  /// Returns the ioctl's return value and `args.retained`.
  public func madvise(_ file: PanfrostFile, _ handle: UInt32, _ madv: UInt32) throws -> (ret: Int, retained: UInt32) {
    var args = DRMPanfrostMadvise(handle: handle, madv: madv)
    let ret = try functions.panfrostIoctlMadvise(self, &args, file)
    return (ret, args.retained)
  }

  /// `madvise()` for a BO of `file`, by object.
  public func madvise(_ file: PanfrostFile, _ bo: PanfrostGEMObject, _ madv: UInt32) throws -> (
    ret: Int, retained: UInt32
  ) {
    guard let handle = handle(of: bo, in: file) else { preconditionFailure("\(bo) has no handle in this file") }
    return try madvise(file, handle, madv)
  }

  /// A job using `bo` was pushed (`panfrost_lookup_bos()`: a reference and
  /// `atomic_inc(&bo->gpu_usecount)`).
  public func jobStart(_ bo: PanfrostGEMObject) {
    precondition(!bo.isFreed)
    bo.refcount += 1
    bo.gpuUsecount += 1
  }

  /// The job finished and was cleaned up (`panfrost_job_cleanup()`: `atomic_dec()` and the
  /// reference put).
  public func jobDone(_ bo: PanfrostGEMObject) throws {
    precondition(bo.gpuUsecount > 0)
    bo.gpuUsecount -= 1
    try drmGemObjectPut(bo)
  }

  /// `WARN_ON_ONCE(condition)` at `site`: logs the first time the condition holds (the
  /// kernel's splat with file and line is reduced to a `[model]` line naming the check) and
  /// returns the condition.
  public func warnOnOnce(_ condition: Bool, _ site: String) -> Bool {
    if condition && warnedOnce.insert(site).inserted { machine.dmesg.modelNote("WARN_ON_ONCE(\(site))") }
    return condition
  }

  // MARK: Lists

  /// `list_add_tail(new, head)` in the device's list memory; DEBUG_LIST reports go to dmesg.
  public func listAddTail(_ new: ListNodeID, _ head: ListNodeID) throws {
    let mark = lists.reports.count
    defer { forwardListReports(from: mark) }
    try lists.listAddTail(new, head)
  }

  /// `list_move_tail(list, head)` in the device's list memory; DEBUG_LIST reports go to dmesg.
  public func listMoveTail(_ list: ListNodeID, _ head: ListNodeID) throws {
    let mark = lists.reports.count
    defer { forwardListReports(from: mark) }
    try lists.listMoveTail(list, head)
  }

  /// `list_del_init(entry)` in the device's list memory; DEBUG_LIST reports go to dmesg.
  public func listDelInit(_ entry: ListNodeID) throws {
    let mark = lists.reports.count
    defer { forwardListReports(from: mark) }
    try lists.listDelInit(entry)
  }

  /// `list_for_each_entry_safe(shmem, tmp, &pfdev->shrinker_list, madv_list)`, calling
  /// `body` with the list memory and the BO (`container_of()`); `body` returns `false` to
  /// `break`. The shrinker's count uses `list_for_each_entry()`, which reads the same
  /// pointers one step later; its body unlinks nothing, so the walk is the same.
  ///
  /// - Throws: ``KernelHalt/lockup(_:)`` for a walk that would never end, the oops of a bad
  ///   pointer, and, when the walk reaches a BO that was already freed, an oops marked
  ///   `[model]`: a KASAN kernel reports a use-after-free there; what a kernel without KASAN
  ///   does with the freed memory is UNVERIFIED, so the model stops.
  func listForEachEntrySafe(
    _ what: String, _ body: (inout ListHeads, PanfrostGEMObject) throws -> Bool
  ) throws {
    let mark = lists.reports.count
    defer { forwardListReports(from: mark) }
    try lists.forEachSafe(shrinkerList, what) { l, node in
      guard node.index < objectByNode.count, let bo = objectByNode[node.index] else {
        preconditionFailure("node \(node.index) of shrinker_list is not a BO")
      }
      if bo.isFreed {
        throw KernelHalt.oops(
          message:
            "[model] use-after-free: \(what) reached \(bo.name), already freed, through shrinker_list "
            + "(KASAN: \"BUG: KASAN: use-after-free in \(what)\"; without KASAN the outcome is UNVERIFIED)",
          callChain: [what])
      }
      return try body(&l, bo)
    }
  }

  /// Prints what the list checks reported since `mark` into the kernel log: `WARN()` text at
  /// `KERN_WARNING`, or with `CONFIG_BUG_ON_DATA_CORRUPTION` the `pr_err()` before `BUG()`.
  private func forwardListReports(from mark: Int) {
    let level: LogLevel = lists.config.bugOnDataCorruption ? .err : .warning
    for line in lists.reports[mark...] { machine.dmesg.printk(level, line) }
  }

  /// The BOs on `shrinker_list` in forward order, as far as a walk gets, and how the walk ends.
  public func shrinkerListWalk() -> ListHeads.Walk { lists.walk(shrinkerList) }

  /// The BO whose `madv_list` is `node`, if any.
  public func object(at node: ListNodeID) -> PanfrostGEMObject? {
    node.index < objectByNode.count ? objectByNode[node.index] : nil
  }

  // MARK: Content

  /// The GPU (or CPU through a mapping) writes the whole BO: page `i` gets
  /// `pattern(seed, node index, i)`.
  public func fill(_ bo: PanfrostGEMObject, seed: UInt64) {
    guard let pages = bo.base.pages else { preconditionFailure("fill of \(bo) without pages") }
    for (i, page) in pages.enumerated() {
      machine.writePage(page, .pattern(seed: seed, object: bo.base.madvList.index, index: i))
    }
  }

  /// Whether the BO still holds what ``fill(_:seed:)`` wrote; `false` once its pages are gone.
  public func contentIntact(_ bo: PanfrostGEMObject, seed: UInt64) -> Bool {
    guard let pages = bo.base.pages else { return false }
    return pages.enumerated().allSatisfy { i, page in
      machine.mem[page].content == .pattern(seed: seed, object: bo.base.madvList.index, index: i)
    }
  }
}
