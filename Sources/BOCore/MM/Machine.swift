/// How a ``Machine`` is built: memory, swap, reserves and kernel config options.
public struct MachineConfig: Hashable, Codable, Sendable {
  /// RAM in 4 KiB pages.
  public var memoryPages: Int
  /// Swap space in 4 KiB pages; 0 for none.
  public var swapPages: Int
  /// Zone watermarks; ``Watermarks/none`` leaves no reserves.
  public var watermarks: Watermarks
  /// `CONFIG_FAULT_INJECTION`: without it every `should_fail()` is false.
  public var faultInjection: Bool

  public init(
    memoryPages: Int, swapPages: Int = 0, watermarks: Watermarks = .none,
    faultInjection: Bool = true
  ) {
    self.memoryPages = memoryPages
    self.swapPages = swapPages
    self.watermarks = watermarks
    self.faultInjection = faultInjection
  }
}

/// One `alloc_pages()` call, for ``Machine/allocationTrace``.
public struct AllocationRecord: Hashable, Sendable, CustomStringConvertible {
  public let gfp: GFP
  public let order: Int
  public let owner: PageOwner
  public let succeeded: Bool

  public var description: String {
    "order:\(order) mode:\(gfp.hexString)(\(gfp)) for \(owner): \(succeeded ? "ok" : "failed")"
  }
}

/// A simulated machine: one memory zone, one swap device, tasks, registered shrinkers, shmem
/// files, the kernel log and counters.
///
/// Everything a modelled kernel function touches goes through a `Machine`, as kernel code
/// goes through global state; the model's functions are methods or take the machine as a
/// parameter. It is a class because reclaim calls back into shrinkers that hold objects which
/// in turn allocate from the same machine. A machine is not thread-safe and not `Sendable`:
/// each test builds its own. Everything is deterministic.
public final class Machine {
  /// The configuration the machine was built with.
  public let config: MachineConfig
  /// The zone and its frames. Read-only outside the module: pages change through the
  /// allocator and the named operations below, as kernel code changes `struct page`.
  ///
  /// The hot stored properties below are `@exclusivity(unchecked)`: the model runs on one
  /// thread, no access to them overlaps (the whole test suite passed with the checks on), and
  /// the dynamic check on every access to a class property was about a third of the backup
  /// and restore time in `bo-repro bench`.
  @exclusivity(unchecked) public internal(set) var mem: PhysicalMemory
  /// The swap device.
  @exclusivity(unchecked) public internal(set) var swap: SwapDevice
  /// The kernel log.
  public var dmesg = Dmesg()
  /// `/proc/vmstat`-style counters; changed through ``modNodePageState(_:_:)`` and the
  /// modelled functions.
  @exclusivity(unchecked) public internal(set) var vmstat = VMStat()
  /// Armed fault points.
  @exclusivity(unchecked) public var faults: FaultInjection
  /// The `fail_page_alloc` filters; the kernel's defaults unless a test widens them.
  public var failPageAllocFilter = FailPageAllocFilter.kernelDefault
  /// All tasks in creation order, which is the order `for_each_process()` visits them.
  public internal(set) var tasks: [Task] = []
  /// The task on whose behalf the code runs (`current`).
  public internal(set) var currentPID: PID
  /// Registered shrinkers, in registration order.
  var shrinkers: [any Shrinker] = []
  /// shmem files by id; `nil` once released.
  @exclusivity(unchecked) var shmemFiles: [ShmemFile?] = []
  /// The reclaim LRU of shmem folios, oldest first (see `shrinkShmemLRU`).
  @exclusivity(unchecked) var shmemLRU: [ShmemLRUEntry] = []
  var shmemLRUHead = 0
  /// The largest folio order a new shmem file may use: `shmem_enabled` / the `huge=` mount
  /// option of the internal shm mount reduced to one number; 0 (`never`, the default) means
  /// small folios only.
  public var shmemLargeFolioOrder = 0
  /// Every `alloc_pages()` call and its outcome, while not `nil`; a test sets it to `[]` to
  /// see which gfp each path allocates with.
  public var allocationTrace: [AllocationRecord]?
  /// The event counters of ``statistics``.
  @exclusivity(unchecked) var counters = StatisticsCounters()
  /// Folios unlocked while not locked (see ``folioUnlock(_:)``), in order.
  public internal(set) var folioLockViolations: [Page] = []
  private var nextPID: PID = 1000

  /// Boots a machine. It has one task, `current`, named `comm`, with no memory.
  public init(_ config: MachineConfig, current comm: String = "bo-repro") {
    self.config = config
    mem = PhysicalMemory(totalPages: config.memoryPages, watermarks: config.watermarks)
    swap = SwapDevice(slots: config.swapPages)
    faults = FaultInjection(configured: config.faultInjection)
    currentPID = nextPID
    tasks.append(
      Task(
        pid: nextPID, comm: comm, uid: 1000, oomScoreAdj: 0, anonPages: [], pgtablesBytes: 0,
        isKernelThread: false))
    nextPID += 1
  }

  // MARK: Tasks

  /// `current`.
  public var current: Task { tasks[taskIndex(currentPID)!] }

  /// The task with `pid`, if it exists.
  public func task(_ pid: PID) -> Task? { taskIndex(pid).map { tasks[$0] } }

  func taskIndex(_ pid: PID) -> Int? { tasks.firstIndex { $0.pid == pid } }

  /// Starts a task that faults in `rssPages` anonymous pages.
  ///
  /// The pages are taken straight from the free lists, without reclaim or the OOM killer, so
  /// that a scenario's setup is exact; if memory does not suffice, setup fails with
  /// `-ENOMEM` and nothing is allocated.
  @discardableResult
  public func spawnTask(
    _ comm: String, rssPages: Int, oomScoreAdj: Int16 = 0, uid: UInt32 = 1000,
    pgtablesBytes: Int = 0
  ) throws -> PID {
    let pid = nextPID
    nextPID += 1
    var pages: [Page] = []
    pages.reserveCapacity(rssPages)
    for _ in 0..<rssPages {
      guard
        let page = mem.getPageFromFreelist(
          order: 0, flags: .noWatermarks, gfp: .GFP_HIGHUSER_MOVABLE, owner: .task(pid: pid))
      else {
        for page in pages { mem.freePages(page, order: 0) }
        throw Errno.ENOMEM
      }
      pages.append(page)
    }
    tasks.append(
      Task(
        pid: pid, comm: comm, uid: uid, oomScoreAdj: oomScoreAdj, anonPages: pages,
        pgtablesBytes: pgtablesBytes, isKernelThread: false))
    return pid
  }

  /// Starts a kernel thread (no memory, never an OOM victim), e.g. `kswapd0`.
  @discardableResult
  public func spawnKernelThread(_ comm: String) -> PID {
    let pid = nextPID
    nextPID += 1
    tasks.append(
      Task(
        pid: pid, comm: comm, uid: 0, oomScoreAdj: 0, anonPages: [], pgtablesBytes: 0,
        isKernelThread: true))
    return pid
  }

  /// Runs `body` with `pid` as `current`, as if that task made the calls.
  public func run<T>(as pid: PID, _ body: () throws -> T) rethrows -> T {
    precondition(taskIndex(pid) != nil, "no task \(pid)")
    let saved = currentPID
    currentPID = pid
    defer { currentPID = saved }
    return try body()
  }

  /// Exits a task and frees its memory.
  ///
  /// - Precondition: `pid` exists and is not `current`.
  public func exitTask(_ pid: PID) {
    precondition(pid != currentPID, "the current task cannot exit while it runs")
    guard let i = taskIndex(pid) else { preconditionFailure("no task \(pid)") }
    for page in tasks[i].anonPages { mem.freePages(page, order: 0) }
    tasks.remove(at: i)
  }

  // MARK: Shrinkers

  /// `shrinker_register()`.
  public func registerShrinker(_ shrinker: any Shrinker) {
    shrinkers.append(shrinker)
  }

  /// `shrinker_free()`.
  public func unregisterShrinker(_ shrinker: any Shrinker) {
    shrinkers.removeAll { $0 === shrinker }
  }

  // MARK: struct page

  /// Starts a new measurement of ``PhysicalMemory/peakPagesInUse`` from the pages in use now.
  public func resetPeakPagesInUse() { mem.resetPeak() }

  /// Starts a new measurement of ``PhysicalMemory/lowestFreePages`` from the pages free now.
  public func resetLowestFreePages() { mem.resetLowest() }

  /// `memalloc_noreclaim_save()` ... `memalloc_noreclaim_restore()`: runs `body` with
  /// `PF_MEMALLOC` set on `current`, as reclaim runs shrinkers, so its allocations may use the
  /// reserves (unless `__GFP_NOMEMALLOC`) and never enter reclaim themselves.
  public func memallocNoreclaim<T>(_ body: () throws -> T) rethrows -> T {
    let i = taskIndex(currentPID)!
    let saved = tasks[i].inMemallocScope
    tasks[i].inMemallocScope = true
    defer {
      if let j = taskIndex(currentPID) { tasks[j].inMemallocScope = saved }
    }
    return try body()
  }

  /// `copy_highpage(to, from)`: copies one page's content and counts the bytes copied.
  public func copyHighpage(to: Page, from: Page) {
    mem[to].content = mem[from].content
    vmstat.bytesCopied += PAGE_SIZE
    counters.pagesCopied += 1
  }

  /// A write of `content` to the whole page, as a GPU or CPU filling a buffer would.
  public func writePage(_ page: Page, _ content: PageContent) {
    precondition(!mem[page].isFree, "write to free page \(page)")
    mem[page].content = content
  }

  /// `set_page_private(page, value)`.
  public func setPagePrivate(_ page: Page, _ value: UInt) {
    mem[page].private = value
  }

  /// `split_page(page, order)`: see ``PhysicalMemory/splitPage(_:order:)``.
  public func splitPage(_ page: Page, order: Int) {
    mem.splitPage(page, order: order)
    counters.splits += 1
  }

  /// `take_page_off_buddy()`: pins one free frame, to build fragmented memory. Returns
  /// `false` if the frame is not free.
  @discardableResult
  public func takePageOffBuddy(_ page: Page, owner: PageOwner) -> Bool {
    mem.takePageOffBuddy(page, owner: owner)
  }

  /// A node state item `mod_node_page_state()` can change.
  public enum NodeStatItem: Sendable {
    /// `NR_GPU_ACTIVE`.
    case nrGPUActive
    /// `NR_GPU_RECLAIM`.
    case nrGPUReclaim
  }

  /// Records that the kernel's accounting left `NR_GPU_ACTIVE` (`reclaim` false) or
  /// `NR_GPU_RECLAIM` `delta` away from the pages it describes (``VMStat/nrGPUActiveGap``).
  public func noteGPUAccountingGap(reclaim: Bool, _ delta: Int) {
    if reclaim { vmstat.nrGPUReclaimGap += delta } else { vmstat.nrGPUActiveGap += delta }
  }

  /// `mod_node_page_state(pgdat, item, delta)`.
  public func modNodePageState(_ item: NodeStatItem, _ delta: Int) {
    switch item {
    case .nrGPUActive: vmstat.nrGPUActive += delta
    case .nrGPUReclaim: vmstat.nrGPUReclaim += delta
    }
  }
}
