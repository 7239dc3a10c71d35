import Backport
import Foundation
import Harness
import History
import JSONText
import PackageData
import PatchText

/// `bo-repro history`: when each branch got each behaviour, from the code at every tag.
enum HistoryCommand: Command {
  static let spec = CommandSpec(
    name: "history",
    abstract: "When each branch got each patch and its behaviour, decided from the code at every tag of a repository.",
    discussion: """
      Reads a git repository at every tag of the form vX.Y or vX.Y.Z (grouped by branch X.Y.y, in version order), or at the refs, tag globs (v5.15.*) and commit ranges (A..B, every commit oldest first) given, with the tree reader of 'scan', and prints for each branch and patch the runs of one state (absent, before, after, adapted, partial, rewritten, unknown): "before in v5.15 .. v5.15.55, after from v5.15.56", with the first tag, its commit and the deciding line of each run, and the behaviour the patch's scenarios show there. The cost grows with the distinct file versions, not the tags: each commit's tree is walked only where it differs from one already read, each distinct blob is read once through one git cat-file process and decided once, and the scenarios run once per distinct combination of states. --format cve writes each fix's ranges as a CVE record's affected[].versions list, as the kernel CNA publishes them (semver per branch, original_commit_for_fix for mainline); --compare reads a published record (CVE JSON 5) and prints every tag where its ranges and the code disagree. A tag whose objects are missing (a shallow or partial clone) is reported unknown and the rest of the history read.
      """,
    arguments: [
      ArgumentSpec(
        name: "ref-range",
        help: "Tags, branches, commits, tag globs (v6.1.*) or ranges (A..B); none: every vX.Y and vX.Y.Z tag.",
        repeating: true)
    ],
    options: [
      OptionSpec(name: "--git", value: "repo", help: "The repository (a work tree or bare); required."),
      .format(["text", "json", "cve"], default: "text"),
      OptionSpec(name: "--dir", value: "dir", defaultValue: "patches", help: "The patches to look for."),
      .scenarios,
      OptionSpec(
        name: "--compare", value: "cve.json",
        help: "A published CVE record (CVE JSON 5) to compare with the code at every release tag."),
      OptionSpec(
        name: "--cve-patch", value: "slug",
        help: "The patch the record is about (default: the one whose upstream commit the record names)."),
    ],
    examples: [
      ("bo-repro history --git ~/linux-stable", "Every release tag, grouped by branch."),
      ("bo-repro history --git ~/linux-stable 'v5.15.*' --format json", "One branch, as JSON."),
      ("bo-repro history --git ~/linux-stable v5.15.55..v5.15.56", "The commit that brought a fix to a branch."),
      (
        "bo-repro history --git ~/linux-stable --format cve --compare CVE-2022-49645.json",
        "The ranges the code shows, against the published record."
      ),
    ],
    exitStatuses: [
      (.success, "read (a tag that cannot be read is reported unknown, not an error)"),
      (
        .error,
        "not a repository, git missing, no version tags, a ref, glob or range that selects nothing, an unreadable record"
      ),
      (.usage, "usage error"),
    ])

  static func run(_ a: Arguments) throws -> ExitStatus {
    guard let repo = a["--git"] else {
      throw UsageError(description: "history needs a repository: 'history --git REPO [REF-RANGE...]'")
    }
    if a["--cve-patch"] != nil && a["--compare"] == nil {
      throw UsageError(description: "--cve-patch names the patch of a --compare record; give --compare too")
    }
    let set = try PatchSet(directory: a["--dir"] ?? a.data().patches)
    let scenarios = try ScenarioLibrary.load(directory: try a.scenariosDirectory())
    // The record is read before the history, so a bad file fails fast.
    let record = try a["--compare"].map { path -> PublishedCVE in
      guard let data = FileManager.default.contents(atPath: path) else {
        throw CommandError("\(Terminal.escaped(path)): cannot be read")
      }
      return try PublishedCVE(json: String(decoding: data, as: UTF8.self), source: path)
    }
    let git = try GitRepository(path: repo)
    let history = try History.read(
      git, selecting: a.positional, patches: PatchListing.ordered(set), scenarios: scenarios
    ) { line in Terminal.error("history: \(line)") }
    let comparisons = try record.map { [try CVEComparison($0, history: history, patch: a["--cve-patch"])] } ?? []
    switch a.value("--format") {
    case "json":
      var json = HistoryReport.json(history)
      if !comparisons.isEmpty {
        json = .object(json.objectMembers + [JSONMember("comparisons", .array(comparisons.map(\.json)))])
      }
      printJSON(json)
    case "cve": printJSON(CVERanges.json(history, repo: nil, comparisons: comparisons))
    default:
      var text = HistoryReport.text(history)
      for c in comparisons { text += "\n\n" + c.text.joined(separator: "\n") }
      Terminal.print(text)
    }
    return .success
  }
}
