import Backport
import Foundation
import Harness

/// `bo-repro fuzz`: seeded random workloads with every invariant checked after every step.
enum FuzzCommand: Command {
  static let spec = CommandSpec(
    name: "fuzz",
    abstract: "Seeded random workloads on a branch's tree, every invariant checked after every step.",
    discussion: """
      Runs <runs> seeded random workloads (seeds <seed>, <seed>+1, ...) of populate, back up, restore, purge, BO shrinker scans, panfrost madvise and shrinker, memory pressure, tasks and OOM over many BOs on a branch's tree, checking every invariant after every step and the audit at the end. A failure prints the seed, the shortest failing prefix, the upstream fix that explains it where one does (a fix the branch lacks), and the command that replays it. Ends with a summary line; progress goes to stderr when it is a terminal.
      """,
    options: [
      OptionSpec(name: "--seed", value: "s", defaultValue: "1", help: "The first seed."),
      OptionSpec(name: "--steps", value: "n", defaultValue: "200", help: "Steps per workload, 1 to 100000."),
      OptionSpec(name: "--runs", value: "r", defaultValue: "1", help: "Workloads, 1 to 10000."),
      OptionSpec(name: "--branch", value: "name", defaultValue: "mainline", help: "The branch whose tree runs them."),
      .branches,
    ],
    examples: [
      ("bo-repro fuzz --seed 1 --runs 8", "What CI runs, on mainline."),
      (
        "bo-repro fuzz --seed 1 --runs 30 --steps 300 --branch 7.1",
        "7.1.y lacks \"Drop tt->restore\": some seeds find its stale restore state."
      ),
    ],
    exitStatuses: [
      (.success, "every invariant held"), (.error, "bad input: a branch file that cannot be read"),
      (.checkFailed, "an invariant failed"), (.usage, "usage error"),
    ])

  static func run(_ a: Arguments) throws -> ExitStatus {
    let seed = try a.int("--seed", default: 1, in: 0...Int.max / 2)
    let steps = try a.int("--steps", default: 200, in: 1...100_000)
    let runs = try a.int("--runs", default: 1, in: 1...10_000)
    let set = try StableBranchSet(contentsOf: try a.branchesFile())
    let branch = try a.branch(a["--branch"] ?? "mainline", in: set)
    let name = branch.name
    let tree = branch.tree
    var failed = 0
    var explained: [String: Int] = [:]
    let progress = Progress("fuzz")
    for s in seed..<(seed + runs) {
      let r = Fuzz.run(seed: UInt64(s), steps: Fuzz.workload(seed: UInt64(s), steps: steps), on: tree) { i in
        progress.update("seed \(s) (\(s - seed + 1) of \(runs)), step \(i + 1) of \(steps)")
      }
      progress.finish()
      guard let failure = r.failure else {
        let end = r.endedInOOMPanic ? ", ended in an OOM panic (no killable task left)" : ""
        Terminal.print(
          "seed \(s): \(r.steps.count) steps, \(r.checks) checks, \(r.oomKills) OOM kill(s) on \(name): ok\(end)")
        continue
      }
      failed += 1
      Terminal.print("seed \(s) on \(name): after step \(failure.step + 1): \(failure.what)")
      if let why = Fuzz.explanation(failure.what, on: tree) {
        explained[why.explainedBy, default: 0] += 1
        Terminal.print("explained by \(why.explainedBy), which \(name) lacks: \(why.why)")
      } else {
        Terminal.print("explained by no known upstream fix: a model bug, or a bug the package does not know")
      }
      Terminal.print("shortest failing prefix (\(r.steps.count) steps):")
      for (i, step) in r.steps.enumerated() { Terminal.print("  \(i + 1). \(step)") }
      let branches = a["--branches"].map { " --branches \($0)" } ?? ""
      Terminal.print("replay: bo-repro fuzz --seed \(s) --steps \(r.steps.count) --branch \(name)\(branches)")
    }
    let why = explained.sorted { $0.key < $1.key }.map { "\($0.value) explained by \($0.key)" }
    let unexplained = failed - explained.values.reduce(0, +)
    Terminal.print(
      "fuzz: \(runs) run(s) of \(steps) steps on \(name): \(runs - failed) ok, \(failed) failed"
        + (failed == 0 ? "" : " (\((why + ["\(unexplained) unexplained"]).joined(separator: ", ")))"))
    if failed > 0 { throw CheckFailed(description: "fuzz: \(failed) of \(runs) run(s) broke an invariant (see above)") }
    return .success
  }
}
