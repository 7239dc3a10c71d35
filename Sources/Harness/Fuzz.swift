import BOCore
import KernelTrees
import Patches

/// A deterministic random source (SplitMix64), so a fuzz run replays exactly from its seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }
}

/// One step of a generated workload.
public enum FuzzStep: Hashable, Sendable, CustomStringConvertible {
  case create(pages: Int, writeCombined: Bool)
  case populate(bo: Int, retryMayfail: Bool, interruptible: Bool)
  case fill(bo: Int)
  case backup(bo: Int, writeback: Bool)
  case purge(bo: Int)
  case shrink(nrToScan: Int, fs: Bool, kswapd: Bool)
  case destroy(bo: Int)
  case spawn(pages: Int)
  case exitTask
  case allocate(pages: Int)
  case fault(point: String, nth: Int)
  case pfCreate
  case madvise(bo: Int, dontneed: Bool)
  case pfShrink(nrToScan: Int)
  /// The amdgpu-style device (DMA-alloc pool, VRAM, TTM's global swapout): create a BO in
  /// `placement` (0 system, 1 TT, 2 VRAM).
  case legacyCreate(pages: Int, placement: Int)
  case legacyPopulate(bo: Int)
  case legacyFill(bo: Int)
  /// `ttm_bo_swapout_cb()` of one BO.
  case legacySwapout(bo: Int)
  /// `ttm_global_swapout()` of the amdgpu-style device.
  case globalSwapout
  /// `ttm_bo_validate()` to `placement`.
  case place(bo: Int, placement: Int)
  /// `ttm_bo_evict()`.
  case evict(bo: Int)
  case legacyDestroy(bo: Int)
  /// Panfrost: close a BO's handle, while a madvise of it runs when `racing` is 1 (after the
  /// lookup) or 2 (after the unlock), alone when 0.
  case pfClose(bo: Int, racing: Int)

  public var description: String {
    switch self {
    case .create(let n, let wc): "create \(n) pages\(wc ? " write-combined" : "")"
    case .populate(let b, let r, let i):
      "populate bo\(b)\(r ? " gfp_retry_mayfail" : "")\(i ? " interruptible" : "")"
    case .fill(let b): "fill bo\(b)"
    case .backup(let b, let w): "back up bo\(b)\(w ? " with writeback" : "")"
    case .purge(let b): "purge bo\(b)"
    case .shrink(let n, let fs, let k): "BO shrinker scan \(n)\(fs ? "" : " GFP_NOFS")\(k ? " as kswapd" : "")"
    case .destroy(let b): "destroy bo\(b)"
    case .spawn(let n): "start a task with \(n) pages"
    case .exitTask: "exit the oldest task"
    case .allocate(let n): "memory pressure: allocate \(n) pages"
    case .fault(let p, let n): "arm \(p) nth \(n)"
    case .pfCreate: "panfrost: create a BO"
    case .madvise(let b, let d): "panfrost: madvise pf\(b) \(d ? "DONTNEED" : "WILLNEED")"
    case .pfShrink(let n): "panfrost shrinker scan \(n)"
    case .legacyCreate(let n, let p): "amdgpu-style: create \(n) pages in \(Self.placementNames[p])"
    case .legacyPopulate(let b): "amdgpu-style: populate lb\(b)"
    case .legacyFill(let b): "amdgpu-style: fill lb\(b)"
    case .legacySwapout(let b): "amdgpu-style: ttm_bo_swapout_cb lb\(b)"
    case .globalSwapout: "amdgpu-style: ttm_global_swapout"
    case .place(let b, let p): "amdgpu-style: validate lb\(b) to \(Self.placementNames[p])"
    case .evict(let b): "amdgpu-style: evict lb\(b)"
    case .legacyDestroy(let b): "amdgpu-style: destroy lb\(b)"
    case .pfClose(let b, let r):
      "panfrost: close pf\(b)\(r == 0 ? "" : r == 1 ? " racing madvise (after lookup)" : " racing madvise (after unlock)")"
    }
  }

  static let placementNames = ["TTM_PL_SYSTEM", "TTM_PL_TT", "TTM_PL_VRAM"]
  static let placements: [TTMMemType] = [.system, .tt, .vram]
}

/// What a fuzz run found.
public struct FuzzResult: Sendable {
  public let seed: UInt64
  /// The steps run (the workload up to the failure, or all of it).
  public let steps: [FuzzStep]
  /// The first violated invariant, with the index of the step after which it was seen.
  public let failure: (step: Int, what: String)?
  /// How many invariant checks ran.
  public let checks: Int
  /// Runs that ended because the OOM killer had nobody left to kill (a kernel panic the
  /// workload provoked; not a model failure).
  public let endedInOOMPanic: Bool
  /// OOM kills seen.
  public let oomKills: Int
}

/// Seeded random workloads over many BOs on one kernel tree, checking every invariant after
/// every step: no oops, BUG or lockup; every BO whose content is known is intact while
/// populated; the pages TTM holds equal `NR_GPU_ACTIVE`; the frame table agrees with the free
/// lists; no folio lock violation; panfrost's `shrinker_list` well formed and holding exactly
/// the purgeable BOs. At the end everything is torn down and the audit must be clean. A
/// failure carries the seed and the shortest failing prefix (the steps up to the first
/// violation), which replay with `bo-repro fuzz --seed S --steps N`.
public enum Fuzz {
  /// Generates `count` steps from `seed`. The generator only depends on the seed and the
  /// count of objects created so far, so any prefix of a workload is itself a workload.
  ///
  /// Steps on the amdgpu-style device and panfrost closes come from a second stream of the
  /// same seed, each after a step of the first, so the first stream's steps keep their order.
  public static func workload(seed: UInt64, steps count: Int) -> [FuzzStep] {
    var rng = SplitMix64(seed: seed)
    var extra = SplitMix64(seed: seed ^ 0x6c65_6761_6379_0001)
    var bos = 0
    var pfBOs = 0
    var legacyBOs = 0
    var steps: [FuzzStep] = []
    while steps.count < count {
      if steps.count > 0, Int.random(in: 0..<4, using: &extra) == 0 {
        func lb() -> Int { Int.random(in: 0..<max(legacyBOs, 1), using: &extra) }
        let step: FuzzStep
        switch Int.random(in: 0..<100, using: &extra) {
        case ..<18 where legacyBOs < 8:
          step = .legacyCreate(
            pages: [1, 4, 8, 16, 32][Int.random(in: 0..<5, using: &extra)],
            placement: Int.random(in: 0..<3, using: &extra))
        case ..<18: step = .legacyFill(bo: lb())
        case ..<30: step = .legacyPopulate(bo: lb())
        case ..<40: step = .legacyFill(bo: lb())
        case ..<52: step = .legacySwapout(bo: lb())
        case ..<60: step = .globalSwapout
        case ..<72: step = .place(bo: lb(), placement: Int.random(in: 0..<3, using: &extra))
        case ..<82: step = .evict(bo: lb())
        case ..<88: step = .legacyDestroy(bo: lb())
        default:
          step = .pfClose(
            bo: Int.random(in: 0..<max(pfBOs, 1), using: &extra), racing: Int.random(in: 0..<3, using: &extra))
        }
        if case .legacyCreate = step { legacyBOs += 1 }
        steps.append(step)
        continue
      }
      func bo() -> Int { Int.random(in: 0..<max(bos, 1), using: &rng) }
      let roll = Int.random(in: 0..<100, using: &rng)
      let step: FuzzStep
      switch roll {
      case ..<12 where bos < 12:
        step = .create(
          pages: [1, 2, 4, 16, 33, 64][Int.random(in: 0..<6, using: &rng)], writeCombined: Bool.random(using: &rng))
      case ..<12: step = .fill(bo: bo())
      case ..<24:
        step = .populate(bo: bo(), retryMayfail: Bool.random(using: &rng), interruptible: Bool.random(using: &rng))
      case ..<30: step = .fill(bo: bo())
      case ..<42: step = .backup(bo: bo(), writeback: Bool.random(using: &rng))
      case ..<46: step = .purge(bo: bo())
      case ..<54:
        step = .shrink(
          nrToScan: [16, 64, 256][Int.random(in: 0..<3, using: &rng)], fs: Int.random(in: 0..<4, using: &rng) > 0,
          kswapd: Bool.random(using: &rng))
      case ..<57: step = .destroy(bo: bo())
      case ..<63: step = .spawn(pages: Int.random(in: 16...256, using: &rng))
      case ..<66: step = .exitTask
      case ..<72: step = .allocate(pages: Int.random(in: 8...128, using: &rng))
      case ..<78:
        let points = ["backup_fault_inject", "fail_page_alloc", "failslab"]
        step = .fault(point: points[Int.random(in: 0..<3, using: &rng)], nth: Int.random(in: 1...6, using: &rng))
      case ..<84 where pfBOs < 6: step = .pfCreate
      case ..<94:
        step = .madvise(bo: Int.random(in: 0..<max(pfBOs, 1), using: &rng), dontneed: Bool.random(using: &rng))
      default: step = .pfShrink(nrToScan: Int.random(in: 1...64, using: &rng))
      }
      if case .create = step { bos += 1 }
      if case .pfCreate = step { pfBOs += 1 }
      steps.append(step)
    }
    return steps
  }

  /// Runs `steps` on `tree` and checks the invariants after each.
  /// `progress` is told how many steps have run, for a caller that shows progress.
  public static func run(
    seed: UInt64, steps: [FuzzStep], on tree: KernelTree, progress: (Int) -> Void = { _ in }
  ) -> FuzzResult {
    var world = World(tree: tree)
    var checks = 0
    for (i, step) in steps.enumerated() {
      progress(i)
      do {
        try world.apply(step)
      } catch let halt as KernelHalt {
        if case .panic = halt {
          return FuzzResult(
            seed: seed, steps: Array(steps.prefix(i + 1)), failure: nil, checks: checks, endedInOOMPanic: true,
            oomKills: world.machine.vmstat.oomKill)
        }
        return FuzzResult(
          seed: seed, steps: Array(steps.prefix(i + 1)), failure: (i, "kernel halt: \(halt)"), checks: checks,
          endedInOOMPanic: false, oomKills: world.machine.vmstat.oomKill)
      } catch {
        return FuzzResult(
          seed: seed, steps: Array(steps.prefix(i + 1)), failure: (i, "model error: \(error)"), checks: checks,
          endedInOOMPanic: false, oomKills: world.machine.vmstat.oomKill)
      }
      checks += 1
      if let broken = world.invariantViolation() {
        return FuzzResult(
          seed: seed, steps: Array(steps.prefix(i + 1)), failure: (i, broken), checks: checks, endedInOOMPanic: false,
          oomKills: world.machine.vmstat.oomKill)
      }
    }
    let oomKills = world.machine.vmstat.oomKill
    if let leak = world.teardown() {
      // Every prefix passed its checks on the way here; the shortest one whose teardown leaks
      // is the prefix to replay. Leaks need not grow with the prefix, so the search is linear
      // (each candidate replayed from the start), and bounded: past `shrinkLimit` steps, or
      // if no shorter prefix leaks, the whole workload is the prefix.
      if steps.count <= shrinkLimit {
        for k in 1..<max(steps.count, 1) {
          guard let shorter = teardownLeak(Array(steps.prefix(k)), on: tree) else { continue }
          return FuzzResult(
            seed: seed, steps: Array(steps.prefix(k)), failure: (k - 1, "teardown: \(shorter)"), checks: checks,
            endedInOOMPanic: false, oomKills: oomKills)
        }
      }
      return FuzzResult(
        seed: seed, steps: steps, failure: (max(steps.count - 1, 0), "teardown: \(leak)"), checks: checks,
        endedInOOMPanic: false, oomKills: oomKills)
    }
    return FuzzResult(
      seed: seed, steps: steps, failure: nil, checks: checks + 1, endedInOOMPanic: false, oomKills: oomKills)
  }

  /// The upstream fix that explains a failure `what` seen on `tree`, if one does: a break the
  /// fault sweep knows (``FaultSweep/expectedBreaks``), or a populated tt holding a backup
  /// handle, which the stale restore state leaves (the invariant the fuzzer checks and the
  /// sweep's scenarios do not reach), on a tree that lacks the fix and has the code it fixes.
  public static func explanation(_ what: String, on tree: KernelTree) -> FaultSweepExpectedBreak? {
    let staleHandle = FaultSweepExpectedBreak(
      patch: PatchCatalog.dropRestoreAfterRestore.slug, variant: .before, property: .content,
      detail: ", but slot ", explainedBy: PatchCatalog.dropRestoreAfterRestore.slug,
      why:
        "a restore that failed part-way and then resumed to success leaves tt->restore set; the next backup and restore of that tt go through the stale state and leave backup handles in a tt that reports itself populated"
    )
    return (FaultSweep.expectedBreaks + [staleHandle]).first { e in
      guard what.contains(e.detail), !tree.stack.contains(e.explainedBy),
        let fix = PatchModels.model(e.explainedBy)
      else { return false }
      return tree.hasCode(of: fix)
    }
  }

  /// The longest workload whose teardown-only failure is shrunk to a shorter prefix (the
  /// search replays every prefix, so it is quadratic in the length).
  public static let shrinkLimit = 2000

  /// What tearing down after `steps` leaks, if anything; `steps` must run without an error.
  static func teardownLeak(_ steps: [FuzzStep], on tree: KernelTree) -> String? {
    var world = World(tree: tree)
    for step in steps {
      do { try world.apply(step) } catch { return nil }
    }
    return world.teardown()
  }

  /// The machine, the devices and what the workload knows about its objects.
  struct World {
    let machine: Machine
    let ttm: TTMDevice
    let pf: PanfrostDevice
    let file: PanfrostFile
    var bos: [TTMBufferObject?] = []
    /// The seed each BO was last filled with, while its content is known.
    var content: [Int: UInt64] = [:]
    var pfBOs: [PanfrostGEMObject] = []
    /// The amdgpu-style device: no BO shrinker (TTM's global swapout, with a low
    /// `ttm_pages_limit` so populate triggers it), a DMA-alloc pool, 64 pages of VRAM.
    let legacy: TTMDevice
    var legacyBOs: [TTMBufferObject?] = []
    var legacyContent: [Int: UInt64] = [:]
    var tasks: [PID] = []
    /// Pages each pressure task holds (allocated through the page allocator, so not task RSS
    /// the OOM killer could free; they go when the task exits).
    var pressure: [PID: [Page]] = [:]
    var fills: UInt64 = 1

    init(tree: KernelTree) {
      machine = Machine(MachineConfig(memoryPages: 2048, swapPages: 1024, watermarks: Watermarks(min: 16)))
      machine.failPageAllocFilter = .none
      ttm = tree.makeDevice(on: machine, pool: TTMPool(maxOrder: 4))
      pf = PanfrostDevice(machine: machine, functions: tree.kernelFunctions.panfrost)
      file = pf.open()
      legacy = tree.makeDevice(on: machine, pool: TTMPool(usesDMAAlloc: true, maxOrder: 2), driverStyle: .amdgpu)
      legacy.vramPages = 64
      legacy.ttmPagesLimit = 96
    }

    func lbo(_ i: Int) -> TTMBufferObject? { i < legacyBOs.count ? legacyBOs[i] : nil }

    func bo(_ i: Int) -> TTMBufferObject? { i < bos.count ? bos[i] : nil }

    mutating func apply(_ step: FuzzStep) throws {
      switch step {
      case .create(let pages, let wc):
        bos.append(try ttm.createBO(numPages: pages, caching: wc ? .writeCombined : .cached))
      case .populate(let i, let retry, let intr):
        guard let bo = bo(i) else { return }
        let ret = try ttm.populate(bo, TTMOperationContext(interruptible: intr, gfpRetryMayfail: retry))
        if ret != 0 && !bo.tt.isBackedUp { content[i] = nil }  // a failed fresh allocation has nothing to lose
      case .fill(let i):
        // Only a tt that holds a page in every slot can be written (the invariant check
        // reports any other populated tt before this step runs).
        guard let bo = bo(i), bo.tt.isPopulated,
          bo.tt.pages.allSatisfy({ if case .page = $0 { true } else { false } })
        else { return }
        fills += 1
        ttm.fill(bo, seed: fills)
        content[i] = fills
        bo.purgeable = false
      case .backup(let i, let writeback):
        guard let bo = bo(i) else { return }
        _ = try ttm.swapout(bo, flags: TTMBackupFlags(writeback: writeback))
      case .purge(let i):
        guard let bo = bo(i), bo.tt.isPopulated else { return }
        bo.purgeable = true
        if try ttm.swapout(bo, flags: TTMBackupFlags(purge: true)) > 0 { content[i] = nil }
      case .shrink(let n, let fs, let kswapd):
        guard let shrinker = ttm.shrinker else { return }
        var sc = ShrinkControl(gfpMask: fs ? .GFP_KERNEL : .GFP_NOFS, nrToScan: n)
        let purgeable = bos.indices.filter { bos[$0]?.purgeable == true && bos[$0]?.tt.isPopulated == true }
        if kswapd {
          let pid = machine.tasks.first { $0.comm == "kswapd0" }?.pid ?? machine.spawnKernelThread("kswapd0")
          _ = try machine.run(as: pid) { try machine.memallocNoreclaim { try shrinker.scanObjects(&sc, on: machine) } }
        } else {
          _ = try machine.memallocNoreclaim { try shrinker.scanObjects(&sc, on: machine) }
        }
        for i in purgeable where bos[i]?.tt.isBackedUp == true { content[i] = nil }
      case .destroy(let i):
        guard let bo = bo(i) else { return }
        try ttm.destroy(bo)
        bos[i] = nil
        content[i] = nil
      case .spawn(let pages):
        let free = machine.mem.nrFreePages - machine.mem.watermarks.min
        guard free > 0 else { return }
        tasks.append(try machine.spawnTask("task\(tasks.count)", rssPages: min(pages, free)))
      case .exitTask:
        guard let pid = tasks.first(where: { p in machine.task(p).map { !$0.isOOMVictim } ?? false }) else { return }
        for page in pressure.removeValue(forKey: pid) ?? [] { machine.freePages(page, order: 0) }
        machine.exitTask(pid)
        tasks.removeAll { $0 == pid }
      case .allocate(let pages):
        // Memory pressure from a task: order-0 GFP_KERNEL allocations that may reclaim
        // (backing up BOs through the shrinker) or OOM-kill; held until the task exits.
        let pid = try machine.spawnTask("pressure\(tasks.count)", rssPages: 0)
        tasks.append(pid)
        try machine.run(as: pid) {
          for _ in 0..<pages {
            guard let page = try machine.allocPages(.GFP_KERNEL, order: 0, owner: .other("pressure \(pid)")) else {
              break
            }
            pressure[pid, default: []].append(page)
          }
        }
      case .fault(let point, let nth):
        let p: FaultPoint =
          switch point {
          case "backup_fault_inject": .backupFaultInject
          case "failslab": .failslab
          default: .failPageAlloc
          }
        machine.faults.arm(p, .nth(nth))
      case .pfCreate:
        if let bo = try? pf.createBO(file, size: 4 * PAGE_SIZE) { pfBOs.append(bo) }
      case .madvise(let i, let dontneed):
        guard i < pfBOs.count, !pfBOs[i].isFreed else { return }
        _ = try pf.madvise(file, pfBOs[i], dontneed ? PANFROST_MADV_DONTNEED : PANFROST_MADV_WILLNEED)
      case .pfShrink(let n):
        guard let shrinker = pf.shrinker else { return }
        var sc = ShrinkControl(gfpMask: .GFP_KERNEL, nrToScan: n)
        _ = try machine.memallocNoreclaim { try shrinker.scanObjects(&sc, on: machine) }
      case .pfClose(let i, let racing):
        guard i < pfBOs.count, !pfBOs[i].isFreed, let handle = pf.handle(of: pfBOs[i], in: file) else { return }
        if racing == 0 {
          try pf.gemClose(file, handle)
        } else {
          pf.pendingClose = (racing == 1 ? .madviseAfterLookup : .madviseAfterUnlock, file, handle)
          defer { pf.pendingClose = nil }
          _ = try pf.madvise(file, pfBOs[i], PANFROST_MADV_DONTNEED)
        }
      case .legacyCreate(let pages, let p):
        // A full VRAM with nothing evictable is -ENOSPC; the BO is then not created.
        do {
          legacyBOs.append(try legacy.createBO(numPages: pages, placement: FuzzStep.placements[p]))
        } catch let err as Errno where err == .ENOSPC || err == .ENOMEM {
          legacyBOs.append(nil)
        }
      case .legacyPopulate(let i):
        guard let bo = lbo(i), bo.ttm != nil else { return }
        let ret = try legacy.populate(bo)
        if ret != 0 && !bo.tt.isSwapped { legacyContent[i] = nil }
      case .legacyFill(let i):
        guard let bo = lbo(i), legacy.isWritable(bo) else { return }
        fills += 1
        legacy.fill(bo, seed: fills)
        legacyContent[i] = fills
      case .legacySwapout(let i):
        guard let bo = lbo(i) else { return }
        _ = try legacy.swapout(bo, path: .swapout)
      case .globalSwapout:
        _ = try legacy.ttmGlobalSwapout(TTMOperationContext(), .GFP_KERNEL)
      case .place(let i, let p):
        guard let bo = lbo(i) else { return }
        bo.reserved = true
        defer { bo.reserved = false }
        _ = try legacy.ttmBOValidate(bo, to: FuzzStep.placements[p], TTMOperationContext())
      case .evict(let i):
        guard let bo = lbo(i) else { return }
        bo.reserved = true
        defer { bo.reserved = false }
        _ = try legacy.ttmBOEvict(bo, TTMOperationContext())
      case .legacyDestroy(let i):
        guard let bo = lbo(i) else { return }
        try legacy.destroy(bo)
        legacyBOs[i] = nil
        legacyContent[i] = nil
      }
    }

    /// The first invariant that does not hold, or `nil`.
    func invariantViolation() -> String? {
      // A populated tt holds a page in every slot (ttm_tt_populate() either completes or
      // fails); a handle there is the stale-restore state, whatever its content was.
      for (i, bo) in bos.enumerated() {
        guard let bo, bo.tt.isPopulated else { continue }
        if let slot = bo.tt.pages.firstIndex(where: { if case .page = $0 { false } else { true } }) {
          return "bo\(i): populated, but slot \(slot) holds \(bo.tt.pages[slot])"
        }
      }
      for (i, seed) in content.sorted(by: { $0.key < $1.key }) {
        guard let bo = bo(i), bo.tt.isPopulated else { continue }
        if let bad = ttm.checkContent(bo, seed: seed).first {
          return "bo\(i): page \(bad.index) holds \(bad.found), not what was written"
        }
      }
      for (i, seed) in legacyContent.sorted(by: { $0.key < $1.key }) {
        guard let bo = lbo(i), bo.ttm == nil || bo.tt.isPopulated else { continue }
        if let bad = legacy.checkContent(bo, seed: seed).first {
          return "lb\(i) (\(bo.resource.memType)): page \(bad.index) holds \(bad.found), not what was written"
        }
      }
      let ttmPages = machine.mem.frames.reduce(0) { n, f in
        if case .ttm? = f.owner { return n + 1 }
        return n
      }
      let active = machine.vmstat.nrGPUActive - machine.vmstat.nrGPUActiveGap
      if ttmPages != active {
        return "NR_GPU_ACTIVE is \(active) (the DMA-alloc gap aside) but TTM holds \(ttmPages) pages"
      }
      let audit = machine.audit()
      if audit.inconsistentFrames != 0 { return "\(audit.inconsistentFrames) frame(s) disagree with the free lists" }
      if audit.lockViolations != 0 { return "\(audit.lockViolations) folio lock violation(s)" }
      // The list is a well-formed ring holding exactly the purgeable BOs.
      let purgeable = Set(pfBOs.filter { !$0.isFreed && $0.base.isPurgeable }.map(\.base.madvList))
      if let v = pf.lists.violations(pf.shrinkerList, members: purgeable).first { return "shrinker_list: \(v)" }
      return nil
    }

    /// Tears everything down; returns what leaked, if anything.
    mutating func teardown() -> String? {
      do {
        machine.faults.disarm(.backupFaultInject)
        machine.faults.disarm(.failPageAlloc)
        machine.faults.disarm(.failslab)
        machine.faults.disarm(.ttmResourceAlloc)
        for case let bo? in bos { try ttm.destroy(bo) }
        ttm.fini()
        for case let bo? in legacyBOs { try legacy.destroy(bo) }
        legacy.fini()
        try pf.close(file)
        pf.fini()
        for (_, pages) in pressure { for page in pages { machine.freePages(page, order: 0) } }
        pressure = [:]
        for task in machine.tasks where task.pid != machine.currentPID { machine.exitTask(task.pid) }
      } catch {
        return "teardown failed: \(error)"
      }
      let audit = machine.audit()
      return audit.isClean ? nil : audit.description
    }
  }
}
