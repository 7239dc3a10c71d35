import BOCore
import DropRestoreAfterRestoreModel
import KernelTrees
import MadviseListMoveModel
import PackageTestSupport
import Patches
import Testing

@testable import Harness

/// The checkers run against models broken on purpose (``KernelTree/breaking(_:_:)``): a
/// correct model never trips them, so only a broken one shows that each reports exactly the
/// failure put in, at the step it happens, with the shortest prefix that shows it, and that
/// the fault sweep's and the fuzzer's "explained by an upstream fix" excuse is not given on a
/// tree that carries the fix.
@Suite("Checkers against broken models")
struct BrokenModelTests {
  /// Mainline's tree (panfrost's fix included), as the fuzz tests use it.
  static let mainline = try! KernelTree(
    base: "mainline", stack: ["madvise-list-move"] + StableTrees.branch("mainline")!.stack)

  /// `ttm_tt_create()` that also allocates a 64-byte object it never frees.
  static let leakingCreate = mainline.breaking("ttm_tt_create leaks a kmalloc") { f in
    let create = f.ttm.ttmTTCreate
    f.ttm.ttmTTCreate = { dev, tt in
      _ = try dev.machine.kmalloc(64, .GFP_KERNEL, what: "broken_tt_create")
      return try create(dev, tt)
    }
  }

  /// `ttm_tt_populate()` that leaks an object on every successful populate.
  static let leakingPopulate = mainline.breaking("ttm_tt_populate leaks a kmalloc") { f in
    let populate = f.ttm.ttmTTPopulate
    f.ttm.ttmTTPopulate = { dev, tt, ctx in
      let ret = try populate(dev, tt, ctx)
      if ret == 0 { _ = try dev.machine.kmalloc(64, .GFP_KERNEL, what: "broken_tt_populate") }
      return ret
    }
  }

  /// A restore (a populate of a backed-up tt) that loses the content of its first page.
  static let losingRestore = mainline.breaking("a restore loses page 0") { f in
    let populate = f.ttm.ttmTTPopulate
    f.ttm.ttmTTPopulate = { dev, tt, ctx in
      let restoring = tt.isBackedUp
      let ret = try populate(dev, tt, ctx)
      if ret == 0, restoring, case .page(let page) = tt.pages[0] { dev.machine.writePage(page, .zero) }
      return ret
    }
  }

  /// A populate that miscounts `NR_GPU_ACTIVE` by `delta` pages.
  static func miscounting(_ delta: Int) -> KernelTree {
    mainline.breaking("ttm_tt_populate counts NR_GPU_ACTIVE \(delta > 0 ? "+" : "")\(delta)") { f in
      let populate = f.ttm.ttmTTPopulate
      f.ttm.ttmTTPopulate = { dev, tt, ctx in
        let ret = try populate(dev, tt, ctx)
        if ret == 0 { dev.machine.modNodePageState(.nrGPUActive, delta) }
        return ret
      }
    }
  }

  /// Mainline claims panfrost's fix, but runs the madvise ioctl without it.
  static let unfixedMadvise = mainline.breaking("madvise without list_move_tail") { f in
    MadviseListMove.install(.before, into: &f)
  }

  /// Mainline claims "Drop tt->restore", but runs the restore without it.
  static let unfixedRestore = mainline.breaking("restore keeps tt->restore") { f in
    DropRestoreAfterRestore.install(.before, into: &f)
  }

  /// A DONTNEED that marks the BO purgeable but takes it straight off `shrinker_list`: the
  /// ring stays well formed, only its members are wrong.
  static let forgetfulMadvise = mainline.breaking("DONTNEED leaves the BO off shrinker_list") { f in
    let madvise = f.panfrost.panfrostIoctlMadvise
    f.panfrost.panfrostIoctlMadvise = { pfdev, args, file in
      let ret = try madvise(pfdev, &args, file)
      if ret == 0, args.madv == PANFROST_MADV_DONTNEED, let bo = file.handles[args.handle] {
        try pfdev.listDelInit(bo.base.madvList)
      }
      return ret
    }
  }

  // MARK: The fuzzer's invariants

  /// A restore that loses a page is reported at the restoring populate, naming the page, with
  /// the steps up to it as the prefix.
  @Test("a lost page is reported at the step that loses it")
  func lostPage() throws {
    let steps: [FuzzStep] = [
      .create(pages: 4, writeCombined: false), .populate(bo: 0, retryMayfail: false, interruptible: false),
      .fill(bo: 0), .backup(bo: 0, writeback: false), .populate(bo: 0, retryMayfail: false, interruptible: false),
      .fill(bo: 0), .destroy(bo: 0),
    ]
    #expect(Fuzz.run(seed: 0, steps: steps, on: Self.mainline).failure == nil)
    let r = Fuzz.run(seed: 0, steps: steps, on: Self.losingRestore)
    let failure = try #require(r.failure)
    #expect(failure.step == 4)
    #expect(failure.what == "bo0: page 0 holds 0x0, not what was written")
    #expect(r.steps == Array(steps.prefix(5)))
  }

  /// The balance of the pages TTM holds against `NR_GPU_ACTIVE` is checked both ways.
  @Test("NR_GPU_ACTIVE off by one either way is reported", arguments: [1, -1])
  func gpuActiveBalance(_ delta: Int) throws {
    let steps: [FuzzStep] = [
      .create(pages: 4, writeCombined: false), .create(pages: 2, writeCombined: false),
      .populate(bo: 1, retryMayfail: false, interruptible: false),
    ]
    #expect(Fuzz.run(seed: 0, steps: steps, on: Self.mainline).failure == nil)
    let r = Fuzz.run(seed: 0, steps: steps, on: Self.miscounting(delta))
    let failure = try #require(r.failure)
    #expect(failure.step == 2)
    #expect(failure.what == "NR_GPU_ACTIVE is \(2 + delta) (the DMA-alloc gap aside) but TTM holds 2 pages")
  }

  /// A second DONTNEED on a tree whose madvise lacks the fix breaks `shrinker_list` at once,
  /// and no upstream fix excuses it: the tree claims to carry panfrost's fix.
  @Test("list corruption is reported at the second DONTNEED, unexcused on a tree claiming the fix")
  func listCorruption() throws {
    let steps: [FuzzStep] = [
      .pfCreate, .pfCreate, .madvise(bo: 0, dontneed: true), .madvise(bo: 1, dontneed: true),
      .madvise(bo: 0, dontneed: true), .pfShrink(nrToScan: 8),
    ]
    #expect(Fuzz.run(seed: 0, steps: steps, on: Self.mainline).failure == nil)
    let r = Fuzz.run(seed: 0, steps: steps, on: Self.unfixedMadvise)
    let failure = try #require(r.failure)
    #expect(failure.step == 4)
    #expect(failure.what.hasPrefix("shrinker_list: "), "\(failure.what)")
    #expect(r.steps.count == 5)
    #expect(Fuzz.explanation(failure.what, on: Self.unfixedMadvise) == nil)
  }

  /// `shrinker_list` must hold exactly the purgeable BOs that are not freed: a freed DONTNEED
  /// BO stays purgeable and is rightly off the list, and a purgeable BO missing from a well
  /// formed list is reported at the step that leaves it out.
  @Test("shrinker_list holds exactly the live purgeable BOs")
  func shrinkerListMembers() throws {
    let steps: [FuzzStep] = [
      .pfCreate, .pfCreate, .madvise(bo: 0, dontneed: true), .madvise(bo: 1, dontneed: true),
      .pfClose(bo: 0, racing: 0), .pfShrink(nrToScan: 8),
    ]
    #expect(Fuzz.run(seed: 0, steps: steps, on: Self.mainline).failure == nil)
    let r = Fuzz.run(seed: 0, steps: steps, on: Self.forgetfulMadvise)
    let failure = try #require(r.failure)
    #expect(failure.step == 2)
    #expect(
      failure.what.hasPrefix("shrinker_list: node ")
        && failure.what.hasSuffix(" should be on the list but is not reachable"),
      "\(failure.what)")
    #expect(r.steps == Array(steps.prefix(3)))
  }

  /// The stale restore state found on 7.1.y (seed 246) is explained by "Drop tt->restore",
  /// which 7.1.y lacks; the same failure on a tree that carries the fix in name but not in
  /// code is a model bug, not excused.
  @Test("the stale-restore excuse holds only where the fix is missing")
  func staleRestoreExcuse() throws {
    let workload = Fuzz.workload(seed: 246, steps: 160)
    let r71 = Fuzz.run(
      seed: 246, steps: workload,
      on: try KernelTree(base: "7.1.y", stack: ["madvise-list-move"] + StableTrees.branch("7.1.y")!.stack))
    let on71 = try #require(r71.failure)
    let broken = Fuzz.run(seed: 246, steps: workload, on: Self.unfixedRestore)
    let onBroken = try #require(broken.failure)
    #expect(onBroken.what.contains("holds handle("), "\(onBroken.what)")
    let why = try #require(
      Fuzz.explanation(on71.what, on: try KernelTree(base: "7.1.y", stack: StableTrees.branch("7.1.y")!.stack)))
    #expect(why.explainedBy == PatchCatalog.dropRestoreAfterRestore.slug)
    #expect(Fuzz.explanation(onBroken.what, on: Self.unfixedRestore) == nil)
    // A tree without the backup code at all has nothing the fix changes: no excuse either.
    #expect(Fuzz.explanation(on71.what, on: try KernelTree(base: "6.12.y", stack: [])) == nil)
  }

  // MARK: The shortest failing prefix

  /// A leak made by the first step is reported with a one-step prefix.
  @Test("a leak made by the first step has a one-step prefix")
  func oneStepPrefix() throws {
    let steps = Fuzz.workload(seed: 3, steps: 60)
    guard case .create = steps[0] else {
      Issue.record("seed 3's workload starts with \(steps[0]), not a create")
      return
    }
    #expect(Fuzz.run(seed: 3, steps: steps, on: Self.mainline).failure == nil)
    let r = Fuzz.run(seed: 3, steps: steps, on: Self.leakingCreate)
    let failure = try #require(r.failure)
    #expect(r.steps == [steps[0]])
    #expect(failure.step == 0)
    #expect(failure.what.hasPrefix("teardown: "), "\(failure.what)")
    #expect(failure.what.contains("broken_tt_create"), "\(failure.what)")
  }

  /// A leak made by the first successful populate: the prefix ends there, it fails alone when
  /// replayed, and one step less does not.
  @Test("a teardown leak's prefix ends at the step that leaks")
  func leakPrefix() throws {
    let steps: [FuzzStep] = [
      .create(pages: 4, writeCombined: false), .fill(bo: 0), .create(pages: 2, writeCombined: true),
      .populate(bo: 1, retryMayfail: false, interruptible: false), .fill(bo: 1),
      .populate(bo: 0, retryMayfail: false, interruptible: false), .destroy(bo: 1),
    ]
    #expect(Fuzz.run(seed: 0, steps: steps, on: Self.mainline).failure == nil)
    let r = Fuzz.run(seed: 0, steps: steps, on: Self.leakingPopulate)
    let failure = try #require(r.failure)
    #expect(r.steps == Array(steps.prefix(4)))
    #expect(failure.step == 3)
    #expect(failure.what.hasPrefix("teardown: ") && failure.what.contains("broken_tt_populate"), "\(failure.what)")
    let replay = Fuzz.run(seed: 0, steps: r.steps, on: Self.leakingPopulate)
    #expect(replay.failure?.what == failure.what && replay.steps == r.steps)
    #expect(Fuzz.run(seed: 0, steps: Array(steps.prefix(3)), on: Self.leakingPopulate).failure == nil)
  }

  // MARK: The fault sweep's excuse

  static func scenario(_ name: String) throws -> Scenario {
    try ScenarioLibrary.load(file: scenariosDirectory + "/" + name)
  }

  /// The stale restore's leak on drop-restore's Before side is the row the fix explains; the
  /// same leak on a tree that carries the fix in name is a model bug.
  @Test("a known leak is excused on the unfixed tree only")
  func sweepExcuse() throws {
    let s = try Self.scenario("drop-restore-after-restore--stale-restore-state.json")
    let model = try #require(PatchModels.model(s.patch))
    let before = FaultSweep.run(
      s, on: KernelTree.pair(model, .before), variant: .before, point: .shmemRead, nth: nil, keep: [])
    guard case .expectedBreak(let why) = before.outcome else {
      Issue.record("the unfixed tree's leak is \(before.outcome), not an expected break")
      return
    }
    #expect(why.map(\.explainedBy) == [PatchCatalog.dropRestoreAfterRestore.slug])
    #expect(before.breaks.map(\.property) == [.leak])
    let broken = KernelTree.pair(model, .after).breaking("restore keeps tt->restore") { f in
      DropRestoreAfterRestore.install(.before, into: &f)
    }
    let run = FaultSweep.run(s, on: broken, variant: .before, point: .shmemRead, nth: nil, keep: [])
    guard case .modelBug(let unexcused) = run.outcome else {
      Issue.record("the same leak on a tree carrying the fix gives \(run.outcome)")
      return
    }
    #expect(unexcused.map(\.property) == [.leak])
    #expect(unexcused.first?.detail.contains("ttm_pool_tt_restore") == true, "\(unexcused)")
  }

  /// A leak, a lost page and a halt no upstream patch explains are model bugs, each with its
  /// property and what was seen.
  @Test("unexplained breaks are model bugs, by property")
  func sweepModelBugs() throws {
    let s = try Self.scenario("shmem-backup-v14--partial-backup.json")
    let leak = FaultSweep.run(s, on: Self.leakingPopulate, variant: .after, point: .shmemRead, nth: nil, keep: [])
    guard case .modelBug(let leaks) = leak.outcome else {
      Issue.record("a leaking populate gives \(leak.outcome)")
      return
    }
    #expect(leaks.map(\.property) == [.leak])
    #expect(leaks.first?.detail.contains("broken_tt_populate") == true, "\(leaks)")

    let keep: Set<String> = ["bo"]
    let ok = FaultSweep.run(s, on: Self.mainline, variant: .after, point: .shmemRead, nth: nil, keep: keep)
    #expect(ok.outcome == .ok)
    let lost = FaultSweep.run(s, on: Self.losingRestore, variant: .after, point: .shmemRead, nth: nil, keep: keep)
    guard case .modelBug(let lostBreaks) = lost.outcome else {
      Issue.record("a restore losing a page gives \(lost.outcome)")
      return
    }
    #expect(!lostBreaks.isEmpty)
    #expect(lostBreaks.allSatisfy { $0.property == .content && $0.detail == "bo: 1 of 32 pages lost" })

    // The use-after-free the madvise row excuses on its unfixed tree is no excuse on a tree
    // that claims the fix, even classified as the Before side.
    let p = try Self.scenario("madvise-list-move--free-after-double-dontneed.json")
    let unfixed = FaultSweep.run(
      p, on: KernelTree.pair(MadviseListMove.self, .before), variant: .before, point: .shmemRead, nth: nil, keep: [])
    guard case .expectedBreak = unfixed.outcome else {
      Issue.record("the unfixed madvise gives \(unfixed.outcome)")
      return
    }
    let halt = FaultSweep.run(p, on: Self.unfixedMadvise, variant: .before, point: .shmemRead, nth: nil, keep: [])
    guard case .modelBug(let halts) = halt.outcome else {
      Issue.record("the unfixed madvise on a fixed tree gives \(halt.outcome)")
      return
    }
    #expect(halts.map(\.property) == [.halt])
    #expect(halts.first?.detail.contains("use-after-free") == true, "\(halts)")
  }

  /// An expected-break row matches only its own patch, variant, property and text, and only
  /// on a tree lacking the fix: each input below differs from the matching one in one respect.
  @Test(
    "an expected break matches in every respect or not at all",
    arguments: [
      ("matching", true), ("other patch", false), ("other variant", false), ("other property", false),
      ("other text", false), ("tree carries the fix", false),
    ])
  func rowMatching(_ respect: String, _ matches: Bool) throws {
    let slug = PatchCatalog.dropRestoreAfterRestore.slug
    let row = try #require(
      FaultSweep.expectedBreaks.first { $0.patch == slug && $0.property == .leak && $0.variant == .before })
    let model = try #require(PatchModels.model(slug))
    var patch = slug
    var variant = Variant.before
    var b = FaultSweepBreak(property: .leak, detail: "1 object(s) held by kmalloc: ttm_pool_tt_restore")
    var tree = KernelTree.pair(model, .before)
    switch respect {
    case "other patch": patch = PatchCatalog.nativeOrderBackup.slug
    case "other variant": variant = .after
    case "other property": b = FaultSweepBreak(property: .halt, detail: b.detail)
    case "other text": b = FaultSweepBreak(property: .leak, detail: "1 object(s) held by kmalloc: ttm_pool_dma")
    case "tree carries the fix": tree = KernelTree.pair(model, .after)
    default: break
    }
    #expect(row.matches(b, patch: patch, variant: variant, tree: tree) == matches)
  }

  /// A run with an explained break and an unexplained one is a model bug, whichever comes
  /// first: an excuse covers only the break it names.
  @Test("an excuse covers only the break it names")
  func excuseCoversOnlyItsBreak() throws {
    let slug = PatchCatalog.dropRestoreAfterRestore.slug
    let row = try #require(
      FaultSweep.expectedBreaks.first { $0.patch == slug && $0.property == .leak && $0.variant == .before })
    let tree = KernelTree.pair(try #require(PatchModels.model(slug)), .before)
    let explained = FaultSweepBreak(property: .leak, detail: "1 object(s) held by kmalloc: ttm_pool_tt_restore")
    let other = FaultSweepBreak(property: .content, detail: "bo: 1 of 32 pages lost")
    func classify(_ breaks: [FaultSweepBreak]) -> FaultSweepOutcome {
      FaultSweep.classify(breaks, patch: slug, variant: .before, tree: tree)
    }
    #expect(classify([]) == .ok)
    #expect(classify([explained]) == .expectedBreak([row]))
    #expect(classify([explained, other]) == .modelBug([other]))
    #expect(classify([other, explained]) == .modelBug([other]))
  }
}
