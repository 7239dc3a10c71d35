import Backport
import Foundation
import Harness
import PatchText

/// `bo-repro review PATCH --onto BRANCH`.
enum ReviewCommand: Command {
  static let name = "review"
  static let help = """
      review PATCH --onto BRANCH [--dir DIR] [--branches FILE] [--scenarios DIR]
          A backport review note for PATCH (a slug, or a patch file: one of the package's
          patches under another name is recognised by its index lines) onto BRANCH: whether
          the code exists there, prerequisites found from the patch texts (blob chains, a
          pre-image holding every line another patch adds, lines only another patch adds,
          unknown upstream prerequisites), patches the branch carries that change the same
          functions and how each hunk fits their post-image (applies, at what offset, or
          already present), series siblings with what each does for the patch and the
          partial-series risk, which scenarios change outcome with the patch applied and
          which must not, and the swift test command that runs the proof.
    """

  static func run(_ a: Arguments) throws {
    try a.allow(["--onto", "--dir", "--branches", "--scenarios"], positional: 1)
    guard let target = a.positional.first else {
      throw UsageError(description: "review needs a patch: 'review PATCH --onto BRANCH'")
    }
    guard let branchName = a["--onto"] else {
      throw UsageError(description: "review needs --onto BRANCH")
    }
    let set = try PatchSet(directory: PatchSet.locate(explicit: a["--dir"]))
    let patch: PatchFile
    if let bySlug = set.patch(target) {
      patch = bySlug
    } else if target.hasSuffix(".patch") {
      // The file as given, even where its name is a known slug: the reviewer may have edited it.
      patch = try PatchFile(contentsOf: target)
    } else {
      throw UsageError(
        description: "unknown patch '\(target)' (known: \(set.patches.map(\.slug).joined(separator: ", ")))")
    }
    let branches = try StableBranchSet(contentsOf: StableBranchSet.locate(explicit: a["--branches"]))
    guard let branch = branches.branch(branchName) else {
      throw UsageError(
        description: "unknown branch '\(branchName)' (known: \(branches.branches.map(\.name).joined(separator: ", ")))")
    }
    let scenarios = try ScenarioLibrary.load(directory: ScenarioLibrary.locate(explicit: a["--scenarios"]))
    print(try BackportReview.note(patch: patch, onto: branch, set: set, scenarios: scenarios))
  }
}
