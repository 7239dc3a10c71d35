import Foundation
import Harness
import JSONText
import KernelTrees
import PatchText
import Patches

/// KernelCI's KCIDB I/O JSON (schema v5.3, the `kcidb-io` package's `LATEST`): the matrix and
/// the scan as checkouts, builds and tests a KCIDB dashboard or `kcidb-validate` reads, and the
/// pieces a review report is assembled from.
///
/// What bo-repro writes, and how it maps onto KCIDB's objects:
/// - a **checkout** per branch or scanned tree: the git facts KCIDB keys on (repository URL,
///   branch, commit, `git describe`-style name) where they are known and valid;
/// - a **build** per checkout: the model tree composed from what the branch carries
///   (`config_name` `bo_repro_model`), or the scan of the tree (`bo_repro_scan`);
/// - a **test** per patch and scenario (matrix) or per patch (scan), at path
///   `bo_repro.<patch>.<scenario>`.
///
/// Everything written obeys the schema: origin `bo_repro`, ids `bo_repro:<kind>:<...>` (stable
/// for the same input, unique in a document), no `null` anywhere (an absent value is left
/// out), no key the schema does not name, times in RFC 3339 with an offset, and
/// ``Document/validate()`` checks every rule of it that applies to these objects.
public enum KCIDB {
  /// The origin of every object: the CI system's name, `^[a-z0-9_]+$`.
  public static let origin = "bo_repro"
  /// The schema version written: 5.3.
  public static let version = (major: 5, minor: 3)
  /// The stable repository, the git_repository_url of every stable branch's checkout.
  public static let stableRepository = "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git"
  /// The mainline repository, the git_repository_url of the mainline checkout.
  public static let mainlineRepository = "https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git"
  /// The `config_name` of a build that is a composed model tree.
  public static let modelConfig = "bo_repro_model"
  /// The `config_name` of a build that is a scan of a tree's code.
  public static let scanConfig = "bo_repro_scan"
  /// The longest `log_excerpt` the schema accepts, in Unicode scalars.
  public static let maxLogExcerpt = 16384

  /// A build's or test's status, highest priority first (a collection's summary status is
  /// the highest of its members').
  public enum Status: String, CaseIterable, Hashable, Sendable {
    /// Completed, and the tested code is faulty.
    case fail = "FAIL"
    /// Did not complete; the code's status is unknown.
    case error = "ERROR"
    /// Did not run, through a failure of the harness.
    case miss = "MISS"
    /// Completed, and the tested code is correct.
    case pass = "PASS"
    /// Completed without judging the code.
    case done = "DONE"
    /// Did not run: not applicable.
    case skip = "SKIP"
  }

  // MARK: Objects

  /// A checkout: one state of a kernel tree's source (KCIDB's `checkouts[]`).
  public struct Checkout: Hashable, Sendable {
    /// `id`: `bo_repro:checkout:<tree>`.
    public var id: String
    /// `origin`.
    public var origin: String
    /// `tree_name`: `stable`, `mainline`, `stable-rc`.
    public var treeName: String?
    /// `git_repository_url`: an https URL, or left out.
    public var gitRepositoryURL: String?
    /// `git_repository_branch`: `linux-6.18.y`, `master`, or the ref scanned.
    public var gitRepositoryBranch: String?
    /// `git_commit_hash`: 40 lowercase hex digits, or left out.
    public var gitCommitHash: String?
    /// `git_commit_name`: the version (`7.1.6`).
    public var gitCommitName: String?
    /// `start_time`, RFC 3339 (``KCIDB/timestamp(_:)``).
    public var startTime: String?
    /// `valid`: whether the source was read.
    public var valid: Bool?
    /// `comment`.
    public var comment: String?
    /// `misc`: an object without nulls.
    public var misc: JSONValue?

    /// A checkout with the fields given; nothing is checked or cleaned here (``validate()``
    /// does that for the document).
    public init(
      id: String, origin: String = KCIDB.origin, treeName: String? = nil, gitRepositoryURL: String? = nil,
      gitRepositoryBranch: String? = nil, gitCommitHash: String? = nil, gitCommitName: String? = nil,
      startTime: String? = nil, valid: Bool? = nil, comment: String? = nil, misc: JSONValue? = nil
    ) {
      self.id = id
      self.origin = origin
      self.treeName = treeName
      self.gitRepositoryURL = gitRepositoryURL
      self.gitRepositoryBranch = gitRepositoryBranch
      self.gitCommitHash = gitCommitHash
      self.gitCommitName = gitCommitName
      self.startTime = startTime
      self.valid = valid
      self.comment = comment
      self.misc = misc
    }

    /// The object, absent fields left out.
    public var json: JSONValue {
      KCIDB.object([
        ("id", .string(id)), ("origin", .string(origin)), ("tree_name", treeName.map(JSONValue.string)),
        ("git_repository_url", gitRepositoryURL.map(JSONValue.string)),
        ("git_repository_branch", gitRepositoryBranch.map(JSONValue.string)),
        ("git_commit_hash", gitCommitHash.map(JSONValue.string)),
        ("git_commit_name", gitCommitName.map(JSONValue.string)), ("start_time", startTime.map(JSONValue.string)),
        ("valid", valid.map(JSONValue.bool)), ("comment", comment.map(JSONValue.string)), ("misc", misc),
      ])
    }
  }

  /// A build: here, the model tree composed for a checkout, or the scan of it (KCIDB's
  /// `builds[]`).
  public struct Build: Hashable, Sendable {
    /// `id`: `bo_repro:build:<tree>:<stack>` or `bo_repro:build:<tree>:scan`.
    public var id: String
    /// `origin`.
    public var origin: String
    /// `checkout_id`: the checkout built.
    public var checkoutID: String
    /// `start_time`, RFC 3339.
    public var startTime: String?
    /// `status`: PASS when the tree composed.
    public var status: Status?
    /// `config_name`: ``KCIDB/modelConfig`` or ``KCIDB/scanConfig``.
    public var configName: String?
    /// `comment`.
    public var comment: String?
    /// `misc`: an object without nulls (the stack, for a model tree).
    public var misc: JSONValue?

    /// A build with the fields given, unchecked.
    public init(
      id: String, origin: String = KCIDB.origin, checkoutID: String, startTime: String? = nil, status: Status? = nil,
      configName: String? = nil, comment: String? = nil, misc: JSONValue? = nil
    ) {
      self.id = id
      self.origin = origin
      self.checkoutID = checkoutID
      self.startTime = startTime
      self.status = status
      self.configName = configName
      self.comment = comment
      self.misc = misc
    }

    /// The object, absent fields left out.
    public var json: JSONValue {
      KCIDB.object([
        ("id", .string(id)), ("origin", .string(origin)), ("checkout_id", .string(checkoutID)),
        ("start_time", startTime.map(JSONValue.string)), ("status", status.map { .string($0.rawValue) }),
        ("config_name", configName.map(JSONValue.string)), ("comment", comment.map(JSONValue.string)),
        ("misc", misc),
      ])
    }
  }

  /// A test: one scenario of one patch on one build, or one patch's scan (KCIDB's `tests[]`).
  public struct Test: Hashable, Sendable {
    /// `id`: `bo_repro:test:<build>:<patch>.<scenario>`.
    public var id: String
    /// `origin`.
    public var origin: String
    /// `build_id`: the build tested.
    public var buildID: String
    /// `path`: `bo_repro.<patch>.<scenario>`, dot-separated `[a-zA-Z0-9_-]+` components.
    public var path: String?
    /// `status`.
    public var status: Status?
    /// `start_time`, RFC 3339.
    public var startTime: String?
    /// `comment`.
    public var comment: String?
    /// `log_excerpt`: at most ``KCIDB/maxLogExcerpt`` scalars; longer text given to the
    /// initialiser is cut to that.
    public var logExcerpt: String?
    /// `misc`: an object without nulls.
    public var misc: JSONValue?

    /// A test with the fields given; `logExcerpt` is cut to ``KCIDB/maxLogExcerpt`` scalars,
    /// nothing else is checked.
    public init(
      id: String, origin: String = KCIDB.origin, buildID: String, path: String? = nil, status: Status? = nil,
      startTime: String? = nil, comment: String? = nil, logExcerpt: String? = nil, misc: JSONValue? = nil
    ) {
      self.id = id
      self.origin = origin
      self.buildID = buildID
      self.path = path
      self.status = status
      self.startTime = startTime
      self.comment = comment
      self.logExcerpt = logExcerpt.map(KCIDB.excerpt)
      self.misc = misc
    }

    /// The object, absent fields left out.
    public var json: JSONValue {
      KCIDB.object([
        ("id", .string(id)), ("origin", .string(origin)), ("build_id", .string(buildID)),
        ("path", path.map(JSONValue.string)), ("status", status.map { .string($0.rawValue) }),
        ("start_time", startTime.map(JSONValue.string)), ("comment", comment.map(JSONValue.string)),
        ("log_excerpt", logExcerpt.map(JSONValue.string)), ("misc", misc),
      ])
    }
  }

  /// A KCIDB I/O document: `{"version": {"major": 5, "minor": 3}, "checkouts": [...],
  /// "builds": [...], "tests": [...]}`.
  public struct Document: Hashable, Sendable {
    /// `checkouts`.
    public var checkouts: [Checkout]
    /// `builds`.
    public var builds: [Build]
    /// `tests`.
    public var tests: [Test]

    /// A document of these objects.
    public init(checkouts: [Checkout] = [], builds: [Build] = [], tests: [Test] = []) {
      self.checkouts = checkouts
      self.builds = builds
      self.tests = tests
    }

    /// The document as JSON, version first.
    public var json: JSONValue {
      [
        "version": ["major": .int(KCIDB.version.major), "minor": .int(KCIDB.version.minor)],
        "checkouts": .array(checkouts.map(\.json)),
        "builds": .array(builds.map(\.json)),
        "tests": .array(tests.map(\.json)),
      ]
    }

    /// Every way the document breaks the schema, or bo-repro's own rules for it, one line
    /// each; empty when it is valid (``KCIDB/validate(_:)``).
    public func validate() -> [String] { KCIDB.validate(json) }
  }

  // MARK: Building blocks

  /// `date` in RFC 3339 with an offset, to the second, in UTC: `2026-01-01T00:00:00+00:00`.
  public static func timestamp(_ date: Date) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(secondsFromGMT: 0)!
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    func two(_ n: Int?) -> String {
      let s = String(n ?? 0)
      return s.count < 2 ? "0" + s : s
    }
    let year = String(c.year ?? 0)
    return String(repeating: "0", count: max(0, 4 - year.count)) + year
      + "-\(two(c.month))-\(two(c.day))T\(two(c.hour)):\(two(c.minute)):\(two(c.second))+00:00"
  }

  /// One component of a test path: every scalar outside `[a-zA-Z0-9_-]` (dots included)
  /// becomes `_`; an empty name becomes `_`.
  public static func pathComponent(_ name: String) -> String {
    let out = String(String.UnicodeScalarView(name.unicodeScalars.map { pathScalar($0) ? $0 : "_" }))
    return out.isEmpty ? "_" : out
  }

  /// The checkout of a stable branch (or mainline) as the branch data describes it, the one
  /// ``document(matrix:scenarios:checkouts:at:)`` writes per row:
  /// - `6.18.y` (or `6.18`, `v6.18`, `linux-6.18.y`, ...): id `bo_repro:checkout:6.18.y`,
  ///   tree_name `stable`, the stable repository, branch `linux-6.18.y`;
  /// - `mainline` (or `master`): id `bo_repro:checkout:mainline`, tree_name `mainline`, the
  ///   mainline repository, branch `master`;
  /// - any other name (a `matrix --git` row): id `bo_repro:checkout:<name>`, no git facts, a
  ///   note in `misc`.
  ///
  /// No commit: the branch data describes the branch, not one commit of it.
  public static func stableCheckout(branch: String, at date: Date) -> Checkout {
    let canonical = StableBranchSet.canonicalName(branch)
    let name = clean(canonical ?? branch)
    var checkout = Checkout(
      id: "\(origin):checkout:\(name)", startTime: timestamp(date), valid: true,
      comment: "\(name) as bo-repro's branch data describes it: a modelled tree, not a checkout of its code")
    switch canonical {
    case "mainline":
      (checkout.treeName, checkout.gitRepositoryURL, checkout.gitRepositoryBranch) =
        ("mainline", mainlineRepository, "master")
      checkout.misc = ["branch": "mainline"]
    case let stable?:
      (checkout.treeName, checkout.gitRepositoryURL, checkout.gitRepositoryBranch) =
        ("stable", stableRepository, "linux-\(stable)")
      checkout.misc = ["branch": .string(stable)]
    case nil:
      checkout.misc = [
        "branch": .string(name), "note": "not a stable branch name: no repository or branch is known for it",
      ]
    }
    return checkout
  }

  /// The checkout of a tree read from `repository` at `ref` (resolved to `commit`), or from
  /// the directory `path`; `name` is its version (`7.1.6`), written as `git_commit_name`.
  /// - id: `bo_repro:checkout:<repository>@<ref>` (the commit when there is no ref), else
  ///   `bo_repro:checkout:<path>`, else the commit, ref or name;
  /// - `git_repository_url` only for an https URL (a local path or `git://` is kept in
  ///   `misc.repository`, with a note); `tree_name` for the kernel.org stable, stable-rc
  ///   and mainline repositories;
  /// - `git_repository_branch` the ref, unless it is `HEAD`, a commit id or a release tag
  ///   (`v6.12.58`, `v7.1-rc3`), which name no branch (the ref is in `misc.ref` always);
  /// - `git_commit_hash` only for 40 hex digits (lowercased); any other commit text is kept in
  ///   `misc.commit`.
  public static func checkout(
    repository: String?, ref: String?, commit: String?, name: String?, path: String? = nil, at date: Date
  ) -> Checkout {
    let repository = repository.map(clean)
    let ref = ref.map(clean)
    let commit = commit.map(clean)
    let name = name.map(clean)
    let path = path.map(clean)
    let key: String =
      if let repository { "\(repository)@\(ref ?? commit ?? "HEAD")" } else { path ?? commit ?? ref ?? name ?? "tree" }
    var misc: [(String, JSONValue?)] = [("path", path.map(JSONValue.string)), ("ref", ref.map(JSONValue.string))]
    var checkout = Checkout(id: "\(origin):checkout:\(key)", startTime: timestamp(date), valid: true)
    if let repository {
      if isHTTPS(repository) {
        checkout.gitRepositoryURL = repository
        checkout.treeName = treeName(repository)
      } else {
        misc += [
          ("repository", .string(repository)),
          ("repository_note", "not an https URL, so not written as git_repository_url"),
        ]
      }
    }
    if let ref, isBranchName(ref) { checkout.gitRepositoryBranch = ref }
    if let commit {
      let lower = commit.lowercased()
      if isHash40(lower) {
        checkout.gitCommitHash = lower
      } else {
        misc += [("commit", .string(commit)), ("commit_note", "not 40 hex digits, so not written as git_commit_hash")]
      }
    }
    checkout.gitCommitName = name
    checkout.comment =
      if let repository { "\(repository) at \(ref ?? commit ?? "HEAD"), as bo-repro scanned it" } else {
        "\(path ?? key), as bo-repro scanned it"
      }
    checkout.misc = object(misc)
    return checkout
  }

  /// The checkout of the tree `origin` names (a directory, or a repository at a ref), `name`
  /// being its version: ``checkout(repository:ref:commit:name:path:at:)`` with the origin's
  /// parts.
  public static func checkout(origin: TreeOrigin, name: String?, at date: Date) -> Checkout {
    checkout(
      repository: origin.repository, ref: origin.ref, commit: origin.commit, name: name, path: origin.path, at: date)
  }

  /// The checkout of a scanned tree: ``checkout(origin:name:at:)`` with the scan's origin and
  /// version, and the version's branch and the Makefile's blob id in `misc`.
  public static func checkout(scan: TreeScan, at date: Date) -> Checkout {
    var checkout = checkout(origin: scan.origin, name: scan.version?.description, at: date)
    checkout.misc = merge(
      checkout.misc,
      [
        ("version_branch", scan.version.map { .string($0.branch) }),
        ("makefile_blob", scan.makefileBlob.map(JSONValue.string)),
      ])
    return checkout
  }

  /// The model tree composed for `checkout` from `stack` (patch slugs, in upstream order):
  /// id `bo_repro:build:<tree>:<stack joined by +>` (`base` for none), config
  /// ``modelConfig``, status PASS, or ERROR with `error` (why the model cannot compose it)
  /// as the comment; the stack in `misc`.
  public static func build(checkout: Checkout, stack: [String], error: String? = nil, at date: Date) -> Build {
    let stackKey = stack.isEmpty ? "base" : stack.map(clean).joined(separator: "+")
    return Build(
      id: "\(origin):build:\(key(checkout.id, "checkout")):\(stackKey)", checkoutID: checkout.id,
      startTime: timestamp(date), status: error == nil ? .pass : .error, configName: modelConfig,
      comment: error.map { "the model cannot compose this tree: \(clean($0))" }
        ?? (stack.isEmpty
          ? "the model's base tree, carrying none of the modelled patches"
          : "the model's tree carrying \(stack.map(clean).joined(separator: ", "))"),
      misc: object([("stack", JSONValue(stack.map(clean))), ("error", error.map { .string(clean($0)) })]))
  }

  /// One test of `build`: path `bo_repro.<patch>.<scenario>` (each a ``pathComponent(_:)``,
  /// the scenario without `.json`), id `bo_repro:test:<build>:<patch>.<scenario>`; the
  /// comment and excerpt are cleaned of NUL, the excerpt cut to ``maxLogExcerpt``. `misc` is
  /// written as given: it must be an object without nulls (``Document/validate()`` checks).
  public static func test(
    build: Build, patch: String, scenario: String, status: Status, comment: String? = nil, misc: JSONValue? = nil,
    logExcerpt: String? = nil, at date: Date
  ) -> Test {
    let name = scenario.hasSuffix(".json") ? String(scenario.dropLast(5)) : scenario
    let tail = "\(pathComponent(patch)).\(pathComponent(name))"
    return Test(
      id: "\(origin):test:\(key(build.id, "build")):\(tail)", buildID: build.id, path: "\(origin).\(tail)",
      status: status, startTime: timestamp(date), comment: comment.map(clean), logExcerpt: logExcerpt.map(clean),
      misc: misc)
  }

  // MARK: The matrix

  /// The regression matrix as KCIDB: per row a checkout (``stableCheckout(branch:at:)``, or
  /// `checkouts[row.name]` when given, as `matrix --git` gives the scanned tree's), a build
  /// (``build(checkout:stack:error:at:)``, the stack being the row's applied patches), and a
  /// test per patch and scenario. A cell that ran gives one test per scenario it ran; one that
  /// did not gives one per scenario of the patch known from `scenarios` or from another row,
  /// or a single `bo_repro.<patch>.none` test when none is known. Two rows with the same
  /// checkout (two `--git` rows read from one ref) get `#2`, `#3` ... after its id.
  ///
  /// Each test's status (first rule that applies):
  /// - SKIP: the patch's code is absent from the branch (state `absent`);
  /// - ERROR: the state is `partial`, `rewritten` or `unknown` (the matrix does not run those);
  /// - MISS: the model cannot compose the branch's tree (nothing ran: the harness failed);
  /// - SKIP: the scenario did not run (match `not applicable: ...`, or the patch has no
  ///   scenario);
  /// - ERROR: the run is inconsistent (match `neither: ...`, or the cell's verdict
  ///   contradicts its state: `consistent` false, a mixed or unexpected outcome);
  /// - PASS: the tree shows the fixed outcome (match `after`, or `both`: a no-change
  ///   scenario behaving the same on both sides);
  /// - FAIL: the tree shows the bug (match `before`) for a fix; DONE for a feature
  ///   (`PatchCatalog.features`), whose before side is old behaviour, not a fault;
  /// - ERROR: any other match.
  ///
  /// `misc` holds the branch, state, confidence (and reason), source, verdict, consistent,
  /// scenario file and match.
  public static func document(
    matrix rows: [MatrixRow], scenarios: [Scenario] = [], checkouts: [String: Checkout] = [:], at date: Date
  ) -> Document {
    var known: [String: [String]] = [:]
    func learn(_ patch: String, _ file: String) {
      if !(known[patch]?.contains(file) ?? false) { known[patch, default: []].append(file) }
    }
    for s in scenarios { learn(s.patch, (s.file as NSString).lastPathComponent) }
    for row in rows { for c in row.cells { for r in c.scenarios { learn(c.patch, r.file) } } }
    var document = Document()
    var seen: Set<String> = []
    for row in rows {
      var checkout = checkouts[row.name] ?? stableCheckout(branch: row.name, at: date)
      checkout.id = unique(checkout.id, &seen)
      checkout.misc = merge(checkout.misc, [("status", .string(clean(row.status)))])
      let applied = Set(row.cells.filter { $0.state.applied }.map(\.patch))
      let stack = PatchModels.all.map { $0.patch.slug }.filter(applied.contains)
      var failure: String?
      do { _ = try KernelTree(base: row.name, stack: stack) } catch { failure = "\(error)" }
      let build = build(checkout: checkout, stack: stack, error: failure, at: date)
      document.checkouts.append(checkout)
      document.builds.append(build)
      for cell in row.cells {
        let runs: [(file: String?, match: String?)] =
          !cell.scenarios.isEmpty
          ? cell.scenarios.map { ($0.file, $0.match) }
          : (known[cell.patch].map { $0.map(Optional.some) } ?? [nil]).map { ($0, nil) }
        for run in runs {
          let (status, why) = matrixStatus(cell, match: run.match, composed: failure == nil)
          let misc = object([
            ("branch", .string(clean(row.name))), ("state", .string(cell.state.rawValue)),
            ("confidence", .string(clean(cell.confidence))), ("reason", cell.reason.map { .string(clean($0)) }),
            ("source", .string(clean(cell.source))), ("verdict", .string(clean(cell.verdict))),
            ("consistent", .bool(cell.consistent)),
            ("scenario", run.file.map { .string(clean($0)) }),
            ("match", run.match.map { .string(clean($0)) }),
          ])
          document.tests.append(
            test(
              build: build, patch: cell.patch, scenario: run.file ?? "none", status: status,
              comment: "\(row.name) \(cell.patch): \(why); the cell: \(cell.state) · \(cell.verdict)", misc: misc,
              at: date))
        }
      }
    }
    return document
  }

  /// The status of one scenario of a matrix cell (`match` `nil`: the cell ran nothing), and
  /// why, in the order ``document(matrix:scenarios:checkouts:at:)`` documents.
  static func matrixStatus(_ cell: MatrixCell, match: String?, composed: Bool) -> (Status, String) {
    if cell.state == .absent { return (.skip, "the code the patch changes is not in the tree") }
    if !cell.state.runnable { return (.error, "not run: the branch's code is \(cell.state)") }
    if !composed || cell.verdict.hasPrefix("not run: the model cannot compose") {
      return (.miss, "not run: the model cannot compose the branch's tree")
    }
    guard let match else {
      return cell.consistent
        ? (.skip, "no scenario ran") : (.error, "no scenario ran, and the verdict contradicts the state")
    }
    if match.hasPrefix("not applicable") { return (.skip, "not run: \(match)") }
    if match.hasPrefix("neither") { return (.error, "inconsistent: \(match)") }
    if !cell.consistent { return (.error, "matched \(match), but the cell's verdict contradicts its state") }
    switch match {
    case "after": return (.pass, "the fixed outcome (after)")
    case "both": return (.pass, "the same outcome on both sides (both)")
    case "before":
      return PatchCatalog.features.contains(cell.patch)
        ? (.done, "the old behaviour of a feature (before)") : (.fail, "the bug (before)")
    default: return (.error, "an unknown match: \(match)")
    }
  }

  // MARK: The scan

  /// Scanned trees as KCIDB: per tree a checkout (``checkout(scan:at:)``), a build (the scan,
  /// id `bo_repro:build:<tree>:scan`, config ``scanConfig``, status PASS), and a test per
  /// patch at path `bo_repro.<patch>.scan` whose status is (``scanStatus(_:patch:)``):
  /// - PASS: `after` or `adapted` (the tree carries the patch);
  /// - FAIL: `before` (the code is there, unpatched) for a fix; DONE for a feature
  ///   (`PatchCatalog.features`);
  /// - SKIP: `absent` (the code the patch changes is not there);
  /// - ERROR: `partial`, `rewritten` or `unknown` (the scan cannot say the tree is right).
  ///
  /// `misc` holds the state, whether blob ids decided it, the evidence and the notes; the
  /// evidence and notes are also the `log_excerpt`. Two scans of the same tree get `#2`,
  /// `#3` ... after their checkout's id, so ids stay unique.
  public static func document(scans: [TreeScan], at date: Date) -> Document {
    var document = Document()
    var seen: Set<String> = []
    for scan in scans {
      var checkout = checkout(scan: scan, at: date)
      checkout.id = unique(checkout.id, &seen)
      let build = Build(
        id: "\(origin):build:\(key(checkout.id, "checkout")):scan", checkoutID: checkout.id,
        startTime: timestamp(date), status: .pass, configName: scanConfig,
        comment: "bo-repro's scan of the tree's code for \(scan.patches.count) patch(es)",
        misc: ["patches": .int(scan.patches.count)])
      document.checkouts.append(checkout)
      document.builds.append(build)
      for p in scan.patches {
        let lines = p.evidence + p.notes.map { "note: \($0)" }
        let first = p.notes.first ?? p.evidence.first
        document.tests.append(
          test(
            build: build, patch: p.patch, scenario: "scan", status: scanStatus(p.state, patch: p.patch),
            comment: "\(p.state)\(p.exact ? " (exact: blob ids)" : "")" + (first.map { ": \($0)" } ?? ""),
            misc: [
              "state": .string(p.state.rawValue), "exact": .bool(p.exact), "evidence": JSONValue(p.evidence.map(clean)),
              "notes": JSONValue(p.notes.map(clean)),
            ],
            logExcerpt: lines.isEmpty ? nil : lines.joined(separator: "\n"), at: date))
      }
    }
    return document
  }

  /// A scanned state's test status, as ``document(scans:at:)`` documents.
  public static func scanStatus(_ state: ScanState, patch: String) -> Status {
    switch state {
    case .after, .adapted: .pass
    case .before: PatchCatalog.features.contains(patch) ? .done : .fail
    case .absent: .skip
    case .partial, .rewritten, .unknown: .error
    }
  }

  // MARK: Validation

  /// What a field must hold.
  enum Rule {
    case id, origin, text, https, hash40, dateTime, bool, object, excerpt, status, path
  }

  /// The fields bo-repro writes, per object kind, with their rules; the required ones first.
  static let fields: [(kind: String, required: [String], rules: [(String, Rule)])] = [
    (
      "checkouts", ["id", "origin"],
      [
        ("id", .id), ("origin", .origin), ("tree_name", .text), ("git_repository_url", .https),
        ("git_repository_branch", .text), ("git_commit_hash", .hash40), ("git_commit_name", .text),
        ("start_time", .dateTime), ("valid", .bool), ("comment", .text), ("misc", .object),
      ]
    ),
    (
      "builds", ["id", "origin", "checkout_id"],
      [
        ("id", .id), ("origin", .origin), ("checkout_id", .id), ("start_time", .dateTime), ("status", .status),
        ("config_name", .text), ("comment", .text), ("misc", .object),
      ]
    ),
    (
      "tests", ["id", "origin", "build_id"],
      [
        ("id", .id), ("origin", .origin), ("build_id", .id), ("path", .path), ("status", .status),
        ("start_time", .dateTime), ("comment", .text), ("log_excerpt", .excerpt), ("misc", .object),
      ]
    ),
  ]

  /// Every way `document` breaks KCIDB v5.3 (the rules of stable-formats.md section 4 that
  /// apply to checkouts, builds and tests), one line each naming the place; empty when it
  /// passes:
  /// - the top level is an object with `version` exactly `{"major": 5, "minor": 3}` and only
  ///   `checkouts`, `builds` and `tests` arrays of objects besides;
  /// - no `null` anywhere (in `misc` too), no NUL in any string or key, no key twice;
  /// - each object has its required fields and only the fields bo-repro writes (the schema
  ///   allows more; bo-repro does not write them);
  /// - `origin` `^[a-z0-9_]+$`; `id`, `checkout_id`, `build_id` `^[a-z0-9_]+:[^\0]*$`;
  ///   `git_repository_url` an https URI; `git_commit_hash` `^[0-9a-f]{40}$`; `status` one of
  ///   FAIL ERROR MISS PASS DONE SKIP; `path` `^([a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)*)?$`;
  ///   times RFC 3339 `date-time`; `log_excerpt` at most 16384 scalars; `misc` an object;
  ///   `valid` a boolean; the other fields strings.
  ///
  /// bo-repro's own rules besides: an id begins with its object's origin and `:`, ids are
  /// unique per kind, and every `checkout_id` and `build_id` names an object of the document.
  public static func validate(_ document: JSONValue) -> [String] {
    var problems: [String] = []
    walk(document, "", &problems)
    guard case .object(let top) = document else { return problems + ["the document is not an object"] }
    for m in top where !["version", "checkouts", "builds", "tests"].contains(m.key) {
      problems.append("\(m.key): unexpected key (bo-repro writes version, checkouts, builds and tests)")
    }
    if let v = document["version"] {
      if v != ["major": .int(version.major), "minor": .int(version.minor)]
        && v != ["minor": .int(version.minor), "major": .int(version.major)]
      {
        problems.append("version: expected {\"major\": 5, \"minor\": 3}, got \(v.serialized().filter { $0 != "\n" })")
      }
    } else {
      problems.append("version: missing (required)")
    }
    var ids: [String: Set<String>] = [:]
    var references: [(place: String, kind: String, id: String)] = []
    for (kind, required, rules) in fields {
      guard let list = document[kind] else { continue }
      guard case .array(let objects) = list else {
        problems.append("\(kind): expected an array, got \(list.kindDescription)")
        continue
      }
      for (i, value) in objects.enumerated() {
        let place = "\(kind)[\(i)]"
        guard case .object(let members) = value else {
          problems.append("\(place): expected an object, got \(value.kindDescription)")
          continue
        }
        for key in required where value[key] == nil { problems.append("\(place).\(key): missing (required)") }
        for m in members {
          guard let rule = rules.first(where: { $0.0 == m.key })?.1 else {
            problems.append("\(place).\(m.key): unexpected key")
            continue
          }
          if let problem = check(m.value, rule) { problems.append("\(place).\(m.key): \(problem)") }
        }
        if case .string(let id)? = value["id"], case .string(let origin)? = value["origin"] {
          if !id.hasPrefix(origin + ":") { problems.append("\(place).id: '\(id)' does not begin with '\(origin):'") }
          if !ids[kind, default: []].insert(id).inserted { problems.append("\(place).id: '\(id)' is used twice") }
        }
        if kind == "builds", case .string(let ref)? = value["checkout_id"] {
          references.append(("\(place).checkout_id", "checkouts", ref))
        }
        if kind == "tests", case .string(let ref)? = value["build_id"] {
          references.append(("\(place).build_id", "builds", ref))
        }
      }
    }
    for r in references where !(ids[r.kind]?.contains(r.id) ?? false) {
      problems.append("\(r.place): '\(r.id)' names no object in \(r.kind)")
    }
    return problems
  }

  /// Nulls, NUL characters and repeated keys anywhere under `value`.
  static func walk(_ value: JSONValue, _ place: String, _ problems: inout [String]) {
    let at = place.isEmpty ? "the document" : place
    switch value {
    case .null: problems.append("\(at): null (KCIDB has no nulls: leave the field out)")
    case .string(let s) where s.unicodeScalars.contains("\0"): problems.append("\(at): contains NUL")
    case .array(let elements):
      for (i, e) in elements.enumerated() { walk(e, "\(place)[\(i)]", &problems) }
    case .object(let members):
      var keys: Set<String> = []
      for m in members {
        let inner = place.isEmpty ? m.key : "\(place).\(m.key)"
        if m.key.unicodeScalars.contains("\0") { problems.append("\(at): a key contains NUL") }
        if !keys.insert(m.key).inserted { problems.append("\(inner): the key appears twice") }
        walk(m.value, inner, &problems)
      }
    default: break
    }
  }

  /// Why `value` breaks `rule`, or `nil`. (NUL and null are `walk`'s.)
  static func check(_ value: JSONValue, _ rule: Rule) -> String? {
    switch rule {
    case .bool:
      if case .bool = value { return nil }
      return "expected a boolean, got \(value.kindDescription)"
    case .object:
      if case .object = value { return nil }
      return "expected an object, got \(value.kindDescription)"
    default: break
    }
    guard case .string(let s) = value else { return "expected a string, got \(value.kindDescription)" }
    let ok: Bool
    let expected: String
    switch rule {
    case .id:
      let prefix = s.unicodeScalars.prefix { $0 != ":" }
      ok = !prefix.isEmpty && prefix.count < s.unicodeScalars.count && prefix.allSatisfy(originScalar)
      expected = "^[a-z0-9_]+:[^\\0]*$"
    case .origin:
      ok = !s.isEmpty && s.unicodeScalars.allSatisfy(originScalar)
      expected = "^[a-z0-9_]+$"
    case .https:
      ok = isHTTPS(s)
      expected = "an https URI (^https://[^\\0]*$, format uri)"
    case .hash40:
      ok = isHash40(s)
      expected = "^[0-9a-f]{40}$"
    case .dateTime:
      ok = isDateTime(s)
      expected = "an RFC 3339 date-time (2026-01-01T00:00:00+00:00)"
    case .status:
      ok = Status(rawValue: s) != nil
      expected = "one of \(Status.allCases.map(\.rawValue).joined(separator: ", "))"
    case .path:
      ok = isTestPath(s)
      expected = "^([a-zA-Z0-9_-]+(\\.[a-zA-Z0-9_-]+)*)?$"
    case .excerpt:
      ok = s.unicodeScalars.count <= maxLogExcerpt
      expected = "at most \(maxLogExcerpt) characters"
    case .text, .bool, .object:
      return nil
    }
    if ok { return nil }
    let shown = s.unicodeScalars.count > 80 ? String(String.UnicodeScalarView(s.unicodeScalars.prefix(80))) + "..." : s
    return rule == .excerpt
      ? "\(s.unicodeScalars.count) characters, \(expected)" : "'\(shown)' does not match \(expected)"
  }

  // MARK: Helpers

  /// An object of the members that have a value, in order: KCIDB has no nulls.
  static func object(_ members: [(String, JSONValue?)]) -> JSONValue {
    .object(members.compactMap { key, value in value.map { JSONMember(key, $0) } })
  }

  /// `id`, or `id#2`, `id#3` ... when `seen` holds it already; the result is added to `seen`.
  static func unique(_ id: String, _ seen: inout Set<String>) -> String {
    var candidate = id
    var n = 1
    while !seen.insert(candidate).inserted {
      n += 1
      candidate = "\(id)#\(n)"
    }
    return candidate
  }

  /// `misc` (an object, or nothing) with `extra`'s members that have a value added.
  static func merge(_ misc: JSONValue?, _ extra: [(String, JSONValue?)]) -> JSONValue {
    object((misc?.objectMembers.map { ($0.key, $0.value) } ?? []) + extra)
  }

  /// `text` without NUL characters (KCIDB strings exclude them).
  static func clean(_ text: String) -> String {
    text.unicodeScalars.contains("\0")
      ? String(String.UnicodeScalarView(text.unicodeScalars.filter { $0 != "\0" })) : text
  }

  /// `text` cut to ``maxLogExcerpt`` scalars.
  static func excerpt(_ text: String) -> String {
    text.unicodeScalars.count <= maxLogExcerpt
      ? text : String(String.UnicodeScalarView(text.unicodeScalars.prefix(maxLogExcerpt)))
  }

  /// The part of `id` after `bo_repro:<kind>:` (the whole id when it does not start so).
  static func key(_ id: String, _ kind: String) -> String {
    let prefix = "\(origin):\(kind):"
    return id.hasPrefix(prefix) ? String(id.dropFirst(prefix.count)) : id
  }

  /// `tree_name` for the kernel.org repositories KernelCI names.
  static func treeName(_ url: String) -> String? {
    var u = url.lowercased()
    while u.hasSuffix("/") { u.removeLast() }
    if u.hasSuffix(".git") { u.removeLast(4) }
    let base = "https://git.kernel.org/pub/scm/linux/kernel/git/"
    return [
      base + "stable/linux": "stable", base + "stable/linux-stable": "stable",
      base + "stable/linux-stable-rc": "stable-rc", base + "torvalds/linux": "mainline",
    ][u]
  }

  static func originScalar(_ c: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(c) || ("0"..."9").contains(c) || c == "_"
  }

  static func pathScalar(_ c: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "-"
  }

  static func hexScalar(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) || ("a"..."f").contains(c) }

  static func isHash40(_ s: String) -> Bool { s.unicodeScalars.count == 40 && s.unicodeScalars.allSatisfy(hexScalar) }

  /// 7 to 40 hex digits: a commit id rather than a branch or tag name.
  static func isCommitID(_ s: String) -> Bool {
    (7...40).contains(s.unicodeScalars.count) && s.lowercased().unicodeScalars.allSatisfy(hexScalar)
  }

  /// Whether a ref names a branch: not `HEAD`, a commit id or a release tag.
  static func isBranchName(_ ref: String) -> Bool {
    !ref.isEmpty && ref != "HEAD" && !isCommitID(ref) && KernelVersion(tag: ref) == nil
  }

  /// `^([a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)*)?$`.
  static func isTestPath(_ s: String) -> Bool {
    s.isEmpty
      || Array(s.unicodeScalars).split(separator: ".", omittingEmptySubsequences: false).allSatisfy {
        !$0.isEmpty && $0.allSatisfy(pathScalar)
      }
  }

  /// An https URI as `jsonschema`'s `uri` format (rfc3987) and the schema's pattern accept
  /// it: `https://`, a host, then only URI characters and `%XX` escapes, at most one `#`.
  /// Stricter than rfc3987 where that is simpler: no `[` `]` at all (an IPv6 host is refused
  /// with the brackets rfc3987 refuses elsewhere).
  static func isHTTPS(_ s: String) -> Bool {
    guard s.hasPrefix("https://") else { return false }
    let rest = Array(s.unicodeScalars.dropFirst(8))
    guard let first = rest.first, !"/?#".unicodeScalars.contains(first), rest.filter({ $0 == "#" }).count <= 1 else {
      return false
    }
    let allowed = Set(
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#@!$&'()*+,;=".unicodeScalars)
    var i = 0
    while i < rest.count {
      if rest[i] == "%" {
        guard i + 2 < rest.count, rest[i + 1].properties.isASCIIHexDigit, rest[i + 2].properties.isASCIIHexDigit else {
          return false
        }
        i += 3
        continue
      }
      guard allowed.contains(rest[i]) else { return false }
      i += 1
    }
    return true
  }

  /// RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)`, with real dates
  /// (leap years counted), hours to 23, minutes to 59, seconds to 60.
  static func isDateTime(_ s: String) -> Bool {
    let c = Array(s.unicodeScalars)
    func digits(_ from: Int, _ count: Int) -> Int? {
      guard from + count <= c.count else { return nil }
      var n = 0
      for k in from..<(from + count) {
        guard ("0"..."9").contains(c[k]) else { return nil }
        n = n * 10 + Int(c[k].value - 48)
      }
      return n
    }
    guard c.count >= 20, let year = digits(0, 4), c[4] == "-", let month = digits(5, 2), c[7] == "-",
      let day = digits(8, 2), c[10] == "T" || c[10] == "t", let hour = digits(11, 2), c[13] == ":",
      let minute = digits(14, 2), c[16] == ":", let second = digits(17, 2)
    else { return false }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    guard (1...12).contains(month), (1...days[month - 1]).contains(day), hour <= 23, minute <= 59, second <= 60 else {
      return false
    }
    var i = 19
    if i < c.count, c[i] == "." {
      i += 1
      let start = i
      while i < c.count, ("0"..."9").contains(c[i]) { i += 1 }
      guard i > start else { return false }
    }
    guard i < c.count else { return false }
    if c[i] == "Z" || c[i] == "z" { return i + 1 == c.count }
    guard c[i] == "+" || c[i] == "-", i + 6 == c.count, let oh = digits(i + 1, 2), c[i + 3] == ":",
      let om = digits(i + 4, 2)
    else { return false }
    return oh <= 23 && om <= 59
  }
}
