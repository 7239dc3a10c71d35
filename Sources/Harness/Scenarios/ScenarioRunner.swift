import BOCore
import KernelTrees
import Patches

/// A step that cannot run in the state the scenario reached (e.g. filling a BO that is not
/// populated): the model would trap, so the run stops and says why.
private struct StepFailure: Error {
  let message: String
  init(_ message: String) { self.message = message }
}

extension ScenarioOp {
  /// The name the step records its result under, if any.
  var resultName: String? {
    switch self {
    case .populate(_, _, let r), .check(_, let r), .swapout(_, _, _, _, _, _, let r), .shrink(_, _, _, let r),
      .count(_, let r), .alloc(_, _, _, let r), .madvise(_, _, _, let r), .globalSwapout(_, let r),
      .place(_, _, let r), .evict(_, let r), .backupPage(_, _, _, let r), .copyPage(_, _, _, _, _, let r),
      .insertFolio(_, _, _, _, let r), .restoreAndAlloc(_, _, let r):
      r
    default: nil
    }
  }
}

/// Runs one scenario on one tree: boots the machine, runs the steps, observes, tears down,
/// audits, and compares with both expectations. Deterministic: the machine is.
final class ScenarioRunner {
  let scenario: Scenario
  let tree: KernelTree
  let machine: Machine
  private(set) var ttm: TTMDevice?
  private(set) var panfrost: PanfrostDevice?
  private(set) var file: PanfrostFile?
  private(set) var ttmBOs: [String: TTMBufferObject] = [:]
  private(set) var pfBOs: [String: PanfrostGEMObject] = [:]
  /// BO names in creation order.
  private(set) var boOrder: [String] = []
  private(set) var destroyed: Set<String> = []
  private(set) var seeds: [String: UInt64] = [:]
  private var pids: [String: PID] = [:]
  private var results: [String: String] = [:]
  /// The handles `backupPage` steps recorded, by result name.
  private var handles: [String: UInt] = [:]
  private var allocated: [(page: Page, order: Int)] = []
  private var pinned: [Page] = []
  private(set) var jobs: [String: Int] = [:]
  private var copiedAtReset = 0
  private var statsAtReset: ModelStatistics?
  private var inUseAtReset = 0
  private(set) var halt: KernelHalt?
  private(set) var haltPlace = ""
  private(set) var runError: String?
  /// The fault a fault sweep injects (FaultSweep.swift), armed before the first step.
  private var sweep: SweepFault?

  init(_ scenario: Scenario, tree: KernelTree) {
    self.scenario = scenario
    self.tree = tree
    let s = scenario.setup
    machine = Machine(
      MachineConfig(
        memoryPages: s.memoryPages, swapPages: s.swapPages,
        watermarks: s.watermarkMin > 0 ? Watermarks(min: s.watermarkMin) : .none, faultInjection: s.faultInjection))
    machine.shmemLargeFolioOrder = s.shmemLargeFolioOrder
  }

  /// Starts the scenario's bystander tasks; a task that cannot start is a run error.
  func spawnTasks() {
    for (i, task) in scenario.tasks.enumerated() {
      do {
        try spawn(task)
      } catch {
        runError = "tasks[\(i)]: cannot start \(task.comm): \(error)"
        break
      }
    }
  }

  func run() -> ScenarioResult {
    boot()
    spawnTasks()
    resetCounters()
    if runError == nil { runSteps() }
    var observed = observe()
    if halt == nil && runError == nil {
      teardown(into: &observed)
    } else {
      let why = halt != nil ? "not audited (halted)" : "not audited (the run stopped)"
      observed.values["auditClean"] = why
      observed.values["leaks"] = why
      observed.values["kernelCounters"] = why
    }
    return compare(observed)
  }

  // MARK: Setup

  private func boot() {
    let s = scenario.setup
    switch scenario.driver {
    case .ttm:
      let dev = tree.makeDevice(
        on: machine, pool: TTMPool(usesDMAAlloc: s.poolDMAAlloc, usesDMA32: s.poolDMA32, maxOrder: s.poolOrder),
        driverStyle: s.ttmDriver)
      dev.vramPages = s.vramPages
      if let limit = s.ttmPagesLimit { dev.ttmPagesLimit = limit }
      ttm = dev
    case .panfrost:
      let config: ListDebugConfig =
        !s.debugList
        ? .off
        : s.bugOnDataCorruption
          ? ListDebugConfig(debugList: true, bugOnDataCorruption: true, messages: .withoutPointerSuffix) : .on5x
      let dev = PanfrostDevice(machine: machine, functions: tree.kernelFunctions.panfrost, listDebug: config)
      panfrost = dev
      file = dev.open()
    }
  }

  private func spawn(_ task: ScenarioTask) throws {
    let rss =
      switch task.size {
      case .rssPages(let n): n
      case .leaveFree(let n): max(0, machine.mem.nrFreePages - n)
      }
    pids[task.comm] = try machine.spawnTask(task.comm, rssPages: rss, oomScoreAdj: Int16(task.oomScoreAdj))
  }

  private func resetCounters() {
    copiedAtReset = machine.vmstat.bytesCopied
    statsAtReset = machine.statistics
    machine.allocationTrace = []
    machine.resetPeakPagesInUse()
    inUseAtReset = machine.mem.pagesInUse
  }

  // MARK: Steps

  private func runSteps() {
    for (i, op) in scenario.steps.enumerated() {
      do {
        try perform(op)
      } catch let h as KernelHalt {
        halt = h
        haltPlace = "steps[\(i)] (\(op.name))"
        return
      } catch let err as Errno {
        guard let r = op.resultName else {
          runError = "steps[\(i)] (\(op.name)) failed with \(err) (name a result to record it)"
          return
        }
        results[r] = err.description
      } catch let absent as TTMAbsentFunction {
        // The tree does not have the function the step calls: recorded as `absent`, or,
        // without a result to record it, the run stops with the reason.
        guard let r = op.resultName else {
          runError = "steps[\(i)] (\(op.name)): \(absent)"
          return
        }
        results[r] = "absent"
      } catch let f as StepFailure {
        runError = "steps[\(i)] (\(op.name)): \(f.message)"
        return
      } catch {
        runError = "steps[\(i)] (\(op.name)) failed: \(error)"
        return
      }
    }
  }

  private func record(_ name: String?, _ value: String) {
    if let name { results[name] = value }
  }

  private func ttmBO(_ name: String) throws -> TTMBufferObject {
    guard let bo = ttmBOs[name] else { throw StepFailure("no BO \(name)") }
    return bo
  }

  private func pfBO(_ name: String) throws -> PanfrostGEMObject {
    guard let bo = pfBOs[name], !bo.isFreed else { throw StepFailure("BO \(name) was freed") }
    return bo
  }

  /// Runs `body` as kswapd (a kernel thread named `kswapd0`) in a `PF_MEMALLOC` scope.
  private func asKswapd<T>(_ yes: Bool, _ body: () throws -> T) rethrows -> T {
    guard yes else { return try body() }
    let kswapd = machine.tasks.first { $0.comm == "kswapd0" }?.pid ?? machine.spawnKernelThread("kswapd0")
    return try machine.run(as: kswapd) { try machine.memallocNoreclaim(body) }
  }

  private func shrinker() -> (any Shrinker)? {
    scenario.driver == .ttm ? ttm?.shrinker : panfrost?.shrinker
  }

  private func perform(_ op: ScenarioOp) throws {
    switch op {
    case .create(let name, let pages, let caching, let filled, let seed, let placement):
      boOrder.append(name)
      destroyed.remove(name)
      if let dev = ttm {
        let bo = try dev.createBO(numPages: pages, caching: caching, name: name, placement: placement)
        ttmBOs[name] = bo
        if filled {
          if bo.ttm != nil {
            let ret = try dev.populate(bo)
            if ret != 0 {
              throw StepFailure("populating the new BO \(name) returned \(kernelReturnDescription(ret))")
            }
          }
          dev.fill(bo, seed: seed)
          seeds[name] = seed
        }
      } else if let dev = panfrost, let file {
        let bo = try dev.createBO(file, size: pages * PAGE_SIZE, name: name)
        pfBOs[name] = bo
        if filled {
          dev.fill(bo, seed: seed)
          seeds[name] = seed
        }
      }
    case .populate(let name, let c, let result):
      let ctx = TTMOperationContext(
        interruptible: c.interruptible, noWaitGPU: c.noWaitGPU, gfpRetryMayfail: c.gfpRetryMayfail)
      let ret = try ttm!.populate(try ttmBO(name), ctx)
      record(result, kernelReturnDescription(ret))
    case .fill(let name, let seed):
      if let dev = ttm {
        let bo = try ttmBO(name)
        guard dev.isWritable(bo) else {
          throw StepFailure("\(name) is not populated with pages (\(bo)); the GPU cannot write it")
        }
        dev.fill(bo, seed: seed)
      } else if let dev = panfrost {
        let bo = try pfBO(name)
        guard bo.base.pages != nil else { throw StepFailure("\(name) has no pages (purged)") }
        dev.fill(bo, seed: seed)
      }
      seeds[name] = seed
    case .check(let name, let result):
      record(result, contentState(name))
    case .swapout(let name, let purge, let writeback, let kswapd, let via, let allowMove, let result):
      let bo = try ttmBO(name)
      let dev = ttm!
      let ret = try asKswapd(kswapd) {
        try dev.swapout(
          bo, flags: TTMBackupFlags(purge: purge, writeback: writeback), allowMove: allowMove, path: via)
      }
      record(result, kernelReturnDescription(ret))
    case .globalSwapout(let noWaitGPU, let result):
      let ret = try ttm!.ttmGlobalSwapout(TTMOperationContext(noWaitGPU: noWaitGPU), .GFP_KERNEL)
      record(result, kernelReturnDescription(ret))
    case .place(let name, let placement, let result):
      let bo = try ttmBO(name)
      bo.reserved = true
      defer { bo.reserved = false }
      record(result, kernelReturnDescription(try ttm!.ttmBOValidate(bo, to: placement, TTMOperationContext())))
    case .evict(let name, let result):
      let bo = try ttmBO(name)
      bo.reserved = true
      defer { bo.reserved = false }
      record(result, kernelReturnDescription(try ttm!.ttmBOEvict(bo, TTMOperationContext())))
    case .backupPage(let name, let index, let writeback, let result):
      let bo = try ttmBO(name)
      guard let tt = bo.ttm else { throw StepFailure("\(name) has no ttm_tt") }
      let ret = try ttm!.ttmBackupBackupPage(tt, index: index, writeback: writeback)
      record(result, kernelReturnDescription(ret))
      if ret > 0, let result { handles[result] = UInt(ret) }
    case .copyPage(let name, let index, let handle, let interruptible, let additionalGFP, let result):
      let bo = try ttmBO(name)
      guard let tt = bo.ttm else { throw StepFailure("\(name) has no ttm_tt") }
      guard let h = handles[handle] else { throw StepFailure("result \(handle) is not a backup handle") }
      let ret = try ttm!.ttmBackupCopyPage(
        tt, index: index, handle: h, interruptible: interruptible, additionalGFP: additionalGFP)
      record(result, kernelReturnDescription(ret))
    case .dropHandle(let name, let handle):
      let bo = try ttmBO(name)
      guard let tt = bo.ttm else { throw StepFailure("\(name) has no ttm_tt") }
      guard let h = handles[handle] else { throw StepFailure("result \(handle) is not a backup handle") }
      try ttm!.ttmBackupDrop(tt, handle: h)
    case .insertFolio(let name, let index, let writeback, let clearPrivate, let result):
      let bo = try ttmBO(name)
      guard let tt = bo.ttm else { throw StepFailure("\(name) has no ttm_tt") }
      let ret = try ttm!.ttmBackupInsertFolio(tt, index: index, writeback: writeback, clearingPrivate: clearPrivate)
      record(result, kernelReturnDescription(ret))
    case .restoreAndAlloc(let name, let c, let result):
      let bo = try ttmBO(name)
      guard let tt = bo.ttm else { throw StepFailure("\(name) has no ttm_tt") }
      let ctx = TTMOperationContext(
        interruptible: c.interruptible, noWaitGPU: c.noWaitGPU, gfpRetryMayfail: c.gfpRetryMayfail)
      bo.reserved = true
      defer { bo.reserved = false }
      record(result, kernelReturnDescription(try ttm!.ttmPoolRestoreAndAlloc(tt, ctx)))
    case .destroy(let name):
      if let dev = ttm {
        try dev.destroy(try ttmBO(name))
        ttmBOs[name] = nil
      } else if let dev = panfrost, let file {
        let bo = try pfBO(name)
        guard let handle = dev.handle(of: bo, in: file) else { throw StepFailure("\(name) has no handle") }
        try dev.gemClose(file, handle)
      }
      destroyed.insert(name)
    case .set(let name, let purgeable, let busy, let pinCount):
      let bo = try ttmBO(name)
      if let purgeable { bo.purgeable = purgeable }
      if let busy { bo.busy = busy }
      if let pinCount { bo.pinCount = pinCount }
    case .spawn(let task):
      try spawn(task)
    case .exit(let comm):
      guard let pid = pids[comm], machine.task(pid) != nil else { throw StepFailure("task \(comm) is not running") }
      machine.exitTask(pid)
      pids[comm] = nil
    case .arm(let name, let nth, let space, let times, let filterNone):
      let point = ScenarioVocabulary.faultPoints.first { $0.name == name }!
      sweepYield(point)
      if let filterNone { machine.failPageAllocFilter = filterNone ? .none : .kernelDefault }
      machine.faults.arm(point, nth.map(FaultAttr.nth) ?? .after(space: space ?? 0, times: times))
    case .disarm(let name):
      let point = ScenarioVocabulary.faultPoints.first { $0.name == name }!
      machine.faults.disarm(point)
      sweepResume(point)
    case .shrink(let gfp, let nrToScan, let kswapd, let result):
      guard let shrinker = shrinker() else {
        record(result, "no shrinker")
        return
      }
      var sc = ShrinkControl(
        gfpMask: gfp, nrToScan: nrToScan, nrScanned: scenario.driver == .panfrost ? nrToScan : 0)
      let machine = machine
      let r = try asKswapd(kswapd) { try shrinker.scanObjects(&sc, on: machine) }
      switch r {
      case .freed(let n): record(result, "\(n)")
      case .stop: record(result, "SHRINK_STOP")
      }
    case .count(let gfp, let result):
      guard let shrinker = shrinker() else {
        record(result, "no shrinker")
        return
      }
      record(result, "\(try shrinker.countObjects(ShrinkControl(gfpMask: gfp, nrToScan: 0), on: machine))")
    case .alloc(let gfp, let order, let count, let result):
      var ok = 0
      for _ in 0..<count {
        if let page = try machine.allocPages(gfp, order: order, owner: .other("scenario alloc")) {
          allocated.append((page, order))
          ok += 1
        }
      }
      record(result, "\(ok)")
    case .fragment:
      for frame in 0..<machine.mem.totalPages where frame % 2 == 1 {
        if machine.takePageOffBuddy(Page(pfn: frame), owner: .other("pinned by fragment")) {
          pinned.append(Page(pfn: frame))
        }
      }
    case .resetCounters:
      resetCounters()
    case .madvise(let name, let advice, let closeDuring, let result):
      let bo = try pfBO(name)
      if let point = closeDuring {
        guard let handle = panfrost!.handle(of: bo, in: file!) else { throw StepFailure("\(name) has no handle") }
        panfrost!.pendingClose = (point, file!, handle)
        destroyed.insert(name)
      }
      defer { panfrost!.pendingClose = nil }
      let r = try panfrost!.madvise(file!, bo, advice)
      record(result, r.ret == 0 ? "\(r.retained)" : kernelReturnDescription(r.ret))
    case .job(let name, let running):
      let bo = try pfBO(name)
      if running {
        panfrost!.jobStart(bo)
        jobs[name, default: 0] += 1
      } else {
        guard jobs[name, default: 0] > 0 else { throw StepFailure("no job using \(name) is running") }
        jobs[name]! -= 1
        try panfrost!.jobDone(bo)
      }
    }
  }

  /// `intact`, `N pages lost`, `destroyed` or `never filled`.
  private func contentState(_ name: String) -> String {
    if destroyed.contains(name) { return "destroyed" }
    guard let seed = seeds[name] else { return "never filled" }
    if let dev = ttm, let bo = ttmBOs[name] {
      let bad = dev.checkContent(bo, seed: seed).count
      return bad == 0 ? "intact" : "\(bad) pages lost"
    }
    if let dev = panfrost, let bo = pfBOs[name] {
      return dev.contentIntact(bo, seed: seed) ? "intact" : "lost"
    }
    return "destroyed"
  }

  // MARK: Observation

  struct Observed {
    var values: [String: String] = [:]
    var details: [String: String] = [:]
    var dmesg: [String] = []
  }

  private func observe() -> Observed {
    var o = Observed()
    let m = machine
    for (k, v) in results { o.values["results.\(k)"] = v }
    o.values["oomKills"] = "\(m.vmstat.oomKill)"
    // Victims by the OOM report ("Out of memory: Killed process PID (comm)"), so a victim
    // that exited later still counts.
    let victims = m.dmesg.grep("Out of memory: Killed process ").compactMap { line -> String? in
      guard let open = line.text.firstIndex(of: "("), let close = line.text[open...].firstIndex(of: ")") else {
        return nil
      }
      return String(line.text[line.text.index(after: open)..<close])
    }
    o.values["killed"] = ScenarioLoader.renderList(victims)
    o.values["allocationFailureWarnings"] = "\(m.dmesg.grep("page allocation failure").count)"
    for name in boOrder {
      let state = contentState(name)
      o.values["contentIntact.\(name)"] = state == "intact" ? "true" : state == "destroyed" ? state : "false"
      o.details["contentIntact.\(name)"] = state
    }
    switch halt {
    case nil:
      o.values["halt"] = "none"
    case .panic?: o.values["halt"] = "panic"
    case .oops(_, let chain)?:
      o.values["halt"] = "oops"
      o.values["haltCallChain"] = ScenarioLoader.renderList(chain)
    case .bug?: o.values["halt"] = "bug"
    case .lockup?: o.values["halt"] = "lockup"
    }
    if let halt {
      let message: String =
        if case .oops(let msg, _) = halt { msg } else {
          halt.description.split(separator: "\n").first.map(String.init) ?? ""
        }
      o.values["haltMessage"] = message
      o.details["halt"] = "\(o.values["halt"]!) at \(haltPlace): \(message)"
    } else {
      o.values["haltMessage"] = "(no halt)"
    }
    o.values["haltCallChain", default: "[]"] = o.values["haltCallChain"] ?? "[]"
    o.dmesg = m.dmesg.lines.map(\.description)
    o.values["swapSlotsInUse"] = "\(m.swap.slotsInUse)"
    o.values["lockViolations"] = "\(m.folioLockViolations.count)"
    o.values["freePages"] = "\(m.mem.nrFreePages)"
    o.values["largestFreeOrder"] = m.mem.largestFreeOrder.map { "\($0)" } ?? "none"
    o.values["bytesCopied"] = "\(m.vmstat.bytesCopied - copiedAtReset)"
    let trace = m.allocationTrace ?? []
    o.values["allocations"] = "\(trace.count)"
    o.values["peakExtraPages"] = "\(m.mem.peakPagesInUse - inUseAtReset)"
    let shmemGFP = Set(trace.filter { if case .shmem = $0.owner { true } else { false } }.map(\.gfp.description))
    o.values["shmemGFP"] = ScenarioLoader.renderList(shmemGFP.sorted())
    for point in ScenarioVocabulary.faultPoints {
      o.values["faultsInjected.\(point.name)"] = "\(m.faults.injected(point))"
      o.values["faultCalls.\(point.name)"] = "\(m.faults.calls(point))"
    }
    if let statsAtReset {
      for (k, v) in m.statistics.since(statsAtReset).fields { o.values["stats.\(k)"] = v }
      for order in 0...MAX_PAGE_ORDER where o.values["stats.allocationsPerOrder.\(order)"] == nil {
        o.values["stats.allocationsPerOrder.\(order)"] = "0"
      }
    }
    if let dev = ttm {
      o.values["ttmPagesAllocated"] = "\(dev.ttmPagesAllocated)"
      o.values["poolTypePages"] = "\(dev.poolAllocatedPages)"
      for name in boOrder {
        guard let bo = ttmBOs[name], !destroyed.contains(name) else {
          for k in ScenarioVocabulary.ttmBOKeys { o.values["bos.\(name).\(k)"] = "destroyed" }
          continue
        }
        o.values["bos.\(name).placement"] = ScenarioVocabulary.placementName(bo.resource.memType)
        o.values["bos.\(name).hasTT"] = "\(bo.ttm != nil)"
        let tt = bo.ttm
        let slots = tt?.slotCounts ?? (pages: 0, handles: 0, null: 0)
        o.values["bos.\(name).populated"] = "\(tt?.isPopulated ?? false)"
        o.values["bos.\(name).backedUp"] = "\(tt?.isBackedUp ?? false)"
        o.values["bos.\(name).swapped"] = "\(tt?.isSwapped ?? false)"
        o.values["bos.\(name).pages"] = "\(slots.pages)"
        o.values["bos.\(name).handles"] = "\(slots.handles)"
        o.values["bos.\(name).nullSlots"] = "\(slots.null)"
        o.values["bos.\(name).restoreState"] = "\(tt?.restore != nil)"
      }
    }
    if let dev = panfrost {
      let walk = dev.shrinkerListWalk()
      let visited = walk.visited
      for name in boOrder {
        guard let bo = pfBOs[name] else { continue }
        o.values["bos.\(name).purged"] = "\(bo.base.madv == -1)"
        o.values["bos.\(name).madv"] = "\(bo.base.madv)"
        o.values["bos.\(name).onList"] = "\(visited.contains(bo.base.madvList))"
      }
      let members = Set(dev.objects.filter { !$0.isFreed && $0.base.isPurgeable }.map(\.base.madvList))
      let violations = dev.lists.violations(dev.shrinkerList, members: members)
      o.values["listSound"] = "\(violations.isEmpty)"
      o.values["listViolation"] = violations.first.map(\.description) ?? "none"
      o.details["listSound"] = violations.map(\.description).joined(separator: "; ")
      switch walk {
      case .complete: o.values["listWalk"] = "complete"
      case .cycle: o.values["listWalk"] = "cycle"
      case .fault: o.values["listWalk"] = "fault"
      }
      o.values["shrinkerList"] = ScenarioLoader.renderList(visited.map { dev.lists.names[$0.index] })
      o.values["purged"] = ScenarioLoader.renderList(
        boOrder.filter { pfBOs[$0]?.base.madv == -1 }.sorted())
    }
    return o
  }

  // MARK: Teardown

  private func teardown(into o: inout Observed) {
    do {
      if let dev = ttm {
        for name in boOrder where !destroyed.contains(name) {
          if let bo = ttmBOs[name] { try dev.destroy(bo) }
        }
        dev.fini()
      }
      if let dev = panfrost, let file {
        for name in boOrder.sorted() {
          guard let bo = pfBOs[name] else { continue }
          for _ in 0..<jobs[name, default: 0] { try dev.jobDone(bo) }
        }
        jobs = [:]
        try dev.close(file)
        dev.fini()
      }
    } catch {
      let text = "\(error)".split(separator: "\n").first.map(String.init) ?? ""
      o.values["auditClean"] = "not audited (teardown halted: \(text))"
      o.values["leaks"] = o.values["auditClean"]
      o.values["kernelCounters"] = o.values["auditClean"]
      return
    }
    releaseHeldMemory()
    let audit = machine.audit()
    o.values["auditClean"] = "\(audit.isClean)"
    o.details["auditClean"] = "\(audit)"
    o.values["leaks"] = ScenarioLoader.renderLeaks(audit.leakedPages.map { ($0.key, $0.value) })
    o.values["kernelCounters"] = ScenarioLoader.renderLeaks(audit.kernelCounterResidue.map { ($0.key, $0.value) })
  }

  /// Frees the pages `alloc` and `fragment` steps hold and exits every task but the current.
  func releaseHeldMemory() {
    for (page, order) in allocated { machine.freePages(page, order: order) }
    for page in pinned { machine.freePages(page, order: 0) }
    allocated = []
    pinned = []
    for task in machine.tasks where task.pid != machine.currentPID { machine.exitTask(task.pid) }
  }

  // MARK: Fault sweep hooks

  /// A fault a sweep injects: the `nth` call of `point` counted from the first step, in
  /// addition to what the scenario arms itself.
  struct SweepFault {
    let point: FaultPoint
    /// `calls(point)` when the steps started.
    var start = 0
    /// Fail this call (1-based, from `start`); `nil` only counts.
    let nth: Int?
    /// The sweep's own arming is in force (the scenario has not armed the point over it).
    var active = false
    /// The sweep's fault was injected.
    var injected = false
  }

  /// For a sweep: boots, starts the tasks, arms `nth` (if any) of `point` and runs the steps;
  /// stops there, without observing or tearing down. Returns the calls of `point` the steps
  /// made and whether the sweep's fault was injected.
  func runSteps(sweeping point: FaultPoint, nth: Int?) -> (calls: Int, injected: Bool) {
    boot()
    if point == .failPageAlloc { machine.failPageAllocFilter = .none }
    spawnTasks()
    resetCounters()
    sweep = SweepFault(point: point, start: machine.faults.calls(point), nth: nth)
    if let nth {
      machine.faults.arm(point, .nth(nth))
      sweep?.active = true
    }
    if runError == nil { runSteps() }
    sweepYield(point)
    let s = sweep!
    sweep = nil
    machine.faults.disarm(point)
    return (machine.faults.calls(point) - s.start, s.injected)
  }

  /// The scenario arms `point` itself, or the steps ended: the sweep's arming is replaced;
  /// notes whether its call was reached meanwhile.
  private func sweepYield(_ point: FaultPoint) {
    guard var s = sweep, s.point == point, s.active, let nth = s.nth else { return }
    if machine.faults.calls(point) - s.start >= nth { s.injected = true }
    s.active = false
    sweep = s
  }

  /// The scenario disarmed `point`: the sweep re-arms it for its call, if still ahead.
  private func sweepResume(_ point: FaultPoint) {
    guard var s = sweep, s.point == point, !s.injected, let nth = s.nth else { return }
    let done = machine.faults.calls(point) - s.start
    guard nth > done else { return }
    if point == .failPageAlloc { machine.failPageAllocFilter = .none }
    machine.faults.arm(point, .nth(nth - done))
    s.active = true
    sweep = s
  }

  // MARK: Comparison

  private func mismatches(_ e: ScenarioExpectation, _ o: Observed) -> [String] {
    var out: [String] = []
    if let runError { out.append("the run stopped: \(runError)") }
    for item in e.items {
      let observed = o.values[item.key] ?? "not observed"
      switch item.comparison {
      case .equal:
        if observed != item.value {
          let detail = o.details[item.key].map { $0 == observed ? "" : " (\($0))" } ?? ""
          out.append("\(item.key): expected \(item.value), observed \(observed)\(detail)")
        }
      case .prefix:
        if !observed.hasPrefix(item.value) {
          out.append("\(item.key): expected a text starting \"\(item.value)\", observed \"\(observed)\"")
        }
      case .listPrefix:
        let want = Self.elements(item.value)
        if !Self.elements(observed).starts(with: want) {
          out.append("\(item.key): expected a list starting \(item.value), observed \(observed)")
        }
      case .contains:
        if !o.dmesg.contains(where: { $0.contains(item.value) }) {
          out.append("dmesg: no line contains \"\(item.value)\"")
        }
      case .lacks:
        if let line = o.dmesg.first(where: { $0.contains(item.value) }) {
          out.append("dmesg: a line contains \"\(item.value)\": \"\(line)\"")
        }
      }
    }
    return out
  }

  private static func elements(_ rendered: String) -> [String] {
    let inner = rendered.hasPrefix("[") && rendered.hasSuffix("]") ? String(rendered.dropFirst().dropLast()) : rendered
    return inner.isEmpty ? [] : inner.split(separator: ", ", omittingEmptySubsequences: false).map(String.init)
  }

  private func compare(_ o: Observed) -> ScenarioResult {
    let before = mismatches(scenario.expectBefore, o)
    let after = mismatches(scenario.expectAfter, o)
    let match: ScenarioMatch
    switch (before.isEmpty, after.isEmpty) {
    case (true, true): match = .both
    case (true, false): match = .before
    case (false, true): match = .after
    case (false, false):
      match =
        scenario.kind == .noChange
        ? .neither(before.joined(separator: "; "))
        : .neither("before: \(before.joined(separator: "; ")) | after: \(after.joined(separator: "; "))")
    }
    let observed = observations(o)
    return ScenarioResult(
      scenario: scenario, match: match, observations: observed,
      halt: observed.contains { $0.key == "haltMessage" } ? nil : o.details["halt"], stopped: runError,
      dmesg: o.dmesg)
  }

  /// The observations either expectation names, in order.
  private func observations(_ o: Observed) -> [ScenarioResult.Observation] {
    var parts: [ScenarioResult.Observation] = []
    var seen: Set<String> = []
    for item in scenario.expectBefore.items + scenario.expectAfter.items {
      switch item.comparison {
      case .contains, .lacks:
        let key = "dmesg \"\(item.value)\""
        guard seen.insert(key).inserted else { continue }
        parts.append(.init(key: key, value: o.dmesg.contains { $0.contains(item.value) } ? "present" : "absent"))
      default:
        guard seen.insert(item.key).inserted else { continue }
        parts.append(.init(key: item.key, value: o.values[item.key] ?? "not observed"))
      }
    }
    return parts
  }
}
