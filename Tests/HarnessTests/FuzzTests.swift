import BOCore
import Harness
import KernelTrees
import Patches
import Testing

/// Randomized workloads: a fixed set of seeds on the fixed tree must keep every invariant,
/// and the fuzzer must catch a known bug with a replayable prefix.
@Suite("Randomized workloads")
struct FuzzTests {
  /// Mainline's tree: every fix but the unmerged zero-copy patch, panfrost's included.
  static let mainline = try! KernelTree(
    base: "mainline", stack: ["madvise-list-move"] + StableTrees.branch("mainline")!.stack)

  @Test("fixed seeds on mainline keep every invariant", arguments: 1...8)
  func fixedSeeds(seed: UInt64) {
    let r = Fuzz.run(seed: seed, steps: Fuzz.workload(seed: seed, steps: 150), on: Self.mainline)
    #expect(r.failure == nil, "seed \(seed): \(r.failure.map { "step \($0.step + 1): \($0.what)" } ?? "")")
    #expect(r.checks > 0)
  }

  /// A workload is a pure function of its seed, and its prefixes are workloads.
  @Test("workloads are deterministic and prefix-closed")
  func deterministic() {
    let long = Fuzz.workload(seed: 42, steps: 100)
    #expect(long == Fuzz.workload(seed: 42, steps: 100))
    #expect(Array(long.prefix(30)) == Fuzz.workload(seed: 42, steps: 30))
    #expect(long != Fuzz.workload(seed: 43, steps: 100))
  }

  /// 7.1.y lacks "Drop tt->restore": a random workload reaches the stale restore state on its
  /// own (an interrupted restore, resumed), and a later restore leaves handles in a populated
  /// tt. 7.2.y, which carries the fix, survives the same workload.
  @Test("the fuzzer finds the stale-restore bug on 7.1.y, not on 7.2.y")
  func findsStaleRestoreOn71() {
    let workload = Fuzz.workload(seed: 246, steps: 160)
    func tree(_ name: String) -> KernelTree {
      try! KernelTree(base: name, stack: ["madvise-list-move"] + StableTrees.branch(name)!.stack)
    }
    let r71 = Fuzz.run(seed: 246, steps: workload, on: tree("7.1.y"))
    #expect(r71.failure?.what.contains("holds handle(") == true, "\(String(describing: r71.failure))")
    let r72 = Fuzz.run(seed: 246, steps: workload, on: tree("7.2.y"))
    #expect(r72.failure == nil, "\(String(describing: r72.failure))")
  }

  /// On a tree with the madvise bug the fuzzer finds a broken shrinker_list; the prefix it
  /// reports fails again, at its last step, when replayed.
  @Test("a known bug is found, and its prefix replays")
  func findsKnownBug() throws {
    let buggy = KernelTree.pair(MadviseListMoveModelTree.model, .before)
    let found = (1...40).lazy.map { seed in
      Fuzz.run(seed: seed, steps: Fuzz.workload(seed: seed, steps: 200), on: buggy)
    }.first { $0.failure != nil }
    let r = try #require(found, "no seed of 40 hit the double DONTNEED")
    let failure = try #require(r.failure)
    #expect(failure.what.contains("shrinker_list") || failure.what.contains("kernel halt"), "\(failure.what)")
    #expect(failure.step == r.steps.count - 1)
    let replay = Fuzz.run(seed: r.seed, steps: Fuzz.workload(seed: r.seed, steps: r.steps.count), on: buggy)
    #expect(replay.failure?.step == failure.step && replay.failure?.what == failure.what)
  }

  /// A leak only the teardown audit sees (seed 16 on 7.1.y: the stale restore struct) is
  /// reported with the shortest prefix whose teardown leaks, and that prefix replays while
  /// one step less does not.
  @Test("a teardown-only failure reports its shortest prefix, which replays")
  func teardownPrefix() throws {
    let tree = try KernelTree(base: "7.1.y", stack: ["madvise-list-move"] + StableTrees.branch("7.1.y")!.stack)
    let r = Fuzz.run(seed: 16, steps: Fuzz.workload(seed: 16, steps: 300), on: tree)
    let failure = try #require(r.failure)
    #expect(failure.what.hasPrefix("teardown: ") && failure.what.contains("ttm_pool_tt_restore"), "\(failure.what)")
    #expect(failure.step == r.steps.count - 1 && r.steps.count < 300)
    let replay = Fuzz.run(seed: 16, steps: Fuzz.workload(seed: 16, steps: r.steps.count), on: tree)
    #expect(replay.failure?.what == failure.what && replay.steps.count == r.steps.count)
    let shorter = Fuzz.run(seed: 16, steps: Fuzz.workload(seed: 16, steps: r.steps.count - 1), on: tree)
    #expect(shorter.failure == nil)
  }
}

/// The madvise model, for the buggy tree.
enum MadviseListMoveModelTree {
  static var model: any PatchModel.Type { PatchModels.model("madvise-list-move")! }
}
