import Backport
import Foundation
import Harness
import JSONText
import PackageData
import PatchMail
import PatchText

/// `bo-repro review PATCH --onto BRANCH`.
enum ReviewCommand: Command {
  static let spec = CommandSpec(
    name: "review",
    abstract: "A backport review note for a patch, a patch mail or a series onto a stable branch or a real tree.",
    discussion: """
      PATCH is a slug, a patch file, a mail or an mbox of a series (git format-patch, b4 am, a saved archive message, the stable review and AUTOSEL mails, the stable tree's FAILED mails; quoted-printable, base64, format=flowed, CRLF), or - for standard input. Each patch is recognised as one of the package's patches by, in this order, the upstream commit its mail names, its git patch-id --stable, its changed lines, and, as a last hint, its subject; then hunk by hunk: a backport carrying only some of the upstream hunks is partial, with the missing hunks and any changed signature it leaves callers of (will not build), and gets no verdict of the full fix. The note gives the upstream commit and Fixes: tags; whether the code exists on the branch and whether the patch is already applied; prerequisites found from the patch texts, with those the branch lacks as a "Possible dependencies:" list; conflicts with what the branch carries; the series; which scenarios change outcome; and the proof commands. With --tree or --git/--ref the patch is checked against that tree's files (applies, with offset or fuzz, conflicts with the tree's lines, already applied) and the tree's own code decides each patch's state; for a FAILED mail, which hunk fails and why in terms of the known patches, and which of its "Possible dependencies" the code and the behaviour really need. A series is reviewed in order, each patch seeing those before it that apply; a message that cannot be read is reported and the rest reviewed.
      """,
    arguments: [
      ArgumentSpec(name: "patch", help: "A patch slug, a patch file, a mail or an mbox, or - for standard input.")
    ],
    options: [
      OptionSpec(
        name: "--onto", value: "branch",
        help:
          "The branch: 6.18.y, 6.18, v6.18, linux-6.18.y or stable/linux-6.18.y. Default: the branch the mail names ([PATCH 5.15 ...], a FAILED mail's), or the tree's version."
      ),
      OptionSpec(name: "--tree", value: "dir", help: "Check the patch against this kernel source directory."),
      OptionSpec(name: "--git", value: "repo", help: "Check the patch against this git repository at --ref."),
      OptionSpec(name: "--ref", value: "ref", help: "The ref of --git (a tag, branch or commit)."),
      .format(["text", "json", "email", "kcidb"], default: "text"),
      OptionSpec(
        name: "--dir", value: "dir", defaultValue: "patches", help: "The package's patches to recognise PATCH among."),
      .branches, .scenarios,
    ],
    examples: [
      ("bo-repro review gfp-retry-mayfail-readback --onto 6.18", "The AUTOSEL question: the gfp fix onto 6.18.y."),
      ("bo-repro review ~/mail/backport.patch --onto 7.1.y --format json", "A patch file, answered as JSON."),
      ("bo-repro review queue-5.15.mbox", "A stable review series, each patch onto the branch its subject names."),
      (
        "bo-repro review failed.eml --git ~/linux-stable --ref linux-5.4.y --format email",
        "A FAILED mail against the branch's real code, as a reply to paste."
      ),
    ],
    exitStatuses: [
      (.success, "apply: the patch is needed and nothing it needs is missing (for a series: every patch)"),
      (.error, "bad input: a patch, mail, branch, tree or scenario file that cannot be read"),
      (.notNeeded, "not needed: the code the patch changes is absent from the branch"),
      (.alreadyApplied, "already applied on the branch"),
      (.blocked, "needed, but it conflicts with the branch or needs patches the branch lacks"),
      (.unknown, "cannot decide: a patch the package does not model"),
      (.partial, "a partial backport: only some of the upstream patch's hunks"),
      (.usage, "usage error"),
    ])

  static func run(_ a: Arguments) throws -> ExitStatus {
    guard let target = a.positional.first else {
      throw UsageError(description: "review needs a patch: 'review PATCH --onto BRANCH'")
    }
    let format = a.value("--format") ?? "text"
    let set = try PatchSet(directory: a["--dir"] ?? a.data().patches)
    let branches = try StableBranchSet(contentsOf: try a.branchesFile())
    let scenarios = try ScenarioLibrary.load(directory: try a.scenariosDirectory())
    let tree = try treeSource(a)
    let given = try a["--onto"].map { try a.branch($0, in: branches) }
    let when = Date()

    // A slug: one of the package's own patches.
    if let bySlug = set.patch(target) {
      let report: ReviewReport
      if let tree {
        let scan = try TreeScanner(patches: PatchListing.ordered(set)).scan(tree)
        report = try BackportReview.review(
          patch: bySlug, onto: StableBranch(name: try name(a, given, scan), scan: scan), set: set,
          scenarios: scenarios, tree: tree, treeScan: scan)
      } else {
        guard let given else { throw UsageError(description: "review needs --onto BRANCH") }
        report = try BackportReview.review(patch: bySlug, onto: given, set: set, scenarios: scenarios)
      }
      try print([.reviewed(report)], source: target, format: format, tree: tree, at: when)
      return status(report.verdict)
    }

    // A file: a patch, a mail or an mbox.
    guard
      target == "-" || target.contains("/")
        || [".patch", ".mbox", ".mbx", ".eml", ".diff"].contains(where: target.hasSuffix)
        || FileManager.default.fileExists(atPath: target)
    else {
      throw UsageError(
        description:
          "unknown patch '\(Terminal.escaped(target))' (known: \(set.patches.map(\.slug).joined(separator: ", ")); or give a patch file)"
      )
    }
    let mailbox = try PatchMailbox(path: target)
    let reviewTarget: ReviewTarget
    if let tree {
      let scan = try TreeScanner(patches: PatchListing.ordered(set)).scan(tree)
      reviewTarget = .tree(tree, name: try name(a, given, scan))
    } else {
      reviewTarget = .branch(given, resolve: { branches.branch($0) })
    }
    let series = try BackportReview.review(mailbox: mailbox, target: reviewTarget, set: set, scenarios: scenarios)
    // One message that cannot be read: a clear error, not a report.
    if series.items.count == 1 {
      switch series.items[0] {
      case .unreadable(_, let source, let error):
        if error.hasSuffix("give --onto BRANCH") || error.hasSuffix("give --onto") {
          throw UsageError(description: "\(Terminal.escaped(source)): \(error)")
        }
        throw CommandError("\(Terminal.escaped(source)): \(error)")
      case .skipped(_, let source, let why):
        throw CommandError("\(Terminal.escaped(source)): \(why): nothing to review")
      case .reviewed:
        break
      }
    }
    guard !series.reports.isEmpty else {
      throw CommandError("\(Terminal.escaped(target)): no message of the \(series.items.count) holds a readable patch")
    }
    try print(series.items, source: series.source, format: format, tree: tree, at: when)
    for case .unreadable(_, let source, let error) in series.items {
      Terminal.error("\(Terminal.escaped(source)): unreadable, skipped: \(error)")
    }
    return seriesStatus(series)
  }

  /// The tree of `--tree` or `--git`/`--ref`, if given.
  static func treeSource(_ a: Arguments) throws -> (any KernelSource)? {
    if let dir = a["--tree"] {
      guard a["--git"] == nil else { throw UsageError(description: "give --tree or --git, not both") }
      return try DirectorySource(root: dir)
    }
    if let repo = a["--git"] {
      guard let ref = a["--ref"] else { throw UsageError(description: "--git needs --ref REF") }
      return try GitSource(try GitRepository(path: repo), ref: ref)
    }
    if a["--ref"] != nil { throw UsageError(description: "--ref needs --git REPO") }
    return nil
  }

  /// The name a tree's branch goes by: `--onto`'s, else `X.Y.y` from its Makefile.
  static func name(_ a: Arguments, _ given: StableBranch?, _ scan: TreeScan) throws -> String {
    if let given { return given.name }
    guard let v = scan.version else {
      return scan.origin.ref ?? "tree"
    }
    return v.branch
  }

  static func status(_ v: ReviewReport.Verdict) -> ExitStatus {
    switch v {
    case .apply: .success
    case .notNeeded: .notNeeded
    case .alreadyApplied: .alreadyApplied
    case .blocked: .blocked
    case .unknown: .unknown
    case .partial: .partial
    }
  }

  /// A series' status: its most severe verdict (partial, unknown, blocked, already applied,
  /// not needed, in that order), else an unreadable message (1), else apply.
  static func seriesStatus(_ s: SeriesReview) -> ExitStatus {
    let order: [ExitStatus] = [.partial, .unknown, .blocked, .alreadyApplied, .notNeeded]
    let statuses = s.reports.map { status($0.verdict) }
    if let worst = order.first(where: statuses.contains) { return worst }
    if s.items.contains(where: { if case .unreadable = $0 { true } else { false } }) { return .error }
    return .success
  }

  static func print(
    _ items: [SeriesReview.Item], source: String, format: String, tree: (any KernelSource)?, at when: Date
  ) throws {
    let reports = items.compactMap { if case .reviewed(let r) = $0 { r } else { nil } }
    switch format {
    case "json":
      if items.count == 1, let r = reports.first {
        printJSON(r.json)
      } else {
        printJSON(ReviewReport.seriesJSON(items, source: source))
      }
    case "email":
      Terminal.print(reports.map(\.email).joined(separator: "\n\n"))
    case "kcidb":
      printJSON(KCIDB.document(reviews: reports, tree: tree?.origin, at: when).json)
    default:
      var out: [String] = []
      for item in items {
        switch item {
        case .reviewed(let r): out.append(r.text)
        case .unreadable(let index, let source, let error):
          out.append("message \(index) (\(source)): unreadable: \(error)")
        case .skipped(let index, let source, let why): out.append("message \(index) (\(source)): skipped: \(why)")
        }
      }
      Terminal.print(out.joined(separator: "\n\n" + String(repeating: "=", count: 72) + "\n\n"))
    }
  }
}
