import Backport
import Foundation
import Harness
import PackageData
import PatchText

/// `bo-repro review PATCH --onto BRANCH`.
enum ReviewCommand: Command {
  static let spec = CommandSpec(
    name: "review",
    abstract: "A backport review note for a patch onto a stable branch, with the verdict as the exit status.",
    discussion: """
      For PATCH (a slug, or a patch file: one of the package's patches under another name is recognised by its index lines) onto BRANCH: the upstream commit and Fixes: tags; whether the code exists there and whether the patch is already applied; prerequisites found from the patch texts (blob chains, context lines only another patch adds, a pre-image holding every line another patch adds, unknown upstream prerequisites), with those the branch lacks as a "Possible dependencies:" list; patches the branch carries that change the same functions and how each hunk fits their post-image; series siblings and the partial-series risk; which scenarios change outcome with the patch applied and which must not; and the commands that run the proof.
      """,
    arguments: [ArgumentSpec(name: "patch", help: "A patch slug (bo-repro patches lists them) or a patch file.")],
    options: [
      OptionSpec(
        name: "--onto", value: "branch", help: "The branch: 6.18.y, 6.18, v6.18, linux-6.18.y or stable/linux-6.18.y."),
      .format(["text", "json"], default: "text"),
      OptionSpec(
        name: "--dir", value: "dir", defaultValue: "patches", help: "The package's patches to recognise PATCH among."),
      .branches, .scenarios,
    ],
    examples: [
      ("bo-repro review gfp-retry-mayfail-readback --onto 6.18", "The AUTOSEL question: the gfp fix onto 6.18.y."),
      ("bo-repro review ~/mail/backport.patch --onto 7.1.y --format json", "A patch file, answered as JSON."),
    ],
    exitStatuses: [
      (.success, "apply: the patch is needed and nothing it needs is missing"),
      (.error, "bad input: a patch, branch or scenario file that cannot be read"),
      (.notNeeded, "not needed: the code the patch changes is absent from the branch"),
      (.alreadyApplied, "already applied on the branch"),
      (.blocked, "needed, but it conflicts with the branch or needs patches the branch lacks"),
      (.unknown, "cannot decide: a patch the package does not model"),
      (.usage, "usage error"),
    ])

  static func run(_ a: Arguments) throws -> ExitStatus {
    guard let target = a.positional.first else {
      throw UsageError(description: "review needs a patch: 'review PATCH --onto BRANCH'")
    }
    guard let branchName = a["--onto"] else {
      throw UsageError(description: "review needs --onto BRANCH")
    }
    let set = try PatchSet(directory: a["--dir"] ?? a.data().patches)
    let patch: PatchFile
    if let bySlug = set.patch(target) {
      patch = bySlug
    } else if target.hasSuffix(".patch") || target.contains("/") {
      // The file as given, even where its name is a known slug: the reviewer may have edited it.
      patch = try PatchFile(contentsOf: target)
    } else {
      throw UsageError(
        description:
          "unknown patch '\(Terminal.escaped(target))' (known: \(set.patches.map(\.slug).joined(separator: ", ")); or give a patch file)"
      )
    }
    let branches = try StableBranchSet(contentsOf: try a.branchesFile())
    let branch = try a.branch(branchName, in: branches)
    let scenarios = try ScenarioLibrary.load(directory: try a.scenariosDirectory())
    let report = try BackportReview.review(patch: patch, onto: branch, set: set, scenarios: scenarios)
    if a.value("--format") == "json" { printJSON(report.json) } else { Terminal.print(report.text) }
    return switch report.verdict {
    case .apply: .success
    case .notNeeded: .notNeeded
    case .alreadyApplied: .alreadyApplied
    case .blocked: .blocked
    case .unknown: .unknown
    }
  }
}
