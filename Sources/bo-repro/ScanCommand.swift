import Backport
import Foundation
import JSONText
import PackageData
import PatchMail
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
      OptionSpec(
        name: "--patch", value: "file",
        help:
          "Look for the patches of this patch file, mail or mbox (- for standard input) instead: each named by the package's patch it is recognised as, else by its subject."
      ),
    ],
    examples: [
      ("bo-repro scan ~/linux", "A work tree: which patches it carries, with evidence."),
      ("bo-repro scan ~/linux --patch queue.mbox", "Which of a queue's backports the tree already carries."),
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
    let scanner = TreeScanner(
      patches: try a["--patch"].map { try mailPatches($0, set: set) } ?? PatchListing.ordered(set))
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

  /// The patches of a patch file, mail or mbox, each named (its slug) by the package's patch
  /// it is recognised as, else by its subject; a message without a readable patch is one
  /// line on stderr and left out.
  static func mailPatches(_ path: String, set: PatchSet) throws -> [PatchFile] {
    let box = try PatchMailbox(path: path)
    var patches: [PatchFile] = []
    for item in box.items {
      switch item {
      case .unreadable(_, let error):
        Terminal.error("bo-repro: \(Terminal.escaped(error.description)): unreadable, skipped")
      case .mail(let mail):
        guard var patch = mail.patch else {
          Terminal.error("bo-repro: \(Terminal.escaped(mail.source)): no patch in the message, skipped")
          continue
        }
        let recognised = PatchRecogniser.recognise(
          patch, references: mail.upstream, patchID: mail.patchID, in: set, byFileName: false)
        var name =
          recognised.flatMap { $0.coverage.carriesAny ? $0.patch.slug : nil }
          ?? String(
            mail.subject.subject.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(60))
        if patches.contains(where: { $0.slug == name }) { name += "-\(mail.index)" }
        patch.path = name + ".patch"
        patches.append(patch)
      }
    }
    guard !patches.isEmpty else {
      throw CommandError("\(Terminal.escaped(path)): no message holds a readable patch")
    }
    return patches
  }
}
