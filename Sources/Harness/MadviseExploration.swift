import BOCore
import KernelTrees
import MadviseListMoveModel
import Patches

/// One operation of a madvise exploration: an ioctl on one BO or a call of the shrinker.
public enum MadviseStep: Hashable, Sendable, Codable, CustomStringConvertible {
  /// `DRM_IOCTL_PANFROST_MADVISE` with `madv` on BO `bo`.
  case madvise(bo: Int, madv: UInt32)
  /// `panfrost_gem_shrinker_count()`.
  case count
  /// `panfrost_gem_shrinker_scan()` with `sc->nr_to_scan = nrToScan` (pages).
  case scan(nrToScan: Int)

  /// `DONTNEED bo0`, `WILLNEED bo1`, `count`, `scan 1`, `scan 128`.
  public var description: String {
    switch self {
    case .madvise(let bo, let madv): "\(madv == PANFROST_MADV_DONTNEED ? "DONTNEED" : "WILLNEED") bo\(bo)"
    case .count: "count"
    case .scan(let n): "scan \(n)"
    }
  }

  /// Parses ``description``.
  public init?(_ text: String) {
    let parts = text.split(separator: " ")
    switch (parts.first, parts.count) {
    case ("count"?, 1): self = .count
    case ("scan"?, 2):
      guard let n = Int(parts[1]), n > 0 else { return nil }
      self = .scan(nrToScan: n)
    case ("DONTNEED"?, 2), ("WILLNEED"?, 2):
      guard parts[1].hasPrefix("bo"), let bo = Int(parts[1].dropFirst(2)), bo >= 0 else { return nil }
      self = .madvise(bo: bo, madv: parts[0] == "DONTNEED" ? PANFROST_MADV_DONTNEED : PANFROST_MADV_WILLNEED)
    default: return nil
    }
  }

  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    guard let step = MadviseStep(text) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad step '\(text)'"))
    }
    self = step
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(description)
  }

  /// The alphabet over `bos` BOs, in exploration order: DONTNEED and WILLNEED per BO, then
  /// count, a scan of one page and a scan of `SHRINK_BATCH` pages.
  public static func alphabet(bos: Int) -> [MadviseStep] {
    (0..<bos).flatMap {
      [.madvise(bo: $0, madv: PANFROST_MADV_DONTNEED), .madvise(bo: $0, madv: PANFROST_MADV_WILLNEED)]
    }
      + [.count, .scan(nrToScan: 1), .scan(nrToScan: SHRINK_BATCH)]
  }
}

/// What went wrong at a step.
public struct MadviseFailure: Hashable, Sendable, Codable, CustomStringConvertible {
  /// The property that broke.
  public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
    /// The step did not return: a lockup, an oops, or DEBUG_LIST's BUG.
    case halt
    /// `shrinker_list` is no longer a well-formed ring (a walk does not return to the head,
    /// `next`/`prev` disagree).
    case listInvariant = "list invariant"
    /// The ring is well formed but does not hold exactly the purgeable BOs.
    case onListIffPurgeable = "on the list iff purgeable"
  }

  public let kind: Kind
  /// What exactly, with BO names.
  public let detail: String

  public var description: String { "\(kind.rawValue): \(detail)" }
}

/// The shortest sequence that goes wrong, with what it left behind.
public struct MadviseCounterexample: Hashable, Sendable, Codable {
  /// The operations, in order; the last one is the first to go wrong.
  public let steps: [MadviseStep]
  /// What went wrong at the last step.
  public let failure: MadviseFailure
  /// `next`/`prev` of every `list_head` afterwards (`"bo0: next=bo0 prev=bo0"`).
  public let pointerState: [String]
  /// The kernel log of the run (DEBUG_LIST reports, "Purging ..." lines).
  public let dmesg: [String]
}

/// The outcome of ``MadviseExploration/run(_:bos:depth:listDebug:)``.
public struct MadviseExplorationResult: Hashable, Sendable, Codable {
  public let variant: Variant
  public let bos: Int
  public let depth: Int
  public let debugList: Bool
  /// The operations, in exploration order.
  public let operations: [MadviseStep]
  /// Distinct sound states seen at any depth (the start included).
  public let soundStates: Int
  /// (state, operation) pairs executed after deduplication.
  public let transitions: Int
  /// All sequences of length `depth`: `operations.count ^ depth`.
  public let sequences: UInt64
  /// Sequences of length `depth` that go wrong at some step.
  public let badSequences: UInt64
  /// Sequences of length `depth` that never go wrong but in which DEBUG_LIST reported (and
  /// refused) a double add.
  public let reportedSequences: UInt64
  /// Entry `k - 1`: sequences of length `k` whose last step is the first to go wrong.
  public let firstFailuresByLength: [UInt64]
  /// Sequences of length `depth` that go wrong, by the kind of their first failure.
  public let badSequencesByKind: [String: UInt64]
  /// The lexicographically first of the shortest sequences that go wrong, if any does.
  public let shortest: MadviseCounterexample?
}

/// Why an exploration cannot run.
public enum MadviseExplorationError: Error, Hashable, Sendable, CustomStringConvertible {
  case bosOutOfRange(Int)
  case depthOutOfRange(Int)

  public var description: String {
    switch self {
    case .bosOutOfRange(let n):
      "--bos must be an integer from \(MadviseExploration.bosRange.lowerBound) to \(MadviseExploration.bosRange.upperBound), got \(n)"
    case .depthOutOfRange(let n):
      "--depth must be an integer from \(MadviseExploration.depthRange.lowerBound) to \(MadviseExploration.depthRange.upperBound), got \(n)"
    }
  }
}

/// Exhaustive exploration of madvise and shrinker sequences on panfrost's `shrinker_list`.
///
/// Every sequence of up to `depth` operations from ``MadviseStep/alphabet(bos:)`` runs on
/// the real model: a machine, a ``PanfrostDevice`` of the tree `KernelTree.pair(MadviseListMove,
/// variant)`, one file and `bos` one-page BOs, with the tree's `panfrost_ioctl_madvise()`
/// and the 2022 shrinker. After every step it checks that the step returned (no lockup, oops
/// or BUG), that `shrinker_list` is a well-formed ring, and that it holds exactly the BOs
/// `drm_gem_shmem_is_purgeable()` says are purgeable. A sequence is bad from its first
/// failing step on and is not extended.
///
/// States are deduplicated per depth by the list's pointer graph and each BO's `madv` and
/// pages, with the number of sequences reaching each, so counts are exact while the work grows
/// with the number of distinct states (38 sound ones for 3 BOs), not with the `9^depth`
/// sequences. A state is re-created by replaying its first (lexicographically smallest)
/// sequence on a fresh machine, so every transition runs the kernel tree's code, not an
/// abstraction of it.
public enum MadviseExploration {
  /// Accepted BO counts.
  public static let bosRange = 1...6
  /// Accepted depths; with 6 BOs `15^12` sequences still fit the 64-bit counts.
  public static let depthRange = 0...12

  /// Explores `variant` of madvise-list-move. `progress` is told each level (sequence
  /// length) as it starts and the states in its frontier, for a caller that shows progress.
  public static func run(
    _ variant: Variant, bos: Int, depth: Int, listDebug: ListDebugConfig = .off,
    progress: (_ level: Int, _ frontier: Int) -> Void = { _, _ in }
  ) throws -> MadviseExplorationResult {
    guard bosRange.contains(bos) else { throw MadviseExplorationError.bosOutOfRange(bos) }
    guard depthRange.contains(depth) else { throw MadviseExplorationError.depthOutOfRange(depth) }
    let tree = KernelTree.pair(MadviseListMove.self, variant)
    let ops = MadviseStep.alphabet(bos: bos)
    let a = UInt64(ops.count)
    var power: [UInt64] = [1]
    for _ in 0..<depth { power.append(power.last! * a) }

    struct Node {
      var count: UInt64
      var path: [MadviseStep]
    }
    struct NodeKey: Hashable {
      let state: MadviseState
      let reported: Bool
    }

    let start = try MadviseRig(tree, bos: bos, listDebug: listDebug)
    var seen: Set<MadviseState> = [start.state]
    var frontier: [(NodeKey, Node)] = [(NodeKey(state: start.state, reported: false), Node(count: 1, path: []))]
    var firstFailures = [UInt64](repeating: 0, count: depth)
    var badByKind: [String: UInt64] = [:]
    var shortest: MadviseCounterexample?
    var transitions = 0

    for level in stride(from: 1, through: depth, by: 1) {
      progress(level, frontier.count)
      var next: [(NodeKey, Node)] = []
      var index: [NodeKey: Int] = [:]
      for (key, node) in frontier {
        for op in ops {
          let rig = try MadviseRig(tree, bos: bos, listDebug: listDebug)
          for step in node.path { try rig.replay(step) }
          let reportsBefore = rig.pfdev.lists.reports.count
          let failure = rig.apply(op)
          transitions += 1
          if let failure {
            firstFailures[level - 1] += node.count
            badByKind[failure.kind.rawValue, default: 0] += node.count * power[depth - level]
            if shortest == nil {
              shortest = MadviseCounterexample(
                steps: node.path + [op], failure: failure, pointerState: rig.pfdev.lists.pointerState(),
                dmesg: rig.machine.dmesg.lines.map(\.description))
            }
            continue
          }
          let state = rig.state
          seen.insert(state)
          let childKey = NodeKey(
            state: state, reported: key.reported || rig.pfdev.lists.reports.count > reportsBefore)
          if let i = index[childKey] {
            next[i].1.count += node.count
          } else {
            index[childKey] = next.count
            next.append((childKey, Node(count: node.count, path: node.path + [op])))
          }
        }
      }
      frontier = next
    }

    let bad = (0..<depth).reduce(UInt64(0)) { $0 + firstFailures[$1] * power[depth - $1 - 1] }
    let reported = frontier.reduce(UInt64(0)) { $0 + ($1.0.reported ? $1.1.count : 0) }
    return MadviseExplorationResult(
      variant: variant, bos: bos, depth: depth, debugList: listDebug.debugList, operations: ops,
      soundStates: seen.count, transitions: transitions, sequences: power[depth], badSequences: bad,
      reportedSequences: reported, firstFailuresByLength: firstFailures, badSequencesByKind: badByKind,
      shortest: shortest)
  }
}

/// The state an exploration deduplicates by: the pointer graph of every `list_head` and each
/// BO's `madv` and whether it holds pages. The BOs are created in the same order on every
/// fresh machine, so equal states behave alike.
struct MadviseState: Hashable {
  let lists: ListHeads
  let madv: [Int32]
  let hasPages: [Bool]
}

/// One fresh machine with a panfrost device of the tree, one file and `bos` one-page BOs.
final class MadviseRig {
  let machine: Machine
  let pfdev: PanfrostDevice
  let file: PanfrostFile
  let bos: [PanfrostGEMObject]

  init(_ tree: KernelTree, bos count: Int, listDebug: ListDebugConfig) throws {
    machine = Machine(MachineConfig(memoryPages: 64 + count, swapPages: 0))
    pfdev = PanfrostDevice(machine: machine, functions: tree.kernelFunctions.panfrost, listDebug: listDebug)
    file = pfdev.open()
    var bos: [PanfrostGEMObject] = []
    for i in 0..<count { bos.append(try pfdev.createBO(file, size: PAGE_SIZE, name: "bo\(i)")) }
    self.bos = bos
  }

  var state: MadviseState {
    MadviseState(lists: pfdev.lists, madv: bos.map(\.base.madv), hasPages: bos.map { $0.base.pages != nil })
  }

  /// Runs a step of a path known to be sound.
  func replay(_ step: MadviseStep) throws {
    if let failure = apply(step) { preconditionFailure("replay of a sound path failed: \(failure)") }
  }

  /// Runs `step` and checks the properties; returns the first failure, or `nil`.
  func apply(_ step: MadviseStep) -> MadviseFailure? {
    do {
      switch step {
      case .madvise(let i, let madv):
        let r = try pfdev.madvise(file, bos[i], madv)
        precondition(r.ret == 0, "madvise of a BO with a single mapping returned \(r.ret)")
      case .count:
        _ = try pfdev.shrinker!.countObjects(ShrinkControl(gfpMask: .GFP_KERNEL, nrToScan: 0), on: machine)
      case .scan(let n):
        var sc = ShrinkControl(gfpMask: .GFP_KERNEL, nrToScan: n, nrScanned: n)
        _ = try pfdev.shrinker!.scanObjects(&sc, on: machine)
      }
    } catch {
      return MadviseFailure(kind: .halt, detail: "\(error)")
    }
    return check()
  }

  /// The list invariant and "on the list iff purgeable".
  func check() -> MadviseFailure? {
    let l = pfdev.lists
    let purgeable = Set(bos.filter(\.base.isPurgeable).map(\.base.madvList))
    let violations = l.violations(pfdev.shrinkerList, members: purgeable)
    let structural = violations.filter {
      switch $0 {
      case .lost, .unexpected: false
      default: true
      }
    }
    if !structural.isEmpty {
      let membership = violations.filter { !structural.contains($0) }
      return MadviseFailure(
        kind: .listInvariant, detail: (structural + membership).map { describe($0, l) }.joined(separator: "; "))
    }
    if !violations.isEmpty {
      return MadviseFailure(
        kind: .onListIffPurgeable, detail: violations.map { describe($0, l) }.joined(separator: "; "))
    }
    return nil
  }

  private func describe(_ v: ListHeads.Violation, _ l: ListHeads) -> String {
    func name(_ n: ListNodeID) -> String { l.names[n.index] }
    func walk(_ w: ListHeads.Walk, _ direction: String) -> String {
      let path = ([pfdev.shrinkerList] + w.visited).map(name).joined(separator: " -> ")
      switch w {
      case .complete: return "\(direction) walk: \(path) -> shrinker_list"
      case .cycle(_, let repeated):
        return "\(direction) walk never returns to the head: \(path) -> \(name(repeated)) -> ..."
      case .fault(_, let at): return "\(direction) walk faults: \(path) -> \(l.name(at))"
      }
    }
    switch v {
    case .forwardWalk(let w): return walk(w, "forward")
    case .backwardWalk(let w): return walk(w, "backward")
    case .brokenLink(let a, let b): return "\(name(a))->next is \(name(b)) but \(name(b))->prev is not \(name(a))"
    case .asymmetric: return "the backward walk is not the forward walk reversed"
    case .lost(let n): return "\(name(n)) is purgeable but not reachable from shrinker_list"
    case .unexpected(let n): return "\(name(n)) is on shrinker_list but not purgeable"
    }
  }
}
