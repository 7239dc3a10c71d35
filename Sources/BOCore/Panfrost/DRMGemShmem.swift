/// A shmem-backed GEM object (`struct drm_gem_shmem_object` with its `struct drm_gem_object`
/// base), reduced to what madvise, purge and the panfrost shrinker look at.
///
/// Transliterated from `drivers/gpu/drm/drm_gem_shmem_helper.c` and
/// `include/drm/drm_gem_shmem_helper.h` of the 2022 kernels the panfrost fix was written for
/// (the semantics read at a 5.10-era copy; 5.17+ pass the `drm_gem_shmem_object` instead of
/// the `drm_gem_object` to these helpers, with the same logic). Newer kernels (6.x) moved the
/// helpers under the reservation lock (`drm_gem_shmem_madvise_locked()`) and later gave
/// panfrost the generic shmem shrinker; none of that is modelled.
///
/// The backing store is a shmem file of the object's size on the ``Machine``: getting the
/// pages reads every index (`shmem_read_mapping_page()`) and keeps a reference on each;
/// purging truncates the file (`shmem_truncate_range()`), which frees the memory now.
///
/// Not modelled: the DMA mapping and the `sg_table` itself (only whether it exists), vmap,
/// userspace mmaps and the fake mmap offset, dma-buf export and import (flags only),
/// `mapping_set_unevictable()` (the pinned pages are skipped by reclaim anyway, because the
/// page array holds a reference), and the `kvmalloc()` of the page array.
public final class DRMGemShmemObject: CustomStringConvertible {
  /// A name for reports and list dumps (`bo0`, ...).
  public let name: String
  /// `base.size`, page aligned, in bytes.
  public let size: Int
  /// `base.filp`: the shmem file backing the object.
  public let filp: ShmemFileID
  /// `pages`: the page array while the pages are held; `nil` otherwise.
  public internal(set) var pages: [Page]?
  /// `pages_use_count`.
  public internal(set) var pagesUseCount = 0
  /// `sgt != NULL`: the pages are mapped for the GPU (`drm_gem_shmem_get_pages_sgt()`).
  public internal(set) var hasSGT = false
  /// `vmap_use_count`: kernel virtual mappings; a vmapped object is not purgeable.
  public var vmapUseCount = 0
  /// `base.dma_buf != NULL`: exported as a dma-buf; never purgeable.
  public var exportedDmaBuf = false
  /// `base.import_attach != NULL`: imported from a dma-buf; never purgeable.
  public var importAttach = false
  /// `madv`: 0 is WILLNEED, a positive value DONTNEED, -1 purged ("object is purged").
  /// Once purged it stays purged.
  public internal(set) var madv: Int32 = 0
  /// `madv_list`: the `list_head` the driver links into its shrinker list. It lives in the
  /// device's ``PanfrostDevice/lists``.
  public let madvList: ListNodeID
  /// `pages_lock`.
  public var pagesLock = KernelMutex("pages_lock")

  /// `__drm_gem_shmem_create(dev, size, false)`: `drm_gem_object_init()` creates the shmem
  /// file (`shmem_file_setup()`), and the helper sets its gfp mask to
  /// `GFP_HIGHUSER | __GFP_RETRY_MAYFAIL | __GFP_NOWARN` ("Our buffers are kept pinned, so
  /// allocating them from the MOVABLE zone is a really bad idea"). `madvList` is the
  /// `INIT_LIST_HEAD(&shmem->madv_list)` node, which the caller allocates in its list memory.
  public init(machine: Machine, name: String, size: Int, madvList: ListNodeID) {
    precondition(size > 0, "a GEM object has a size")
    self.name = name
    self.size = (size + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE
    self.madvList = madvList
    filp = machine.shmemFileSetup("drm mm object \(name)", size: self.size)
    machine.mappingSetGFPMask(filp, GFP.GFP_HIGHUSER.union([.__GFP_RETRY_MAYFAIL, .__GFP_NOWARN]))
  }

  public var description: String { name }

  /// The object's size in pages (`obj->size >> PAGE_SHIFT`).
  public var numPages: Int { size / PAGE_SIZE }

  /// `drm_gem_shmem_is_purgeable()` (`include/drm/drm_gem_shmem_helper.h`): `madv > 0`, no
  /// vmap user, an sgt exists, and the object is neither exported nor imported.
  public var isPurgeable: Bool {
    madv > 0 && vmapUseCount == 0 && hasSGT && !exportedDmaBuf && !importAttach
  }

  /// `drm_gem_shmem_madvise()`: "Update madvise status, returns true if not purged". Under
  /// `pages_lock`, a non-purged object (`madv >= 0`) takes the new value; a purged one keeps
  /// -1. Returns whether the object is not purged afterwards.
  public func drmGemShmemMadvise(_ madv: Int32) throws -> Bool {
    try pagesLock.lock()
    if self.madv >= 0 { self.madv = madv }
    let result = self.madv
    pagesLock.unlock()
    return result >= 0
  }

  /// `drm_gem_get_pages()` (`drivers/gpu/drm/drm_gem.c`): reads every index of the shmem file
  /// with `shmem_read_mapping_page()` (the mapping's gfp) and keeps a reference on each page.
  /// On failure the pages read so far are released and the error returned.
  func drmGemGetPages(_ machine: Machine) throws -> Result<[Page], Errno> {
    var pages: [Page] = []
    pages.reserveCapacity(numPages)
    for i in 0..<numPages {
      switch try errPtr({ try machine.shmemReadFolio(filp, i) }) {
      case .success(let folio):
        pages.append(machine.folioFilePage(folio, i))
      case .failure(let err):
        drmGemPutPages(machine, pages)
        return .failure(err)
      }
    }
    return .success(pages)
  }

  /// `drm_gem_put_pages()`: drops the references `drm_gem_get_pages()` took (dirtying and
  /// marking accessed are not modelled).
  func drmGemPutPages(_ machine: Machine, _ pages: [Page]) {
    for page in pages { machine.folioPut(page) }
  }

  /// `drm_gem_shmem_get_pages_locked()`: the first user gets the pages.
  func drmGemShmemGetPagesLocked(_ machine: Machine) throws -> Int {
    pagesUseCount += 1
    if pagesUseCount > 1 { return 0 }
    switch try drmGemGetPages(machine) {
    case .success(let pages):
      self.pages = pages
      return 0
    case .failure(let err):
      machine.dmesg.printk(.debug, "Failed to get pages (\(err.negated))")
      pagesUseCount = 0
      return err.negated
    }
  }

  /// `drm_gem_shmem_put_pages_locked()`: the last user puts the pages.
  func drmGemShmemPutPagesLocked(_ machine: Machine) {
    if pagesUseCount == 0 {
      machine.dmesg.modelNote("WARN_ON_ONCE(!shmem->pages_use_count) in drm_gem_shmem_put_pages_locked()")
      return
    }
    pagesUseCount -= 1
    if pagesUseCount > 0 { return }
    drmGemPutPages(machine, pages ?? [])
    pages = nil
  }

  /// `drm_gem_shmem_get_pages_sgt()`: pin the pages and map them for the GPU, once. Returns
  /// 0 or a negative errno (the kernel returns the sgt or an `ERR_PTR`).
  public func drmGemShmemGetPagesSGT(_ machine: Machine) throws -> Int {
    if hasSGT { return 0 }
    try pagesLock.lock()
    let ret = try drmGemShmemGetPagesLocked(machine)
    pagesLock.unlock()
    if ret != 0 { return ret }
    hasSGT = true
    return 0
  }

  /// `drm_gem_shmem_purge_locked()`: drops the content for good. `WARN_ON()` if the object is
  /// not purgeable (the kernel goes on anyway); frees the sgt, puts the pages, sets
  /// `madv = -1`, and truncates the shmem file so shmem frees the memory now ("we are called
  /// from OOM"). The mmap offset and userspace mappings it also removes are not modelled.
  ///
  /// - Precondition: `pages_lock` is held.
  public func drmGemShmemPurgeLocked(_ machine: Machine) {
    precondition(pagesLock.locked, "drm_gem_shmem_purge_locked() without pages_lock")
    if !isPurgeable {
      machine.dmesg.modelNote("WARN_ON(!drm_gem_shmem_is_purgeable(shmem)) in drm_gem_shmem_purge_locked()")
    }
    hasSGT = false
    drmGemShmemPutPagesLocked(machine)
    madv = -1
    machine.shmemTruncateRange(filp, start: 0, end: -1)
  }

  /// `drm_gem_shmem_free_object()`: frees the sgt and the pages if still held, then
  /// `drm_gem_object_release()` drops the shmem file (`fput()`), which frees whatever it
  /// still holds.
  public func drmGemShmemFreeObject(_ machine: Machine) {
    if vmapUseCount != 0 {
      machine.dmesg.modelNote("WARN_ON(shmem->vmap_use_count) in drm_gem_shmem_free_object()")
    }
    if hasSGT { hasSGT = false }
    if pages != nil { drmGemShmemPutPagesLocked(machine) }
    if pagesUseCount != 0 {
      machine.dmesg.modelNote("WARN_ON(shmem->pages_use_count) in drm_gem_shmem_free_object()")
    }
    machine.fput(filp)
  }
}
