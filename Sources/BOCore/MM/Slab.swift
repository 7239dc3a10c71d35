/// A `kmalloc()`ed object, by the page that backs it in the model.
public struct KmallocObject: Hashable, Sendable {
  /// The slab page the model allocated for this object.
  public let page: Page
  /// The requested size in bytes.
  public let size: Int
}

extension FaultPoint {
  /// `failslab` (`mm/failslab.c`, `should_failslab()`): a `kmalloc()` that fails before it
  /// touches the page allocator.
  public static let failslab = FaultPoint("failslab", isModelOnly: false)
}

extension Machine {
  /// `kmalloc(size, gfp)` / `kzalloc()` of a small object, e.g. `struct ttm_pool_tt_restore`.
  ///
  /// Model simplification: the slab allocator is not modelled, so every object gets a fresh
  /// order-0 page from the page allocator with the caller's gfp, as if its kmalloc cache had
  /// no free object and had to grow (`allocate_slab()`). That is the case that matters under
  /// memory pressure: the request then reclaims, fails or OOM-kills exactly as the gfp says.
  /// The real slab may still have a free object and not allocate at all. `failslab`
  /// (`should_failslab()`) is checked first; `__GFP_NOFAIL` is exempt, as in the kernel.
  /// Returns `nil` (NULL) on failure.
  public func kmalloc(_ size: Int, _ gfp: GFP, what: String) throws -> KmallocObject? {
    precondition(size > 0 && size <= PAGE_SIZE, "kmalloc() model handles small objects only")
    if !gfp.contains(.__GFP_NOFAIL) && faults.shouldFail(.failslab, size: size) { return nil }
    guard let page = try allocPages(gfp, order: 0, owner: .other("kmalloc: \(what)")) else { return nil }
    return KmallocObject(page: page, size: size)
  }

  /// `kfree()`.
  public func kfree(_ object: KmallocObject) {
    freePages(object.page, order: 0)
  }
}
