import Backport
import Foundation
import JSONText
import PackageData
import PatchText

/// `bo-repro scan`: which of the patches a kernel tree carries, from its code.
enum ScanCommand: Command {
  static let spec = CommandSpec(
    name: "scan",
    abstract: "Which of the modelled patches a kernel tree carries, decided from its code.",
    discussion: """
      Reads the files the patches touch (named by their own diff headers) and the top-level Makefile (for the version) from a kernel source directory (a work tree, an unpacked tarball, or a directory holding some of the files at their kernel paths), or with --git from a repository at any number of refs, with no checkout and one git cat-file process. For every patch it reports a state, with the deciding line of each hunk: absent (the code is not there), before, after, adapted (applied in other words: a real backport), partial (some hunks applied; a changed signature whose callers are not updated is named as a build break), rewritten (the functions are there, neither image is), or unknown (with why). A file whose blob id is the patch's pre- or post-image decides exactly. --format kcidb writes KernelCI KCIDB v5.3 JSON: a checkout and a build per tree, a test per patch (PASS after or adapted, FAIL before, DONE a feature's before, SKIP absent, ERROR partial, rewritten or unknown), stamped now or at SOURCE_DATE_EPOCH. Scanning only reads.
      """,
    arguments: [
      ArgumentSpec(
        name: "path-or-ref", help: "A kernel source directory; with --git, one or more refs (tags, branches, commits).",
        repeating: true)
    ],
    options: [
      OptionSpec(name: "--git", value: "repo", help: "Read the refs from this git repository (a work tree or bare)."),
      .format(["text", "json", "csv", "kcidb"], default: "text"),
      OptionSpec(name: "--dir", value: "dir", defaultValue: "patches", help: "The patches to look for."),
    ],
    examples: [
      ("bo-repro scan ~/linux", "A work tree: which patches it carries, with evidence."),
      (
        "bo-repro scan --git ~/linux v6.12.58 v6.18.42 linux-7.1.y --format json",
        "Three refs of a repository, as JSON."
      ),
    ],
    exitStatuses: [
      (.success, "scanned (a state of unknown for a file that cannot be read is an answer, not an error)"),
      (.error, "a path that is not a directory, git missing, not a repository, a ref that is not a commit"),
      (.usage, "usage error"),
    ])

  static func run(_ a: Arguments) throws -> ExitStatus {
    guard !a.positional.isEmpty else {
      throw UsageError(description: "scan needs a kernel tree: 'scan PATH' or 'scan --git REPO REF...'")
    }
    let set = try PatchSet(directory: a["--dir"] ?? a.data().patches)
    let scanner = TreeScanner(patches: PatchListing.ordered(set))
    var scans: [TreeScan] = []
    if let repo = a["--git"] {
      let git = try GitRepository(path: repo)
      for ref in a.positional { scans.append(try scanner.scan(try GitSource(git, ref: ref))) }
    } else {
      guard a.positional.count == 1 else {
        throw UsageError(description: "scan takes one directory (or --git REPO with refs)")
      }
      scans.append(try scanner.scan(try DirectorySource(root: a.positional[0])))
    }
    switch a.value("--format") {
    case "json": printJSON(ScanReport.json(scans))
    case "csv": Terminal.print(ScanReport.csv(scans))
    case "kcidb": printJSON(KCIDB.document(scans: scans, at: reportDate()).json)
    default: Terminal.print(scans.map(ScanReport.text).joined(separator: "\n\n"))
    }
    return .success
  }
}
