import BOCore
import Foundation
import Harness
import KernelTrees
import ModelTestSupport
import Patches
import Testing

/// The exhaustive madvise exploration (`bo-repro explore madvise`): its results for the
/// issue's budget case, and its deduplicated counts checked against a brute-force run of
/// every sequence on the test's own rig.
@Suite(
  "madvise-list-move: exhaustive exploration of madvise and shrinker sequences",
  .tags(.madviseListMove),
  .bug(
    "https://git.kernel.org/torvalds/c/9fc33eaaa979d112d10fea729edcd2a2e21aa912",
    id: "9fc33eaaa979", "drm/panfrost: Fix shrinker list corruption by madvise IOCTL"))
struct MadviseExplorationTests {
  /// Sound states for `n` BOs when the invariant holds: each BO WILLNEED, purged or on the
  /// list, and the listed ones in any order: `sum over k of C(n,k) * k! * 2^(n-k)`.
  static func soundStates(_ n: Int) -> Int {
    func factorial(_ k: Int) -> Int { (1...max(k, 1)).reduce(1, *) }
    return (0...n).reduce(0) { sum, k in
      sum + factorial(n) / factorial(n - k) * (1 << (n - k))
    }
  }

  @Test("After: no violation over 3 BOs to depth 8, with and without DEBUG_LIST", arguments: [false, true])
  func afterHolds(debugList: Bool) throws {
    let r = try MadviseExploration.run(.after, bos: 3, depth: 8, listDebug: debugList ? .on5x : .off)
    #expect(r.operations.count == 9 && r.sequences == 43_046_721)
    #expect(r.badSequences == 0 && r.reportedSequences == 0 && r.shortest == nil)
    #expect(r.firstFailuresByLength == Array(repeating: 0, count: 8))
    #expect(r.soundStates == Self.soundStates(3) && r.soundStates == 38)
  }

  /// Before, without DEBUG_LIST: the shortest counterexample is the bug itself, a second
  /// DONTNEED on a sole BO, which makes it point to itself.
  @Test("Before: the shortest counterexample is DONTNEED, DONTNEED")
  func beforeFails() throws {
    let r = try MadviseExploration.run(.before, bos: 3, depth: 8)
    let c = try #require(r.shortest)
    #expect(c.steps == [.madvise(bo: 0, madv: PANFROST_MADV_DONTNEED), .madvise(bo: 0, madv: PANFROST_MADV_DONTNEED)])
    #expect(c.failure.kind == .listInvariant)
    #expect(c.failure.detail.hasPrefix("forward walk never returns to the head: shrinker_list -> bo0 -> bo0 -> ..."))
    #expect(
      c.pointerState
        == ringState(["shrinker_list", "bo0", "bo1", "bo2"], order: ["bo0"], overriding: ["bo0": ("bo0", "bo0")]))
    // The numbers `bo-repro explore madvise --bos 3 --depth 8` reports.
    #expect(r.firstFailuresByLength == [0, 3, 39, 378, 3285, 27231, 220_896, 1_774_689])
    #expect(r.badSequences == 14_740_521 && r.badSequencesByKind == ["list invariant": 14_740_521])
    #expect(r.soundStates == 38, "the before variant reaches the same sound states; its bad ones end their sequence")
  }

  /// With DEBUG_LIST the double add of the last BO is refused (sound, but reported); the
  /// shortest counterexample is the silent double add of a head.
  @Test("Before with DEBUG_LIST: reported double adds, and a silent head double add")
  func beforeWithDebugList() throws {
    let r = try MadviseExploration.run(.before, bos: 3, depth: 8, listDebug: .on5x)
    let c = try #require(r.shortest)
    #expect(c.steps.map(\.description) == ["DONTNEED bo0", "DONTNEED bo1", "DONTNEED bo0"])
    #expect(c.failure.kind == .listInvariant && c.failure.detail.contains("bo1 is purgeable but not reachable"))
    #expect(c.dmesg.isEmpty, "every add check passes for a head")
    #expect(r.firstFailuresByLength[0...1] == [0, 0])
    #expect(r.reportedSequences > 0 && r.badSequences > 0 && r.badSequences < 14_740_521)
  }

  /// The deduplicated counts equal a brute-force run of every sequence, each on a fresh
  /// rig of the test's own, checked with the same two properties. The depths reach past the
  /// shortest counterexample with DEBUG_LIST (3) and keep the debug suite fast.
  @Test(
    "Deduplicated counts equal brute force",
    arguments: [(1, 4), (2, 3), (3, 3)], [Variant.before, .after])
  func bruteForce(_ shape: (bos: Int, depth: Int), _ variant: Variant) throws {
    for debugList in [false, true] {
      let config: ListDebugConfig = debugList ? .on5x : .off
      let r = try MadviseExploration.run(variant, bos: shape.bos, depth: shape.depth, listDebug: config)
      let ops = MadviseStep.alphabet(bos: shape.bos)
      var firstFailures = [UInt64](repeating: 0, count: shape.depth)
      var shortest: [MadviseStep]?
      var reported: UInt64 = 0
      var bad: UInt64 = 0
      var sequence = [Int](repeating: 0, count: shape.depth)
      outer: while true {
        let rig = PanfrostRig(variant, listDebug: config)
        let bos = try (0..<shape.bos).map { try rig.pfdev.createBO(rig.file, size: PAGE_SIZE, name: "bo\($0)") }
        var failedAt: Int?
        for (k, i) in sequence.enumerated() {
          let sound: Bool
          do {
            switch ops[i] {
            case .madvise(let bo, let madv): _ = try rig.pfdev.madvise(rig.file, bos[bo], madv)
            case .count: _ = try rig.count()
            case .scan(let n): _ = try rig.scan(n)
            }
            let purgeable = Set(bos.filter(\.base.isPurgeable).map(\.base.madvList))
            sound = rig.pfdev.lists.violations(rig.pfdev.shrinkerList, members: purgeable).isEmpty
          } catch is KernelHalt {
            sound = false
          }
          if !sound {
            failedAt = k
            break
          }
        }
        if let k = failedAt {
          bad += 1
          // Count each minimal failing prefix once: only when the rest of the sequence is all
          // first operations.
          if sequence[(k + 1)...].allSatisfy({ $0 == 0 }) {
            firstFailures[k] += 1
            if shortest == nil || k + 1 < shortest!.count { shortest = sequence[...k].map { ops[$0] } }
          }
        } else if !rig.pfdev.lists.reports.isEmpty {
          reported += 1
        }
        // Next sequence in lexicographic order.
        var pos = shape.depth - 1
        while pos >= 0 {
          sequence[pos] += 1
          if sequence[pos] < ops.count { continue outer }
          sequence[pos] = 0
          pos -= 1
        }
        break
      }
      #expect(r.firstFailuresByLength == firstFailures, "DEBUG_LIST \(debugList)")
      #expect(r.badSequences == bad && r.reportedSequences == reported, "DEBUG_LIST \(debugList)")
      #expect(r.shortest?.steps == shortest, "DEBUG_LIST \(debugList)")
      if variant == .after { #expect(bad == 0) }
    }
  }

  @Test("Out-of-range input is refused, depth 0 is the empty sequence")
  func bounds() throws {
    #expect(throws: MadviseExplorationError.bosOutOfRange(0)) { try MadviseExploration.run(.after, bos: 0, depth: 3) }
    #expect(throws: MadviseExplorationError.bosOutOfRange(7)) { try MadviseExploration.run(.after, bos: 7, depth: 3) }
    #expect(throws: MadviseExplorationError.depthOutOfRange(13)) {
      try MadviseExploration.run(.before, bos: 1, depth: 13)
    }
    let r = try MadviseExploration.run(.before, bos: 2, depth: 0)
    #expect(r.sequences == 1 && r.badSequences == 0 && r.soundStates == 1 && r.transitions == 0)
  }

  @Test("Results and steps round-trip through JSON")
  func json() throws {
    let r = try MadviseExploration.run(.before, bos: 2, depth: 3)
    let data = try JSONEncoder().encode(r)
    #expect(try JSONDecoder().decode(MadviseExplorationResult.self, from: data) == r)
    for step in MadviseStep.alphabet(bos: 2) { #expect(MadviseStep(step.description) == step) }
    #expect(MadviseStep("scan 0") == nil && MadviseStep("DONTNEED x") == nil && MadviseStep("purge") == nil)
  }
}
