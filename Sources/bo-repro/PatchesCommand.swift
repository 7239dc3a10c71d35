import Backport
import Foundation
import PatchText

/// `bo-repro patches`.
enum PatchesCommand: Command {
  static let name = "patches"
  static let help = """
      patches [--dir DIR] [--format text|json]
          List the upstream patches in patches/ (slug, subject, author, upstream commit,
          files touched with +/- counts), parsed and line-count checked.
    """

  static func run(_ a: Arguments) throws {
    try a.allow(["--dir", "--format"])
    let set = try PatchSet(directory: PatchSet.locate(explicit: a["--dir"]))
    switch a["--format"] ?? "text" {
    case "text": print(PatchListing.text(set))
    case "json": print(try PatchListing.json(set))
    case let other: throw UsageError(description: "unknown format '\(other)' (text or json)")
    }
  }
}
