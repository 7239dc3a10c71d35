import BOCore
import Foundation
import Harness
import JSONText
import Patches

/// `bo-repro explore madvise`.
enum ExploreCommand: Command {
  static let spec = CommandSpec(
    name: "explore",
    abstract: "Exhaustively explore every madvise sequence on panfrost's before and after trees.",
    discussion: """
      Runs every sequence of up to <depth> operations (DONTNEED/WILLNEED per BO, the panfrost shrinker's count, scan 1 and scan 128) over <bos> one-page BOs on the before and after trees of madvise-list-move (9fc33eaaa979), deduplicating equal states, and checks after each step that shrinker_list is a well-formed ring holding exactly the purgeable BOs. Reports the shortest counterexample and how many sequences go wrong. Progress goes to stderr when it is a terminal.
      """,
    arguments: [ArgumentSpec(name: "target", help: "What to explore: madvise.")],
    options: [
      OptionSpec(name: "--bos", value: "n", defaultValue: "3", help: "BOs, from 1 to 6."),
      OptionSpec(name: "--depth", value: "d", defaultValue: "8", help: "Sequence length, from 0 to 12."),
      OptionSpec(
        name: "--variant", value: "variant", choices: ["before", "after", "both"], defaultValue: "both",
        help: "Which tree to explore."),
      OptionSpec(name: "--debug-list", help: "Build the trees with CONFIG_DEBUG_LIST (5.x wording)."),
      .format(["text", "json"], default: "text"),
    ],
    readsData: false,
    examples: [
      ("bo-repro explore madvise", "3 BOs, depth 8: 43,046,721 sequences per tree in about a second."),
      ("swift run -c release bo-repro explore madvise --bos 6 --depth 12", "The largest run, with progress."),
    ],
    exitStatuses: [
      (.success, "the exploration ran (a counterexample on the before tree is the expected result)"),
      (.checkFailed, "the after tree has a counterexample"), (.usage, "usage error"),
    ])

  static func run(_ a: Arguments) throws -> ExitStatus {
    switch a.positional.first {
    case "madvise": return try exploreMadvise(a)
    case nil: throw UsageError(description: "explore needs a target: 'explore madvise'")
    case let other?:
      throw UsageError(description: "unknown exploration '\(Terminal.escaped(other))' (known: madvise)")
    }
  }
}

/// `explore madvise`: the exhaustive madvise exploration, as text or JSON.
func exploreMadvise(_ a: Arguments) throws -> ExitStatus {
  let bos = try a.int("--bos", default: 3, in: MadviseExploration.bosRange)
  let depth = try a.int("--depth", default: 8, in: MadviseExploration.depthRange)
  let variants: [Variant] =
    switch a.value("--variant")! {
    case "before": [.before]
    case "after": [.after]
    default: [.before, .after]
    }
  let listDebug: ListDebugConfig = a.flag("--debug-list") ? .on5x : .off
  let clock = ContinuousClock()
  var results: [MadviseExplorationResult] = []
  let progress = Progress("explore madvise")
  let elapsed = try clock.measure {
    for v in variants {
      results.append(
        try MadviseExploration.run(v, bos: bos, depth: depth, listDebug: listDebug) { level, frontier in
          progress.update("\(v): length \(level) of \(depth), \(frontier) distinct states")
        })
    }
  }
  progress.finish()
  let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
  if a.value("--format") == "json" {
    printJSON(ExplorationText.json(results, bos: bos, depth: depth, debugList: listDebug.debugList, seconds: seconds))
  } else {
    Terminal.print(
      ExplorationText.render(results, bos: bos, depth: depth, debugList: listDebug.debugList, seconds: seconds))
  }
  return results.contains { $0.variant == .after && $0.badSequences > 0 } ? .checkFailed : .success
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
    out.append(
      "summary: "
        + results.map { r in
          "\(r.variant) \(r.badSequences == 0 ? "no violation" : "\(r.badSequences) of \(r.sequences) sequences go wrong")"
        }.joined(separator: "; "))
    return out.joined(separator: "\n")
  }

  /// `{"schema": 1, "command": "explore", "target": "madvise", "bos", "depth", "debugList",
  /// "results": [...], "elapsedSeconds"}`; each result is the exploration's own fields, with
  /// `shortest` null when nothing went wrong.
  static func json(
    _ results: [MadviseExplorationResult], bos: Int, depth: Int, debugList: Bool, seconds: Double
  ) -> JSONValue {
    [
      "schema": 1, "command": "explore", "target": "madvise", "bos": .int(bos), "depth": .int(depth),
      "debugList": .bool(debugList),
      "results": .array(
        results.map { r in
          [
            "variant": .string(r.variant.rawValue), "bos": .int(r.bos), "depth": .int(r.depth),
            "debugList": .bool(r.debugList), "sequences": .number(String(r.sequences)),
            "badSequences": .number(String(r.badSequences)), "reportedSequences": .number(String(r.reportedSequences)),
            "soundStates": .int(r.soundStates), "transitions": .int(r.transitions),
            "firstFailuresByLength": .array(r.firstFailuresByLength.map { .number(String($0)) }),
            "badSequencesByKind": .object(
              r.badSequencesByKind.sorted { $0.key < $1.key }.map { JSONMember($0.key, .number(String($0.value))) }),
            "shortest": r.shortest.map { c in
              [
                "steps": JSONValue(c.steps.map(\.description)), "failure": .string(c.failure.description),
                "pointerState": JSONValue(c.pointerState), "dmesg": JSONValue(c.dmesg),
              ]
            } ?? .null,
          ]
        }),
      "elapsedSeconds": JSONValue(seconds),
    ]
  }
}
