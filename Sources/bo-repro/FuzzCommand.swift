import Backport
import Foundation
import Harness

/// `bo-repro fuzz`: seeded random workloads with every invariant checked after every step.
enum FuzzCommand: Command {
  static let name = "fuzz"
  static let help = """
      fuzz [--seed S] [--steps N] [--runs R] [--branch NAME] [--branches FILE]
          Run R seeded random workloads (seeds S, S+1, ...; default 1 run of 200 steps from
          seed 1) of populate, back up, restore, purge, BO shrinker scans, panfrost madvise
          and shrinker, memory pressure, tasks and OOM over many BOs on a branch's tree
          (default mainline), checking every invariant after every step and the audit at the
          end. A failure prints the seed, the shortest failing prefix and the command that
          replays it, and exits 1.
    """

  static func run(_ a: Arguments) throws {
    try a.allow(["--seed", "--steps", "--runs", "--branch", "--branches"])
    let seed = try intOption(a, "--seed", default: 1, in: 0...Int.max)
    let steps = try intOption(a, "--steps", default: 200, in: 1...100_000)
    let runs = try intOption(a, "--runs", default: 1, in: 1...10_000)
    let set = try StableBranchSet(contentsOf: StableBranchSet.locate(explicit: a["--branches"]))
    let name = a["--branch"] ?? "mainline"
    guard let branch = set.branch(name) else {
      throw UsageError(
        description: "unknown branch '\(name)' (known: \(set.branches.map(\.name).joined(separator: ", ")))")
    }
    let tree = branch.tree
    var failed = false
    for s in seed..<(seed + runs) {
      let r = Fuzz.run(seed: UInt64(s), steps: Fuzz.workload(seed: UInt64(s), steps: steps), on: tree)
      guard let failure = r.failure else {
        let end = r.endedInOOMPanic ? ", ended in an OOM panic (no killable task left)" : ""
        print("seed \(s): \(r.steps.count) steps, \(r.checks) checks, \(r.oomKills) OOM kill(s) on \(name): ok\(end)")
        continue
      }
      failed = true
      print("seed \(s) on \(name): after step \(failure.step + 1): \(failure.what)")
      print("shortest failing prefix (\(r.steps.count) steps):")
      for (i, step) in r.steps.enumerated() { print("  \(i + 1). \(step)") }
      let branches = a["--branches"].map { " --branches \($0)" } ?? ""
      print("replay: bo-repro fuzz --seed \(s) --steps \(r.steps.count) --branch \(name)\(branches)")
    }
    if failed { throw StableBranchError(description: "fuzz: an invariant failed (see above)") }
  }
}
