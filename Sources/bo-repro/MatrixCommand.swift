import Backport
import Foundation
import Harness
import JSONText
import PackageData
import PatchText

/// `bo-repro matrix`: the package's main job.
enum MatrixCommand: Command {
  static let spec = CommandSpec(
    name: "matrix",
    abstract: "The regression matrix: which stable branch carries which behaviour.",
    discussion: """
      Composes each stable branch's kernel tree from the branch data (fixtures/stable-branches.json), runs every patch's scenarios (fixtures/scenarios) on it, and prints one row per branch and one column per patch: the state (absent, before, after), its confidence and the verdict of the runs. --format kcidb writes the matrix as KernelCI KCIDB v5.3 JSON: a checkout and a build (the model tree) per branch, a test per patch and scenario (PASS fixed, FAIL the bug, DONE a feature's old behaviour, SKIP absent or not run, ERROR inconsistent, MISS not composable), stamped now or at SOURCE_DATE_EPOCH. --compare prints what changed since a previous --format json run (regressions, fixes, other changes, new and removed cells) in the --format given.
      """,
    options: [
      .format(["markdown", "json", "csv", "kcidb"], default: "markdown"),
      OptionSpec(
        name: "--branch", value: "name", repeatable: true,
        help: "Only this branch's row (comma-separated names work too; 6.18, v6.18 and linux-6.18.y name 6.18.y)."
      ),
      OptionSpec(
        name: "--compare", value: "previous.json",
        help: "Print the changes since this earlier 'matrix --format json' output instead of the matrix."),
      .branches, .scenarios,
      OptionSpec(
        name: "--git", value: "repo",
        help: "Derive the rows from this repository's code instead of the branch data: one row per --ref."),
      OptionSpec(
        name: "--ref", value: "name=ref", repeatable: true,
        help: "With --git: a row NAME read from REF (a tag, branch or commit); a bare REF names its own row."),
      OptionSpec(name: "--dir", value: "dir", defaultValue: "patches", help: "With --git: the patches to look for."),
    ],
    examples: [
      ("bo-repro matrix", "The whole matrix as a Markdown table."),
      (
        "bo-repro matrix --git ~/linux --ref 6.12.y=v6.12.58 --ref 6.18.y=linux-6.18.y",
        "Rows derived from the code at two refs: scanned states, verdicts from running them."
      ),
      ("bo-repro matrix --branch 6.18 --branch 7.1 --format json", "Two rows, as JSON."),
      ("bo-repro matrix --compare last-week.json", "What changed since last week's run; exit 2 on a regression."),
      ("bo-repro matrix --format kcidb > matrix.kcidb.json", "The matrix as KCIDB v5.3 JSON, for kcidb-validate."),
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
    if format == "kcidb" && a["--compare"] != nil {
      throw UsageError(
        description: "--compare has no --format kcidb: KCIDB holds results, not changes (markdown, json or csv)")
    }
    let set: StableBranchSet
    var source = a["--branches"] ?? "fixtures/stable-branches.json"
    var scanned: [(name: String, scan: TreeScan)] = []
    if let repo = a["--git"] {
      guard a["--branches"] == nil else { throw UsageError(description: "--git and --branches exclude each other") }
      scanned = try scans(a, repo: repo)
      set = StableBranchSet(branches: scanned.map { StableBranch(name: $0.name, scan: $0.scan) })
      source = "scans of the code in \(repo)"
    } else {
      guard a.values("--ref").isEmpty else { throw UsageError(description: "--ref needs --git REPO") }
      set = try StableBranchSet(contentsOf: try a.branchesFile())
    }
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
      case "kcidb":
        let date = reportDate()
        // A --git row is the scanned tree, not the stable branch its name may match.
        let checkouts = Dictionary(
          scanned.map { ($0.name, KCIDB.checkout(scan: $0.scan, at: date)) }, uniquingKeysWith: { a, _ in a })
        printJSON(KCIDB.document(matrix: rows, scenarios: scenarios, checkouts: checkouts, at: date).json)
      default:
        Terminal.print(
          RegressionMatrix.markdown(
            rows, branches: source, scenarios: a["--scenarios"] ?? "fixtures/scenarios", recorded: set.branches))
      }
    }
    if a["--git"] != nil { return .success }
    let mismatches = rows.flatMap { row in row.cells.filter { !$0.consistent }.map { "\(row.name) \($0.patch)" } }
    if !mismatches.isEmpty {
      throw CheckFailed(
        description: "verdicts disagree with the branch data for: \(mismatches.joined(separator: ", "))")
    }
    return .success
  }

  /// The scan of every `--ref NAME=REF` (a bare REF names its own row).
  static func scans(_ a: Arguments, repo: String) throws -> [(name: String, scan: TreeScan)] {
    let refs = a.values("--ref")
    guard !refs.isEmpty else { throw UsageError(description: "--git needs at least one --ref NAME=REF") }
    let patches = try PatchSet(directory: a["--dir"] ?? a.data().patches)
    let scanner = TreeScanner(patches: PatchListing.ordered(patches))
    let git = try GitRepository(path: repo)
    var out: [(name: String, scan: TreeScan)] = []
    for spec in refs {
      let (name, ref): (String, String)
      if let eq = spec.firstIndex(of: "=") {
        (name, ref) = (String(spec[..<eq]), String(spec[spec.index(after: eq)...]))
      } else {
        (name, ref) = (spec, spec)
      }
      guard !name.isEmpty, !ref.isEmpty else {
        throw UsageError(description: "--ref needs NAME=REF or REF, got '\(Terminal.escaped(spec))'")
      }
      guard !out.contains(where: { $0.name == name }) else {
        throw UsageError(description: "--ref: the row name '\(Terminal.escaped(name))' is given twice")
      }
      out.append((name, try scanner.scan(try GitSource(git, ref: ref))))
    }
    return out
  }
}

/// `bo-repro record`: the branch data regenerated from a kernel repository.
enum RecordCommand: Command {
  static let spec = CommandSpec(
    name: "record",
    abstract: "Regenerate the branch data from a kernel repository: states scanned at each ref.",
    discussion: """
      For each --ref NAME=REF, scans the code at REF (as 'scan --git' does) and writes the branch data with that branch's states and evidence replaced by the scan's and a 'recorded' block: the release, the blob id of every file read and where it was read from, and the state found per patch. Facts code cannot show (status, projected EOL, the hand-kept rows of branches not named) stay as they are. The result goes to stdout, or to --output.
      """,
    options: [
      OptionSpec(name: "--git", value: "repo", help: "The kernel repository to read."),
      OptionSpec(
        name: "--ref", value: "name=ref", repeatable: true, help: "A branch row NAME and the REF to read it from."),
      .branches,
      OptionSpec(name: "--output", value: "file", help: "Write the branch data here instead of stdout."),
      OptionSpec(name: "--dir", value: "dir", defaultValue: "patches", help: "The patches to look for."),
    ],
    examples: [
      (
        "bo-repro record --git ~/linux-stable --ref 6.12.y=linux-6.12.y --ref 6.18.y=linux-6.18.y --output fixtures/stable-branches.json",
        "Two rows regenerated from the stable repository's branch heads."
      )
    ],
    exitStatuses: [
      (.success, "written"), (.error, "a repository, ref or branch file that cannot be read"),
      (.usage, "usage error"),
    ])

  static func run(_ a: Arguments) throws -> ExitStatus {
    guard let repo = a["--git"] else { throw UsageError(description: "record needs --git REPO and --ref NAME=REF") }
    let path = try a.branchesFile()
    let text = try PatchFile.readText(path)
    let value = try BranchRecording.record(into: text, path: path, scans: try MatrixCommand.scans(a, repo: repo))
    let out = value.serialized() + "\n"
    // What is written must load: the same checks as every read of the branch data.
    _ = try StableBranchSet(data: Data(out.utf8), path: a["--output"] ?? "(the recorded branch data)")
    if let output = a["--output"] {
      do {
        try out.write(toFile: output, atomically: true, encoding: .utf8)
      } catch {
        throw StableBranchError(description: "\(output): cannot write the file")
      }
    } else {
      FileHandle.standardOutput.write(Data(out.utf8))
    }
    return .success
  }
}
