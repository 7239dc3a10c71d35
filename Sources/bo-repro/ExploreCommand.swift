import BOCore
import Foundation
import Harness
import Patches

/// `bo-repro explore madvise`.
enum ExploreCommand: Command {
  static let name = "explore"
  static let help = """
      explore madvise [--bos N] [--depth D] [--variant before|after|both] [--debug-list]
                      [--format text|json]
          Run every sequence of up to D operations (DONTNEED/WILLNEED per BO, the panfrost
          shrinker's count, scan 1 and scan 128) over N one-page BOs (default 3 and 8) on the
          before and after trees of madvise-list-move, deduplicating equal states, and check
          after each step that shrinker_list is a well-formed ring holding exactly the
          purgeable BOs. Reports the shortest counterexample and how many sequences go wrong.
          --debug-list builds the trees with CONFIG_DEBUG_LIST (5.x wording).
    """

  static func run(_ a: Arguments) throws {
    try a.allow(["--bos", "--depth", "--variant", "--debug-list", "--format"], positional: 1)
    switch a.positional.first {
    case "madvise": try exploreMadvise(a)
    case nil: throw UsageError(description: "explore needs a target: 'explore madvise'")
    case let other?: throw UsageError(description: "unknown exploration '\(other)' (known: madvise)")
    }
  }
}

/// `explore madvise`: the exhaustive madvise exploration, as text or JSON.
func exploreMadvise(_ a: Arguments) throws {
  let bos = try intOption(a, "--bos", default: 3, in: MadviseExploration.bosRange)
  let depth = try intOption(a, "--depth", default: 8, in: MadviseExploration.depthRange)
  let variants: [Variant]
  switch a["--variant"] ?? "both" {
  case "before": variants = [.before]
  case "after": variants = [.after]
  case "both": variants = [.before, .after]
  case let other: throw UsageError(description: "unknown variant '\(other)' (before, after or both)")
  }
  let format = a["--format"] ?? "text"
  guard format == "text" || format == "json" else {
    throw UsageError(description: "unknown format '\(format)' (text or json)")
  }
  let listDebug: ListDebugConfig = a["--debug-list"] != nil ? .on5x : .off
  let clock = ContinuousClock()
  var results: [MadviseExplorationResult] = []
  let elapsed = try clock.measure {
    for v in variants { results.append(try MadviseExploration.run(v, bos: bos, depth: depth, listDebug: listDebug)) }
  }
  let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
  if format == "json" {
    struct Output: Encodable {
      let results: [MadviseExplorationResult]
      let elapsedSeconds: Double
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try encoder.encode(Output(results: results, elapsedSeconds: seconds)), as: UTF8.self))
  } else {
    print(ExplorationText.render(results, bos: bos, depth: depth, debugList: listDebug.debugList, seconds: seconds))
  }
}

/// The text form of an exploration.
enum ExplorationText {
  static func render(
    _ results: [MadviseExplorationResult], bos: Int, depth: Int, debugList: Bool, seconds: Double
  ) -> String {
    let ops = MadviseStep.alphabet(bos: bos)
    var out = [
      "madvise exploration: \(bos) BO(s) of one page, depth \(depth), CONFIG_DEBUG_LIST \(debugList ? "on" : "off")",
      "operations (\(ops.count)): " + ops.map(\.description).joined(separator: ", "),
      "  count / scan N: panfrost_gem_shrinker_count() / _scan() with nr_to_scan = N pages",
      "checked after every step: the step returns (no lockup, oops or BUG); shrinker_list is a well-formed ring;",
      "  it holds exactly the BOs drm_gem_shmem_is_purgeable() calls purgeable",
    ]
    for r in results {
      out.append("")
      out.append("\(r.variant) (\(r.variant == .before ? "list_add_tail" : "list_move_tail") on DONTNEED):")
      out.append("  distinct sound states: \(r.soundStates), transitions run: \(r.transitions)")
      let percent = r.sequences == 0 ? 0 : Double(r.badSequences) * 100 / Double(r.sequences)
      if r.badSequences == 0 {
        out.append("  sequences of length \(r.depth): \(r.sequences), no violation")
      } else {
        out.append(
          "  sequences of length \(r.depth): \(r.sequences), of which \(r.badSequences) go wrong ("
            + String(format: "%.2f", percent) + "%)")
        let byLength = r.firstFailuresByLength.enumerated().filter { $0.element > 0 }
        out.append(
          "  sequences first going wrong at length k: "
            + byLength.map { "\($0.offset + 1): \($0.element)" }.joined(separator: ", "))
        out.append(
          "  going wrong by kind: "
            + r.badSequencesByKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
      }
      if r.reportedSequences > 0 {
        out.append("  sound sequences with a DEBUG_LIST report (refused double add): \(r.reportedSequences)")
      }
      if let c = r.shortest {
        out.append(
          "  shortest counterexample (length \(c.steps.count)): " + c.steps.map(\.description).joined(separator: ", "))
        out.append("    \(c.failure)")
        out += c.pointerState.map { "    \($0)" }
        out += c.dmesg.map { "    dmesg: \($0)" }
      }
    }
    out.append("")
    out.append("time: " + String(format: "%.3f", seconds) + " s")
    return out.joined(separator: "\n")
  }
}
