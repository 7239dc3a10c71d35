/// A named fault-injection point.
///
/// Kernel points keep the kernel's attribute name (`fail_page_alloc`, `backup_fault_inject`);
/// points the kernel does not have but the model needs to sweep every failure path are marked
/// ``isModelOnly``.
public struct FaultPoint: Hashable, Codable, Sendable, CustomStringConvertible {
  /// The attribute name, as under `/sys/kernel/debug/`.
  public let name: String
  /// Whether the kernel has no such attribute and the point exists only in the model.
  public let isModelOnly: Bool

  public init(_ name: String, isModelOnly: Bool) {
    self.name = name
    self.isModelOnly = isModelOnly
  }

  /// `fail_page_alloc` (`mm/fail_page_alloc.c`, `should_fail_alloc_page()`).
  public static let failPageAlloc = FaultPoint("fail_page_alloc", isModelOnly: false)
  /// Model-only: `shmem_read_folio_gfp()` returning an error before it allocates.
  public static let shmemRead = FaultPoint("shmem_read_folio_gfp", isModelOnly: true)
  /// Model-only: the page cache's bookkeeping allocation in `shmem_insert_folio()` failing
  /// (`xas_nomem()`), one of the named assumptions of the zero-copy model.
  public static let shmemInsertNode = FaultPoint("shmem_insert_folio:xas_nomem", isModelOnly: true)
  /// Model-only: the swap device refusing a slot (`folio_alloc_swap()` failing).
  public static let swapAlloc = FaultPoint("folio_alloc_swap", isModelOnly: true)
  /// Model-only: a hard error from the swap write (`swap_writeout()` returning -EIO).
  public static let swapWriteout = FaultPoint("swap_writeout", isModelOnly: true)

  public var description: String { isModelOnly ? "\(name) (model-only)" : name }
}

/// The filters of `fail_page_alloc` (`ignore-gfp-wait`, `ignore-gfp-highmem`, `min-order`
/// under `/sys/kernel/debug/fail_page_alloc/`).
public struct FailPageAllocFilter: Hashable, Codable, Sendable {
  /// Skip allocations that may direct-reclaim (`ignore-gfp-wait`).
  public var ignoreGFPReclaim: Bool
  /// Skip `__GFP_HIGHMEM` allocations (`ignore-gfp-highmem`).
  public var ignoreGFPHighmem: Bool
  /// Skip orders below this (`min-order`).
  public var minOrder: Int

  public init(ignoreGFPReclaim: Bool, ignoreGFPHighmem: Bool, minOrder: Int) {
    self.ignoreGFPReclaim = ignoreGFPReclaim
    self.ignoreGFPHighmem = ignoreGFPHighmem
    self.minOrder = minOrder
  }

  /// The kernel's defaults: only non-reclaiming, non-highmem allocations of order 1 and up.
  public static let kernelDefault = FailPageAllocFilter(
    ignoreGFPReclaim: true, ignoreGFPHighmem: true, minOrder: 1)
  /// Every allocation but `__GFP_NOFAIL` is a candidate, for sweeps.
  public static let none = FailPageAllocFilter(
    ignoreGFPReclaim: false, ignoreGFPHighmem: false, minOrder: 0)
}

/// A fault attribute (`struct fault_attr`, `lib/fault-inject.c`) reduced to its
/// deterministic modes.
public struct FaultAttr: Hashable, Codable, Sendable {
  /// Fail exactly the n-th call (1-based) after arming and no other, like writing n to
  /// `/proc/self/fail-nth`: `should_fail_ex()` decrements `current->fail_nth` on every call
  /// and fails the one that brings it to 0, whatever `times` and `space` say. The kernel
  /// counts the calls of the task across all attributes; the model counts per point, so a
  /// sweep can fail "the k-th allocation" or "the k-th shmem read".
  public var failNth: Int?
  /// `space` with `probability` 100 and `interval` 1: while the remaining space is larger
  /// than a call's `size`, the call passes and its size is subtracted; after that calls
  /// fail. `nil` disables this mode.
  public var space: Int?
  /// The most failures `space` mode injects; -1 is unlimited, as in the kernel.
  public var times: Int

  public init(failNth: Int? = nil, space: Int? = nil, times: Int = -1) {
    self.failNth = failNth
    self.space = space
    self.times = times
  }

  /// Fails only the n-th call.
  public static func nth(_ n: Int) -> FaultAttr { FaultAttr(failNth: n) }
  /// Lets calls through while more than their size of `space` is left, then fails them,
  /// `times` times at most.
  public static func after(space: Int, times: Int = -1) -> FaultAttr {
    FaultAttr(space: space, times: times)
  }
}

/// The set of armed fault points and how often each was reached.
///
/// `should_fail()` style: every call site asks ``shouldFail(_:)``, which counts the call and
/// answers from the point's ``FaultAttr``. Everything is deterministic: no probabilities, no
/// time, so a failing run replays exactly. A sweep first runs a scenario unarmed to learn
/// ``calls(_:)``, then arms `failNth` = 1 ... that count.
public struct FaultInjection: Sendable {
  private var attrs: [FaultPoint: FaultAttr] = [:]
  private var spaceLeft: [FaultPoint: Int] = [:]
  /// Calls per point, in first-call order, searched linearly: only a handful of points exist,
  /// and ``shouldFail(_:size:)`` runs once per page in backup and restore, where hashing the
  /// point's name in a dictionary was a measurable part of the time (`bo-repro bench`).
  private var callCounts: [(point: FaultPoint, count: Int)] = []
  private var injectedCounts: [FaultPoint: Int] = [:]
  /// ``calls(_:)`` when the point was armed: fail-nth counts from there.
  private var armedAt: [FaultPoint: Int] = [:]
  /// Whether `CONFIG_FAULT_INJECTION` is built in. When `false`, `should_fail()` is the
  /// kernel's stub that is always false, even for armed points.
  public var configured: Bool

  public init(configured: Bool = true) { self.configured = configured }

  /// Arms `point` with `attr`.
  public mutating func arm(_ point: FaultPoint, _ attr: FaultAttr) {
    attrs[point] = attr
    armedAt[point] = calls(point)
    spaceLeft[point] = attr.space
  }

  /// Disarms `point`.
  public mutating func disarm(_ point: FaultPoint) {
    attrs[point] = nil
    spaceLeft[point] = nil
  }

  /// `should_fail(attr, size)`: counts the call and reports whether this one fails.
  public mutating func shouldFail(_ point: FaultPoint, size: Int = 1) -> Bool {
    let n: Int
    if let i = callCounts.firstIndex(where: { $0.point == point }) {
      callCounts[i].count += 1
      n = callCounts[i].count
    } else {
      callCounts.append((point, 1))
      n = 1
    }
    guard configured, !attrs.isEmpty, let attr = attrs[point] else { return false }
    var fail = attr.failNth == n - armedAt[point, default: 0]
    if !fail, let left = spaceLeft[point] {
      if left > size {
        spaceLeft[point] = left - size
      } else {
        fail = attr.times < 0 || injectedCounts[point, default: 0] < attr.times
      }
    }
    if fail { injectedCounts[point, default: 0] += 1 }
    return fail
  }

  /// How many times `point` was reached.
  public func calls(_ point: FaultPoint) -> Int { callCounts.first { $0.point == point }?.count ?? 0 }

  /// How many failures `point` injected.
  public func injected(_ point: FaultPoint) -> Int { injectedCounts[point, default: 0] }
}
