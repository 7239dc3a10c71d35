import Backport
import Foundation
import KernelTrees

/// `bo-repro matrix`: the package's main job.
enum MatrixCommand: Command {
  static let name = "matrix"
  static let help = """
      matrix [--format markdown|json|csv] [--branch NAME]... [--compare PREVIOUS.json]
             [--branches FILE] [--scenarios DIR]
          Compose each stable branch's kernel tree (fixtures/stable-branches.json), run every
          patch's scenarios (fixtures/scenarios) on it, and print one row per branch and one
          column per patch: the state (absent, before, after), its confidence and the
          verdict of the runs. --branch picks rows (repeat or comma-separate); --compare
          prints the regressions and fixes since a previous --format json run. Exits 1 if a
          verdict disagrees with the state the fixture claims.
    """

  static func run(_ a: Arguments) throws {
    try a.allow(["--format", "--branch", "--compare", "--branches", "--scenarios"])
    let format = a.options["--format"] ?? "markdown"
    guard ["markdown", "json", "csv"].contains(format) else {
      throw UsageError(description: "unknown format '\(format)' (markdown, json or csv)")
    }
    let set = try StableBranchSet(contentsOf: StableBranchSet.locate(explicit: a.options["--branches"]))
    var branches = set.branches
    if let picked = a.options["--branch"] {
      let names = picked.split(separator: ",").map(String.init)
      for name in names where set.branch(name) == nil {
        throw UsageError(
          description: "unknown branch '\(name)' (known: \(set.branches.map(\.name).joined(separator: ", ")))")
      }
      branches = branches.filter { names.contains($0.name) }
    }
    let scenarios = try ScenarioLibrary.load(directory: ScenarioLibrary.locate(explicit: a.options["--scenarios"]))
    let rows = try RegressionMatrix.compute(branches: branches, scenarios: scenarios)
    if let previous = a.options["--compare"] {
      guard let data = FileManager.default.contents(atPath: previous) else {
        throw StableBranchError(description: "\(previous): cannot read the file")
      }
      print(try RegressionMatrix.compare(rows, previous: data, path: previous))
      return
    }
    switch format {
    case "json": print(try RegressionMatrix.json(rows))
    case "csv": print(RegressionMatrix.csv(rows))
    default: print(RegressionMatrix.markdown(rows))
    }
    let mismatches = rows.flatMap { row in row.cells.filter { !$0.consistent }.map { "\(row.name) \($0.patch)" } }
    if !mismatches.isEmpty {
      throw StableBranchError(
        description: "verdicts disagree with the fixture for: \(mismatches.joined(separator: ", "))")
    }
  }
}
