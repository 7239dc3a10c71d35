import Backport
import Foundation
import Harness

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
          prints what changed since a previous --format json run (regressions, fixes, other
          changes, new and removed cells), in the --format given. Exits 1 if a verdict
          disagrees with the state the fixture claims.
    """

  static func run(_ a: Arguments) throws {
    try a.allow(["--format", "--branch", "--compare", "--branches", "--scenarios"], repeatable: ["--branch"])
    let format = a["--format"] ?? "markdown"
    guard ["markdown", "json", "csv"].contains(format) else {
      throw UsageError(description: "unknown format '\(format)' (markdown, json or csv)")
    }
    let branchesFile = StableBranchSet.locate(explicit: a["--branches"])
    let set = try StableBranchSet(contentsOf: branchesFile)
    var branches = set.branches
    let names = a.values("--branch").flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map {
      String($0)
    }
    if a["--branch"] != nil {
      if names.contains("") { throw UsageError(description: "--branch needs a branch name, got an empty one") }
      for name in names where set.branch(name) == nil {
        throw UsageError(
          description: "unknown branch '\(name)' (known: \(set.branches.map(\.name).joined(separator: ", ")))")
      }
      branches = branches.filter { names.contains($0.name) }
    }
    let scenarioDir = ScenarioLibrary.locate(explicit: a["--scenarios"])
    let scenarios = try ScenarioLibrary.load(directory: scenarioDir)
    let rows = try RegressionMatrix.compute(branches: branches, scenarios: scenarios)
    if let previous = a["--compare"] {
      guard let data = FileManager.default.contents(atPath: previous) else {
        throw StableBranchError(description: "\(previous): cannot read the file")
      }
      let comparison = try RegressionMatrix.compare(
        rows, previous: data, path: previous, only: a["--branch"] == nil ? nil : Set(names))
      switch format {
      case "json": print(try comparison.json())
      case "csv": print(comparison.csv)
      default: print(comparison.text)
      }
    } else {
      switch format {
      case "json": print(try RegressionMatrix.json(rows))
      case "csv": print(RegressionMatrix.csv(rows))
      default:
        print(
          RegressionMatrix.markdown(
            rows, branches: a["--branches"] ?? "fixtures/stable-branches.json",
            scenarios: a["--scenarios"] ?? "fixtures/scenarios"))
      }
    }
    let mismatches = rows.flatMap { row in row.cells.filter { !$0.consistent }.map { "\(row.name) \($0.patch)" } }
    if !mismatches.isEmpty {
      throw StableBranchError(
        description: "verdicts disagree with the fixture for: \(mismatches.joined(separator: ", "))")
    }
  }
}
