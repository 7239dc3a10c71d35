import BOCore
import Backport
import Foundation
import KernelTrees
import Patches

/// A usage error: one line on stderr and exit status 2.
struct UsageError: Error, CustomStringConvertible {
  let description: String
}

/// The command line, parsed by hand (the package has no dependencies).
struct Arguments {
  var command: String?
  var options: [String: String] = [:]
  var positional: [String] = []

  /// Splits `args` into the command, `--name value` options and positional arguments.
  /// `valueless` options take no value.
  init(_ args: [String], valueless: Set<String> = ["--help", "--debug-list"]) throws {
    var rest = args[...]
    while let arg = rest.popFirst() {
      if arg.hasPrefix("--") {
        if valueless.contains(arg) {
          options[arg] = ""
        } else {
          guard let value = rest.popFirst(), !value.hasPrefix("--") else {
            throw UsageError(description: "option \(arg) needs a value")
          }
          options[arg] = value
        }
      } else if command == nil {
        command = arg
      } else {
        positional.append(arg)
      }
    }
  }

  /// Rejects options the command does not know, and positional arguments beyond the first
  /// `positional`.
  func allow(_ known: Set<String>, positional allowed: Int = 0) throws {
    if let unknown = options.keys.sorted().first(where: { !known.contains($0) }) {
      throw UsageError(description: "unknown option \(unknown) for '\(command ?? "")'")
    }
    if let extra = positional.dropFirst(allowed).first {
      throw UsageError(description: "unexpected argument '\(extra)' for '\(command ?? "")'")
    }
  }
}

let usage = """
  usage: bo-repro <command> [options]

  commands:
    patches [--dir DIR] [--format text|json]
        List the upstream patches in patches/ (slug, subject, author, upstream commit,
        files touched with +/- counts), parsed and line-count checked.
    explore madvise [--bos N] [--depth D] [--variant before|after|both] [--debug-list]
                    [--format text|json]
        Run every sequence of up to D operations (DONTNEED/WILLNEED per BO, the panfrost
        shrinker's count, scan 1 and scan 128) over N one-page BOs (default 3 and 8) on the
        before and after trees of madvise-list-move, deduplicating equal states, and check
        after each step that shrinker_list is a well-formed ring holding exactly the
        purgeable BOs. Reports the shortest counterexample and how many sequences go wrong.
        --debug-list builds the trees with CONFIG_DEBUG_LIST (5.x wording).
    help
        Show this text.
  """

/// Parses `--name` as an integer in `range`.
func intOption(_ a: Arguments, _ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
  guard let text = a.options[name] else { return value }
  guard let n = Int(text), range.contains(n) else {
    throw UsageError(
      description: "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
  }
  return n
}

/// `explore madvise`: the exhaustive madvise exploration, as text or JSON.
func exploreMadvise(_ a: Arguments) throws {
  let bos = try intOption(a, "--bos", default: 3, in: MadviseExploration.bosRange)
  let depth = try intOption(a, "--depth", default: 8, in: MadviseExploration.depthRange)
  let variants: [Variant]
  switch a.options["--variant"] ?? "both" {
  case "before": variants = [.before]
  case "after": variants = [.after]
  case "both": variants = [.before, .after]
  case let other: throw UsageError(description: "unknown variant '\(other)' (before, after or both)")
  }
  let format = a.options["--format"] ?? "text"
  guard format == "text" || format == "json" else {
    throw UsageError(description: "unknown format '\(format)' (text or json)")
  }
  let listDebug: ListDebugConfig = a.options["--debug-list"] != nil ? .on5x : .off
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

func run(_ args: [String]) throws {
  let a = try Arguments(args)
  switch a.command {
  case nil, "help", "--help":
    print(usage)
  case "patches":
    try a.allow(["--dir", "--format"])
    let set = try PatchSet(directory: PatchSet.locate(explicit: a.options["--dir"]))
    switch a.options["--format"] ?? "text" {
    case "text": print(PatchListing.text(set))
    case "json": print(try PatchListing.json(set))
    case let other: throw UsageError(description: "unknown format '\(other)' (text or json)")
    }
  case "explore":
    try a.allow(["--bos", "--depth", "--variant", "--debug-list", "--format"], positional: 1)
    switch a.positional.first {
    case "madvise": try exploreMadvise(a)
    case nil: throw UsageError(description: "explore needs a target: 'explore madvise'")
    case let other?: throw UsageError(description: "unknown exploration '\(other)' (known: madvise)")
    }
  case let other?:
    throw UsageError(description: "unknown command '\(other)' (try 'bo-repro help')")
  }
}

do {
  try run(Array(CommandLine.arguments.dropFirst()))
} catch let error as UsageError {
  FileHandle.standardError.write(Data("bo-repro: \(error)\n".utf8))
  exit(2)
} catch {
  FileHandle.standardError.write(Data("bo-repro: \(error)\n".utf8))
  exit(1)
}
