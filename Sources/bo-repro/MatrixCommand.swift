import Backport
import Foundation
import Harness
import JSONText

/// `bo-repro matrix`: the package's main job.
enum MatrixCommand: Command {
  static let spec = CommandSpec(
    name: "matrix",
    abstract: "The regression matrix: which stable branch carries which behaviour.",
    discussion: """
      Composes each stable branch's kernel tree from the branch data (fixtures/stable-branches.json), runs every patch's scenarios (fixtures/scenarios) on it, and prints one row per branch and one column per patch: the state (absent, before, after), its confidence and the verdict of the runs. --compare prints what changed since a previous --format json run (regressions, fixes, other changes, new and removed cells) in the --format given.
      """,
    options: [
      .format(["markdown", "json", "csv"], default: "markdown"),
      OptionSpec(
        name: "--branch", value: "name", repeatable: true,
        help: "Only this branch's row (comma-separated names work too; 6.18, v6.18 and linux-6.18.y name 6.18.y)."
      ),
      OptionSpec(
        name: "--compare", value: "previous.json",
        help: "Print the changes since this earlier 'matrix --format json' output instead of the matrix."),
      .branches, .scenarios,
    ],
    examples: [
      ("bo-repro matrix", "The whole matrix as a Markdown table."),
      ("bo-repro matrix --branch 6.18 --branch 7.1 --format json", "Two rows, as JSON."),
      ("bo-repro matrix --compare last-week.json", "What changed since last week's run; exit 2 on a regression."),
    ],
    exitStatuses: [
      (.success, "the matrix (or the comparison) was printed and nothing failed"),
      (.error, "bad input: a branch, scenario or previous file that cannot be read"),
      (
        .checkFailed,
        "a verdict contradicts the state the branch data gives, or --compare found a regression (a cell from fixed to reproduced, or a branch or cell that vanished)"
      ),
      (.usage, "usage error"),
    ])

  static func run(_ a: Arguments) throws -> ExitStatus {
    let format = a.value("--format")!
    let branchesFile = try a.branchesFile()
    let set = try StableBranchSet(contentsOf: branchesFile)
    var branches = set.branches
    let names = a.values("--branch").flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }.map {
      String($0)
    }
    if !names.isEmpty {
      if names.contains("") { throw UsageError(description: "--branch needs a branch name, got an empty one") }
      let picked = try Set(names.map { try a.branch($0, in: set).name })
      branches = branches.filter { picked.contains($0.name) }
    }
    let scenarios = try ScenarioLibrary.load(directory: try a.scenariosDirectory())
    let rows = try RegressionMatrix.compute(branches: branches, scenarios: scenarios)
    if let previous = a["--compare"] {
      guard let data = FileManager.default.contents(atPath: previous) else {
        throw StableBranchError(description: "\(previous): cannot read the file")
      }
      let comparison = try RegressionMatrix.compare(
        rows, previous: data, path: previous, only: names.isEmpty ? nil : Set(branches.map(\.name)))
      switch format {
      case "json": printJSON(comparison.json)
      case "csv": Terminal.print(comparison.csv)
      default: Terminal.print(comparison.text)
      }
      if comparison.failing {
        throw CheckFailed(
          description:
            "compared to \(previous): \(comparison.regressions) regression(s), \(comparison.changes.filter { $0.kind == .removed }.count) removed cell(s)"
        )
      }
    } else {
      switch format {
      case "json": printJSON(RegressionMatrix.json(rows))
      case "csv": Terminal.print(RegressionMatrix.csv(rows))
      default:
        Terminal.print(
          RegressionMatrix.markdown(
            rows, branches: a["--branches"] ?? "fixtures/stable-branches.json",
            scenarios: a["--scenarios"] ?? "fixtures/scenarios"))
      }
    }
    let mismatches = rows.flatMap { row in row.cells.filter { !$0.consistent }.map { "\(row.name) \($0.patch)" } }
    if !mismatches.isEmpty {
      throw CheckFailed(
        description: "verdicts disagree with the branch data for: \(mismatches.joined(separator: ", "))")
    }
    return .success
  }
}
