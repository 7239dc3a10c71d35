import Backport
import Foundation
import PackageData
import PatchText

/// `bo-repro patches`.
enum PatchesCommand: Command {
  static let spec = CommandSpec(
    name: "patches",
    abstract: "List the upstream patches the package models, parsed and line-count checked.",
    discussion: """
      Reads every patch in patches/ and prints its slug, subject, author, date, upstream commit (or where it stands) and the files it touches with their +/- counts. Every hunk's line counts and the diffstat are checked while parsing.
      """,
    options: [
      OptionSpec(name: "--dir", value: "dir", defaultValue: "patches", help: "The directory of .patch files to read."),
      .format(["text", "json"], default: "text"),
    ],
    examples: [("bo-repro patches --format json", "The list as JSON.")])

  static func run(_ a: Arguments) throws -> ExitStatus {
    let set = try PatchSet(directory: a["--dir"] ?? a.data().patches)
    if a.value("--format") == "json" {
      printJSON(PatchListing.json(set))
    } else {
      Terminal.print(PatchListing.text(set))
    }
    return .success
  }
}
