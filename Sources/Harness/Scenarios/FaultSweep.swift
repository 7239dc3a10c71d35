import BOCore
import KernelTrees
import Patches

// Fault-injection sweeps over the data-driven scenarios: for every scenario, on both variants
// of its patch, fail the k-th call of each fault point the scenario reaches (k = 1 ... the calls
// a fault-free run makes), then check that whatever the operation returned, the objects are
// restorable (content intact) or droppable, and that teardown leaves nothing behind.

/// A property a faulted run must keep.
public enum FaultSweepProperty: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
  /// The kernel must not halt (oops, BUG, lockup, panic): during the steps, the restore after
  /// them, or the teardown.
  case halt
  /// A BO whose content the fault-free run keeps must come back intact once the fault is
  /// gone and its pages are restored (or be dropped cleanly when it cannot be restored).
  case content
  /// After every BO is destroyed and every task exited, the accounting audit is clean.
  case leak

  public var description: String { rawValue }
}

/// One broken property of one run, with what was seen.
public struct FaultSweepBreak: Hashable, Sendable, CustomStringConvertible {
  public let property: FaultSweepProperty
  /// What broke, e.g. `oops at steps[11] (shrink): BUG: kernel NULL pointer dereference` or
  /// `1 page(s) held by kmalloc: ttm_pool_tt_restore`.
  public let detail: String

  public init(property: FaultSweepProperty, detail: String) {
    self.property = property
    self.detail = detail
  }

  public var description: String { "\(property): \(detail)" }
}

/// A break the before variant of a patch is known to have, with the upstream text that
/// explains it. A faulted run's break matching no entry is a model bug.
public struct FaultSweepExpectedBreak: Hashable, Sendable, CustomStringConvertible {
  /// The patch whose scenarios show it.
  public let patch: String
  /// The variant that has it (a fix's after variant keeps every property; a feature patch's
  /// after tree may still lack a later fix).
  public let variant: Variant
  /// The property it breaks.
  public let property: FaultSweepProperty
  /// Text the break's detail contains.
  public let detail: String
  /// The upstream patch whose commit message explains it.
  public let explainedBy: String
  /// Why, in the upstream patch's words.
  public let why: String

  /// Whether it explains `b` seen on `variant` of `patch`'s pair tree `tree`: only a tree
  /// that lacks the explaining fix may show it.
  public func matches(_ b: FaultSweepBreak, patch: String, variant: Variant, tree: KernelTree) -> Bool {
    self.patch == patch && self.variant == variant && property == b.property && b.detail.contains(detail)
      && !tree.stack.contains(explainedBy)
  }

  public var description: String { "\(patch) \(variant) \(property) (\(explainedBy)): \(why)" }
}

/// How one faulted run ended.
public enum FaultSweepOutcome: Hashable, Sendable {
  /// Every property held: the operation succeeded with intact content, or failed cleanly.
  case ok
  /// Every break is a known break of the before variant (the entries that explain them).
  case expectedBreak([FaultSweepExpectedBreak])
  /// A break no upstream patch explains.
  case modelBug([FaultSweepBreak])
}

/// One run of a scenario with one injected fault (or none, for the baseline).
public struct FaultSweepRun: Hashable, Sendable {
  /// The call failed (1-based from the first step); `nil` for the fault-free baseline.
  public let nth: Int?
  /// Whether the fault was injected (a scenario that arms the same point itself can take
  /// the call over).
  public let injected: Bool
  /// Whether the steps ran to the end (`false`: a step failed with an error or halted).
  public let completed: Bool
  /// BOs that could not be restored after the steps and were dropped instead.
  public let dropped: [String]
  public let breaks: [FaultSweepBreak]
  public let outcome: FaultSweepOutcome
}

/// The sweep of one fault point over one scenario on one variant.
public struct FaultSweepCell: Hashable, Sendable {
  public let file: String
  public let patch: String
  public let variant: Variant
  public let point: FaultPoint
  /// The calls of `point` the fault-free run's steps make.
  public let calls: Int
  /// The fault-free run.
  public let baseline: FaultSweepRun
  /// The BOs whose content a faulted run must bring back (what the fault-free run keeps;
  /// where it halts, what the other variant's fault-free run keeps).
  public let keep: Set<String>
  /// One run per k swept (every k up to ``FaultSweep/maxRunsPerCell``, else an even sample).
  public let runs: [FaultSweepRun]

  /// Whether k was sampled rather than swept exhaustively.
  public var sampled: Bool { runs.count < calls }
  public var injected: Int { runs.filter(\.injected).count }
  public var ok: Int { runs.filter { $0.outcome == .ok }.count }
  public var expectedBreaks: Int { runs.filter { if case .expectedBreak = $0.outcome { true } else { false } }.count }
  public var modelBugs: Int { runs.filter { if case .modelBug = $0.outcome { true } else { false } }.count }
  /// Runs that left a BO that could not be restored and was dropped.
  public var dropped: Int { runs.filter { !$0.dropped.isEmpty }.count }
}

/// The sweep engine.
public enum FaultSweep {
  /// The points swept on TTM scenarios: the k-th page allocation (with the
  /// `fail_page_alloc` filters off, so every allocation is a candidate), shmem read, shmem
  /// insert, every place the kernel consults `backup_fault_inject`, and every
  /// `ttm_resource_alloc()` (BO creation and placement moves).
  public static let ttmPoints: [FaultPoint] = [
    .failPageAlloc, .shmemRead, .shmemInsertNode, .backupFaultInject, .ttmResourceAlloc,
  ]
  /// The points swept on panfrost scenarios (its pages come from shmem).
  public static let panfrostPoints: [FaultPoint] = [.failPageAlloc, .shmemRead]
  /// The most runs per (scenario, variant, point); beyond it k is sampled evenly, first and
  /// last call included.
  public static let maxRunsPerCell = 64

  public static func points(for scenario: Scenario) -> [FaultPoint] {
    scenario.driver == .panfrost ? panfrostPoints : ttmPoints
  }

  /// Patches that add a feature rather than fix a bug: their after trees may still show a
  /// break a later fix explains. A fix's after variant shows none.
  public static let featurePatches: Set<String> = PatchCatalog.features

  /// Every break the sweep may see, each explained by an upstream commit message
  /// (patches/*.patch), per (patch, variant, property). A break matches only on a tree that
  /// lacks the explaining fix. The scenarios whose own before expectation is a halt or a
  /// leak are here as well (their fault-free run breaks the property already).
  public static let expectedBreaks: [FaultSweepExpectedBreak] = {
    let staleRestore =
      "\"ttm_pool_restore_and_alloc() can successfully complete the restore process via ttm_pool_restore_commit(), but tt->restore is not dropped afterward\": a restore that failed part-way (a failed shmem read, an allocation, backup_fault_inject's -EINTR) and then resumed to success leaves tt->restore set, and destroying the tt never frees it"
    func row(
      _ patch: String, _ variant: Variant, _ property: FaultSweepProperty, _ detail: String, _ fix: String,
      _ why: String
    ) -> FaultSweepExpectedBreak {
      FaultSweepExpectedBreak(
        patch: patch, variant: variant, property: property, detail: detail, explainedBy: fix, why: why)
    }
    let dropRestore = PatchCatalog.dropRestoreAfterRestore.slug
    let restoreLeak = "kmalloc: ttm_pool_tt_restore"
    return [
      row(dropRestore, .before, .leak, restoreLeak, dropRestore, staleRestore),
      // Branch trees without "Drop tt->restore" (6.18.y, 7.1.y) run the zero-copy patch's
      // scenarios on its Before side: a shmem read failing in the last block of a restore
      // leaves the stale state once the restore is resumed. Its pair trees carry the fix, as
      // its pre-image does, so the sweep itself does not meet this.
      row(PatchCatalog.zeroCopyInsertFolio.slug, .before, .leak, restoreLeak, dropRestore, staleRestore),
      row(
        PatchCatalog.nullHandlePagesBackup.slug, .before, .halt, "NULL pointer dereference",
        PatchCatalog.nullHandlePagesBackup.slug,
        "\"Pages in ttm_pool_backup can be NULL or backup handles (ttm_backup_page_ptr_is_handle()), neither of which can be passed to set_pages_array_wb() or freed\": a purge of a partially restored tt oopses"
      ),
      row(
        PatchCatalog.nativeOrderBackup.slug, .before, .leak, "folio lock violation",
        PatchCatalog.nativeOrderBackup.slug,
        "\"The old `if (ret)` check would have double-unlocked in that hard-error case\": after a hard writeback error ttm_backup_backup_page() unlocks the folio shmem_writeout() already unlocked"
      ),
      row(
        PatchCatalog.madviseListMove.slug, .before, .halt, "list walk does not terminate",
        PatchCatalog.madviseListMove.slug,
        "\"Calling madvise IOCTL twice on BO causes memory shrinker list corruption\": the second list_add_tail() leaves a self-loop and the shrinker's next walk spins"
      ),
      row(
        PatchCatalog.madviseListMove.slug, .before, .halt, "use-after-free", PatchCatalog.madviseListMove.slug,
        "\"Calling madvise IOCTL twice on BO causes memory shrinker list corruption\": after the second list_add_tail() the list head still points at the BO, so freeing it leaves shrinker_list pointing at freed memory"
      ),
    ]
  }()

  /// One run of `scenario` on `tree` with the `nth` call of `point` failed (`nil`: none),
  /// classified against `variant` of its patch; for replaying a sweep's case, or running it
  /// on another tree. `keep` names the BOs whose content must come back intact.
  public static func run(
    _ scenario: Scenario, on tree: KernelTree, variant: Variant, point: FaultPoint, nth: Int?, keep: Set<String>
  ) -> FaultSweepRun {
    Probe.run(scenario, tree: tree, point: point, nth: nth)
      .run(keeping: keep, patch: scenario.patch, variant: variant, tree: tree)
  }

  /// Sweeps every point of `scenario` on `variant` of its patch's pair. Throws for an
  /// unknown patch.
  /// `progress` is told each point as its sweep starts, with the runs done and to do, for a
  /// caller that shows progress.
  public static func sweep(
    _ scenario: Scenario, variant: Variant, maxRuns: Int = maxRunsPerCell,
    progress: (_ point: FaultPoint, _ run: Int, _ of: Int) -> Void = { _, _, _ in }
  ) throws -> [FaultSweepCell] {
    guard let model = PatchModels.model(scenario.patch) else {
      throw ScenarioError("\(scenario.file): patch: unknown patch \"\(scenario.patch)\"")
    }
    let tree = KernelTree.pair(model, variant)
    let other = KernelTree.pair(model, variant == .before ? .after : .before)
    return points(for: scenario).map { point in
      sweep(
        scenario, variant: variant, tree: tree, other: other, point: point, maxRuns: max(2, maxRuns),
        progress: { progress(point, $0, $1) })
    }
  }

  /// The k values swept for `calls` calls.
  static func ks(_ calls: Int, maxRuns n: Int) -> [Int] {
    guard calls > n else { return Array(stride(from: 1, through: calls, by: 1)) }
    return Array(Set((0..<n).map { 1 + $0 * (calls - 1) / (n - 1) })).sorted()
  }

  static func sweep(
    _ scenario: Scenario, variant: Variant, tree: KernelTree, other: KernelTree, point: FaultPoint, maxRuns: Int,
    progress: (Int, Int) -> Void = { _, _ in }
  ) -> FaultSweepCell {
    let base = Probe.run(scenario, tree: tree, point: point, nth: nil)
    // What the fault-free run keeps is what a faulted run must keep; where the fault-free
    // run halts, the other variant's fault-free run says.
    var keep = base.intact
    if base.halted { keep = Probe.run(scenario, tree: other, point: point, nth: nil).intact }
    let classify = { (p: Probe) -> FaultSweepRun in
      p.run(keeping: keep, patch: scenario.patch, variant: variant, tree: tree)
    }
    let ks = ks(base.calls, maxRuns: maxRuns)
    let runs = ks.enumerated().map { i, k in
      progress(i, ks.count)
      return classify(Probe.run(scenario, tree: tree, point: point, nth: k))
    }
    return FaultSweepCell(
      file: scenario.file, patch: scenario.patch, variant: variant, point: point, calls: base.calls,
      baseline: classify(base), keep: keep, runs: runs)
  }

  /// The entries explaining `breaks`, or the breaks none explains.
  static func classify(
    _ breaks: [FaultSweepBreak], patch: String, variant: Variant, tree: KernelTree
  ) -> FaultSweepOutcome {
    if breaks.isEmpty { return .ok }
    var why: [FaultSweepExpectedBreak] = []
    var unexplained: [FaultSweepBreak] = []
    for b in breaks {
      if let e = expectedBreaks.first(where: { $0.matches(b, patch: patch, variant: variant, tree: tree) }) {
        if !why.contains(e) { why.append(e) }
      } else {
        unexplained.append(b)
      }
    }
    return unexplained.isEmpty ? .expectedBreak(why) : .modelBug(unexplained)
  }
}

/// One run: the steps with the fault armed, then the restore, the teardown and the audit.
private struct Probe {
  var calls = 0
  var injected = false
  var completed = true
  var halted = false
  /// BOs whose content is intact after the restore.
  var intact: Set<String> = []
  /// BOs that had content and could not be restored.
  var lost: [String: String] = [:]
  var dropped: [String] = []
  var breaks: [FaultSweepBreak] = []
  let nth: Int?

  func run(keeping keep: Set<String>, patch: String, variant: Variant, tree: KernelTree) -> FaultSweepRun {
    var all = breaks
    for name in keep.sorted() where !intact.contains(name) && lost[name] != nil {
      all.append(FaultSweepBreak(property: .content, detail: "\(name): \(lost[name]!)"))
    }
    return FaultSweepRun(
      nth: nth, injected: injected, completed: completed, dropped: dropped, breaks: all,
      outcome: FaultSweep.classify(all, patch: patch, variant: variant, tree: tree))
  }

  static func run(_ scenario: Scenario, tree: KernelTree, point: FaultPoint, nth: Int?) -> Probe {
    var p = Probe(nth: nth)
    let runner = ScenarioRunner(scenario, tree: tree)
    (p.calls, p.injected) = runner.runSteps(sweeping: point, nth: nth)
    p.completed = runner.halt == nil && runner.runError == nil
    if let halt = runner.halt {
      p.halted = true
      p.breaks.append(FaultSweepBreak(property: .halt, detail: "\(kind(halt)) at \(runner.haltPlace): \(line(halt))"))
      return p
    }
    let machine = runner.machine
    for fault in ScenarioVocabulary.faultPoints { machine.faults.disarm(fault) }
    // The memory pressure goes away; then every BO is restored and checked, or dropped.
    runner.releaseHeldMemory()
    do {
      if let dev = runner.ttm {
        try p.restore(runner, dev)
        for name in runner.boOrder where !runner.destroyed.contains(name) {
          if let bo = runner.ttmBOs[name], dev.lru.contains(where: { $0 === bo }) { try dev.destroy(bo) }
        }
        dev.fini()
      }
      if let dev = runner.panfrost, let file = runner.file {
        for name in runner.boOrder where !runner.destroyed.contains(name) {
          guard let bo = runner.pfBOs[name], !bo.isFreed, let seed = runner.seeds[name] else { continue }
          if dev.contentIntact(bo, seed: seed) {
            p.intact.insert(name)
          } else {
            p.lost[name] = bo.base.pages == nil ? "no pages (purged)" : "content differs"
          }
        }
        for name in runner.boOrder.sorted() {
          guard let bo = runner.pfBOs[name], !bo.isFreed else { continue }
          for _ in 0..<runner.jobs[name, default: 0] { try dev.jobDone(bo) }
        }
        try dev.close(file)
        dev.fini()
      }
    } catch let halt as KernelHalt {
      p.halted = true
      p.breaks.append(FaultSweepBreak(property: .halt, detail: "\(kind(halt)) in restore/teardown: \(line(halt))"))
      return p
    } catch {
      p.breaks.append(FaultSweepBreak(property: .halt, detail: "restore/teardown failed: \(error)"))
      return p
    }
    let audit = machine.audit()
    if !audit.isClean { p.breaks.append(FaultSweepBreak(property: .leak, detail: "\(audit)")) }
    return p
  }

  /// Restores every live TTM BO that has content (populate, no fault armed), checks it, and
  /// destroys the ones that cannot be restored.
  private mutating func restore(_ runner: ScenarioRunner, _ dev: TTMDevice) throws {
    for name in runner.boOrder where !runner.destroyed.contains(name) {
      guard let bo = runner.ttmBOs[name], let seed = runner.seeds[name] else { continue }
      // A BO in VRAM has its content there; any other is restored by populating its tt.
      if bo.ttm != nil && !dev.isWritable(bo) {
        var ret: Int
        do {
          ret = try dev.populate(bo)
        } catch let err as Errno {
          ret = -Int(err.rawValue)
        }
        if ret != 0 {
          dropped.append(name)
          lost[name] = "not restorable (\(kernelReturnDescription(ret))), dropped"
          try dev.destroy(bo)
          continue
        }
      }
      let bad = dev.checkContent(bo, seed: seed).count
      if bad == 0 { intact.insert(name) } else { lost[name] = "\(bad) of \(bo.numPages) pages lost" }
    }
  }

  private static func kind(_ h: KernelHalt) -> String {
    switch h {
    case .panic: "panic"
    case .oops: "oops"
    case .bug: "bug"
    case .lockup: "lockup"
    }
  }

  private static func line(_ h: KernelHalt) -> String {
    if case .oops(let msg, _) = h { return msg }
    return h.description.split(separator: "\n").first.map(String.init) ?? ""
  }
}
