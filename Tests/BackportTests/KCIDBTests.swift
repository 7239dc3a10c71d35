import Foundation
import Harness
import JSONText
import PackageTestSupport
import PatchText
import Patches
import Testing

@testable import Backport

/// KCIDB v5.3 output: the matrix and a scan as checkouts, builds and tests that pass the
/// Swift-side validator, with the statuses the documented mapping gives; and a validator that
/// does fail on what the schema refuses.
@Suite("KCIDB output")
struct KCIDBTests {
  /// 2026-01-01T00:00:00Z: every document here is stamped with it, so output is reproducible.
  static let date = Date(timeIntervalSince1970: 1_767_225_600)

  static let scenarios = Result { try ScenarioLibrary.load(directory: scenariosDirectory) }

  /// The whole fixture matrix, computed once.
  static let rows = Result {
    try RegressionMatrix.compute(
      branches: try StableBranchSet(contentsOf: branchesFile).branches, scenarios: try scenarios.get())
  }

  static func matrixDocument() throws -> KCIDB.Document {
    KCIDB.document(matrix: try rows.get(), scenarios: try scenarios.get(), at: date)
  }

  /// The test of `patch`'s `scenario` (a file name without `.json`) on `branch`.
  func test(_ document: KCIDB.Document, _ branch: String, _ patch: String, _ scenario: String) throws -> KCIDB.Test {
    let checkout = try #require(document.checkouts.first { $0.misc?["branch"] == .string(branch) })
    let builds = Set(document.builds.filter { $0.checkoutID == checkout.id }.map(\.id))
    return try #require(
      document.tests.first { builds.contains($0.buildID) && $0.path == "bo_repro.\(patch).\(scenario)" },
      "\(branch) \(patch) \(scenario)")
  }

  /// Every place under `value` that holds null.
  func nulls(_ value: JSONValue, _ place: String = "") -> [String] {
    switch value {
    case .null: [place]
    case .array(let a): a.enumerated().flatMap { nulls($1, "\(place)[\($0)]") }
    case .object(let m): m.flatMap { nulls($0.value, "\(place).\($0.key)") }
    default: []
    }
  }

  // MARK: The matrix

  @Test("the matrix document passes validate(), has no null, and reads back as written")
  func matrixValid() throws {
    let document = try Self.matrixDocument()
    #expect(document.validate() == [])
    let json = document.json
    #expect(nulls(json) == [])
    #expect(json["version"] == ["major": 5, "minor": 3])
    let parsed = try JSONParser.parse(json.serialized())
    #expect(parsed == json)
    #expect(KCIDB.validate(parsed) == [])
    // Deterministic: the same input, the same document.
    #expect(try Self.matrixDocument() == document)
  }

  @Test("one checkout and one build per branch, one test per branch and scenario, ids unique")
  func matrixShape() throws {
    let document = try Self.matrixDocument()
    let rows = try Self.rows.get()
    #expect(document.checkouts.count == rows.count && document.builds.count == rows.count)
    #expect(document.tests.count == rows.count * (try Self.scenarios.get()).count)
    for ids in [document.checkouts.map(\.id), document.builds.map(\.id), document.tests.map(\.id)] {
      #expect(Set(ids).count == ids.count)
      #expect(ids.allSatisfy { $0.hasPrefix("bo_repro:") })
    }
    #expect(document.tests.allSatisfy { $0.path?.hasPrefix("bo_repro.") == true && $0.origin == "bo_repro" })
    #expect(document.builds.allSatisfy { $0.status == .pass && $0.configName == "bo_repro_model" })
  }

  @Test("stable branches and mainline check out of the kernel.org repositories")
  func matrixCheckouts() throws {
    let document = try Self.matrixDocument()
    let stable = try #require(document.checkouts.first { $0.id == "bo_repro:checkout:6.18.y" })
    #expect(stable.treeName == "stable" && stable.gitRepositoryBranch == "linux-6.18.y")
    #expect(stable.gitRepositoryURL == "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git")
    #expect(stable.gitCommitHash == nil && stable.startTime == "2026-01-01T00:00:00+00:00" && stable.valid == true)
    let mainline = try #require(document.checkouts.first { $0.id == "bo_repro:checkout:mainline" })
    #expect(mainline.treeName == "mainline" && mainline.gitRepositoryBranch == "master")
    #expect(mainline.gitRepositoryURL == "https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git")
    let build = try #require(document.builds.first { $0.checkoutID == stable.id })
    #expect(
      build.id
        == "bo_repro:build:6.18.y:madvise-list-move+shmem-backup-v14+null-handle-pages-backup")
    #expect(build.misc?["stack"] == ["madvise-list-move", "shmem-backup-v14", "null-handle-pages-backup"])
  }

  @Test("statuses follow the mapping on known branches")
  func matrixStatuses() throws {
    let d = try Self.matrixDocument()
    let gfp = "gfp-retry-mayfail-readback"
    // 6.18.y lacks the gfp fix: its delta scenarios show the bug, its no-change ones pass.
    #expect(try test(d, "6.18.y", gfp, "\(gfp)--readback-under-pressure").status == .fail)
    #expect(try test(d, "6.18.y", gfp, "\(gfp)--interruptible-restore-kept").status == .fail)
    #expect(try test(d, "6.18.y", gfp, "\(gfp)--no-change-flag-clear").status == .pass)
    // 7.1.y carries it.
    #expect(try test(d, "7.1.y", gfp, "\(gfp)--readback-under-pressure").status == .pass)
    // 6.12.y has no shmem backup at all: absent, skipped, every scenario still listed.
    let absent = try test(d, "6.12.y", gfp, "\(gfp)--readback-under-pressure")
    #expect(absent.status == .skip && absent.misc?["state"] == "absent" && absent.misc?["verdict"] == "n/a")
    #expect(try test(d, "6.12.y", gfp, "\(gfp)--no-change-flag-clear").status == .skip)
    // The madvise fix is on 5.10.y.
    #expect(try test(d, "5.10.y", "madvise-list-move", "madvise-list-move--repeated-dontneed-tail").status == .pass)
    // Shmem backup is a feature: its before side on 6.12.y is old behaviour, DONE, not FAIL.
    let feature = try test(d, "6.12.y", "shmem-backup-v14", "shmem-backup-v14--peak-memory")
    #expect(feature.status == .done && feature.misc?["match"] == "before")
    // A scenario the tree makes unreachable did not run.
    let unreachable = try test(
      d, "7.2.y", "null-handle-pages-backup", "null-handle-pages-backup--purge-cached")
    #expect(unreachable.status == .skip)
    #expect(
      {
        if case .string(let m)? = unreachable.misc?["match"] { return m.hasPrefix("not applicable") }
        return false
      }())
  }

  @Test("a cell that cannot run: partial is ERROR, an impossible stack is a failed build and MISS")
  func matrixNotRun() throws {
    func entry(_ slug: String, _ state: PatchState) -> BranchPatch {
      BranchPatch(patch: slug, state: state, evidence: "test", confidence: .verified, source: "scan")
    }
    let states: [String: PatchState] = [
      "shmem-backup-v14": .after, "zero-copy-insert-folio": .after, "native-order-backup": .after,
      "gfp-retry-mayfail-readback": .partial,
    ]
    let branch = StableBranch(
      name: "odd", status: BranchStatus(kind: "scanned", projectedEOL: nil, confidence: .verified),
      patches: PatchCatalog.all.map { entry($0.slug, states[$0.slug] ?? .absent) })
    let rows = try RegressionMatrix.compute(branches: [branch], scenarios: try Self.scenarios.get())
    let d = KCIDB.document(matrix: rows, scenarios: try Self.scenarios.get(), at: Self.date)
    #expect(d.validate() == [])
    let checkout = try #require(d.checkouts.first)
    #expect(checkout.id == "bo_repro:checkout:odd" && checkout.gitRepositoryURL == nil)
    let build = try #require(d.builds.first)
    #expect(build.status == .error && build.comment?.hasPrefix("the model cannot compose this tree: ") == true)
    let byPatch = Dictionary(grouping: d.tests) { $0.path!.split(separator: ".")[1] }
    #expect(byPatch["gfp-retry-mayfail-readback"]?.allSatisfy { $0.status == .error } == true)
    #expect(byPatch["native-order-backup"]?.allSatisfy { $0.status == .miss } == true)
    #expect(byPatch["madvise-list-move"]?.allSatisfy { $0.status == .skip } == true)
    #expect(d.tests.count == (try Self.scenarios.get()).count)
  }

  @Test("a run that matched neither side, or contradicts its state, is ERROR")
  func matrixInconsistent() {
    func cell(_ state: PatchState, consistent: Bool, _ match: String) -> MatrixCell {
      MatrixCell(
        patch: "gfp-retry-mayfail-readback", state: state, confidence: "verified", reason: nil, verdict: "x",
        consistent: consistent, scenarios: [.init(file: "f.json", match: match)])
    }
    #expect(
      KCIDB.matrixStatus(
        cell(.after, consistent: false, "neither: oomKills 1"), match: "neither: oomKills 1", composed: true
      ).0 == .error)
    #expect(KCIDB.matrixStatus(cell(.after, consistent: false, "before"), match: "before", composed: true).0 == .error)
    #expect(KCIDB.matrixStatus(cell(.before, consistent: true, "before"), match: "before", composed: true).0 == .fail)
    #expect(KCIDB.matrixStatus(cell(.adapted, consistent: true, "after"), match: "after", composed: true).0 == .pass)
    #expect(KCIDB.matrixStatus(cell(.after, consistent: true, "both"), match: "both", composed: true).0 == .pass)
    #expect(KCIDB.matrixStatus(cell(.after, consistent: true, "after"), match: nil, composed: false).0 == .miss)
  }

  // MARK: The scan

  /// A 7.1.6-like tree (the TTM files, no panfrost), scanned from files handed to the
  /// scanner with an https origin.
  static func scan() throws -> TreeScan {
    let files: [(String, String, String)] = [
      ("drivers/gpu/drm/ttm/Makefile", "Makefile", "40d07a35293a"),
      ("drivers/gpu/drm/ttm/ttm_backup.c", "ttm_backup.c", "81df4cb5606b"),
      ("include/drm/ttm/ttm_backup.h", "ttm_backup.h", "29b9c855af77"),
      ("drivers/gpu/drm/ttm/ttm_pool.c", "ttm_pool.c", "d380a3c7fe40"),
    ]
    var contents: [String: SourceFile] = [:]
    for (path, name, blob) in files {
      let text = try requireKernelFile(name, blob)
      contents[path] = .text(blob: GitBlob.id(of: text), text: text)
    }
    let makefile = TemporaryTree.makefile("7.1.6")
    contents["Makefile"] = .text(blob: GitBlob.id(of: makefile), text: makefile)
    let scanner = TreeScanner(patches: PatchListing.ordered(try PatchSet(directory: patchesDirectory)))
    for path in scanner.paths where contents[path] == nil { contents[path] = .missing }
    return scanner.scan(
      origin: TreeOrigin(
        repository: "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git", ref: "linux-7.1.y",
        commit: String(repeating: "AB", count: 20)),
      files: contents)
  }

  @Test("a scan document passes validate(), with a test per patch and the scan's statuses")
  func scanDocument() throws {
    let scan = try Self.scan()
    let d = KCIDB.document(scans: [scan, scan], at: Self.date)
    #expect(d.validate() == [])
    #expect(nulls(d.json) == [])
    #expect(
      d.checkouts.map(\.id) == [
        "bo_repro:checkout:https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git@linux-7.1.y",
        "bo_repro:checkout:https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git@linux-7.1.y#2",
      ])
    let c = d.checkouts[0]
    #expect(c.treeName == "stable" && c.gitRepositoryBranch == "linux-7.1.y" && c.gitCommitName == "7.1.6")
    #expect(c.gitCommitHash == String(repeating: "ab", count: 20))
    #expect(d.builds.allSatisfy { $0.configName == "bo_repro_scan" && $0.status == .pass })
    #expect(d.tests.count == 2 * scan.patches.count)
    for p in scan.patches {
      let t = try #require(d.tests.first { $0.path == "bo_repro.\(p.patch).scan" })
      #expect(t.status == KCIDB.scanStatus(p.state, patch: p.patch))
      #expect(t.misc?["state"] == .string(p.state.rawValue))
    }
    let states = Dictionary(uniqueKeysWithValues: scan.patches.map { ($0.patch, $0.state) })
    #expect(states["gfp-retry-mayfail-readback"] == .after && states["madvise-list-move"] == .absent)
    #expect(states["null-handle-pages-backup"] == .before)
    func status(_ slug: String) -> KCIDB.Status? { d.tests.first { $0.path == "bo_repro.\(slug).scan" }?.status }
    #expect(status("gfp-retry-mayfail-readback") == .pass)
    #expect(status("madvise-list-move") == .skip)
    #expect(status("null-handle-pages-backup") == .fail)
    #expect(status("zero-copy-insert-folio") == .done)
  }

  @Test("scanned states map to statuses", arguments: ScanState.allCases)
  func scanStatuses(_ state: ScanState) {
    let expected: [ScanState: KCIDB.Status] = [
      .after: .pass, .adapted: .pass, .before: .fail, .absent: .skip, .partial: .error, .rewritten: .error,
      .unknown: .error,
    ]
    #expect(KCIDB.scanStatus(state, patch: "gfp-retry-mayfail-readback") == expected[state])
  }

  // MARK: Building blocks

  @Test("stableCheckout takes the ways people write a branch")
  func stableCheckout() {
    let c = KCIDB.stableCheckout(branch: "v6.18", at: Self.date)
    #expect(c.id == "bo_repro:checkout:6.18.y" && c.gitRepositoryBranch == "linux-6.18.y")
    #expect(KCIDB.stableCheckout(branch: "master", at: Self.date).id == "bo_repro:checkout:mainline")
    let other = KCIDB.stableCheckout(branch: "my-tree", at: Self.date)
    #expect(other.gitRepositoryURL == nil && other.treeName == nil && other.misc?["note"] != nil)
    #expect(KCIDB.validate(KCIDB.Document(checkouts: [c, other]).json) == [])
  }

  @Test("checkout keeps only an https URL and a 40-hex commit; the rest goes to misc")
  func checkoutFields() {
    let local = KCIDB.checkout(
      repository: "/home/me/linux", ref: "v6.12.58", commit: "abcdef123456", name: "6.12.58", at: Self.date)
    #expect(local.gitRepositoryURL == nil && local.gitCommitHash == nil && local.gitRepositoryBranch == nil)
    #expect(local.misc?["repository"] == "/home/me/linux" && local.misc?["commit"] == "abcdef123456")
    #expect(local.misc?["ref"] == "v6.12.58" && local.gitCommitName == "6.12.58")
    let http = KCIDB.checkout(
      repository: "http://git.example.org/linux.git", ref: "main", commit: nil, name: nil, at: Self.date)
    #expect(http.gitRepositoryURL == nil && http.gitRepositoryBranch == "main")
    let rc = KCIDB.checkout(
      repository: "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux-stable-rc.git/", ref: "HEAD",
      commit: String(repeating: "0", count: 40), name: nil, at: Self.date)
    #expect(rc.treeName == "stable-rc" && rc.gitRepositoryBranch == nil && rc.gitCommitHash != nil)
    let spaced = KCIDB.checkout(
      repository: "https://example.org/a repo", ref: nil, commit: nil, name: nil, at: Self.date)
    #expect(spaced.gitRepositoryURL == nil)
    let directory = KCIDB.checkout(origin: TreeOrigin(path: "/src/linux"), name: "6.18.42", at: Self.date)
    #expect(directory.id == "bo_repro:checkout:/src/linux" && directory.misc?["path"] == "/src/linux")
    #expect(KCIDB.validate(KCIDB.Document(checkouts: [local, http, rc, spaced, directory]).json) == [])
  }

  @Test("test() cleans its path, comment and excerpt")
  func testBuilder() {
    let checkout = KCIDB.stableCheckout(branch: "6.18.y", at: Self.date)
    let build = KCIDB.build(checkout: checkout, stack: [], at: Self.date)
    #expect(build.id == "bo_repro:build:6.18.y:base")
    let t = KCIDB.test(
      build: build, patch: "gfp-retry-mayfail-readback", scenario: "odd name.v2.json", status: .pass,
      comment: "a\0b", misc: ["k": "v"], logExcerpt: String(repeating: "é", count: 20000), at: Self.date)
    #expect(t.path == "bo_repro.gfp-retry-mayfail-readback.odd_name_v2")
    #expect(t.id == "bo_repro:test:6.18.y:base:gfp-retry-mayfail-readback.odd_name_v2")
    #expect(t.comment == "ab" && t.logExcerpt?.unicodeScalars.count == 16384)
    #expect(KCIDB.pathComponent("") == "_" && KCIDB.pathComponent("a/b c") == "a_b_c")
    #expect(KCIDB.Document(checkouts: [checkout], builds: [build], tests: [t]).validate() == [])
  }

  @Test("timestamps are RFC 3339 with an offset, to the second")
  func timestamps() {
    #expect(KCIDB.timestamp(Self.date) == "2026-01-01T00:00:00+00:00")
    #expect(
      KCIDB.timestamp(Date(timeIntervalSince1970: 1_767_225_600 + 86400 * 59 + 3723.75)) == "2026-03-01T01:02:03+00:00")
    #expect(KCIDB.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00+00:00")
  }

  // MARK: The validator fails

  /// A valid document to break: one checkout, build and test.
  func good() -> KCIDB.Document {
    let checkout = KCIDB.stableCheckout(branch: "6.18.y", at: Self.date)
    let build = KCIDB.build(checkout: checkout, stack: ["shmem-backup-v14"], at: Self.date)
    return KCIDB.Document(
      checkouts: [checkout], builds: [build],
      tests: [KCIDB.test(build: build, patch: "p", scenario: "s", status: .fail, at: Self.date)])
  }

  @Test("validate() catches a bad id, path, URL, hash, date, excerpt and a dangling reference")
  func validatorFailsOnTypedValues() {
    var d = good()
    #expect(d.validate() == [])
    d.builds[0].id = "build-1"
    d.tests[0].path = "kunit/ttm pool"
    d.checkouts[0].gitRepositoryURL = "http://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git"
    d.checkouts[0].gitCommitHash = "9fc33eaaa979"
    d.checkouts[0].startTime = "2025-12-01 10:05"
    d.tests[0].startTime = "2025-02-29T10:00:00+00:00"
    d.tests[0].logExcerpt = String(repeating: "x", count: 16385)
    d.tests[0].comment = "NUL\0here"
    let problems = d.validate()
    for expected in [
      "builds[0].id: 'build-1' does not match ^[a-z0-9_]+:[^\\0]*$",
      "tests[0].path: 'kunit/ttm pool' does not match",
      "checkouts[0].git_repository_url: 'http://",
      "checkouts[0].git_commit_hash: '9fc33eaaa979' does not match ^[0-9a-f]{40}$",
      "checkouts[0].start_time: '2025-12-01 10:05' does not match an RFC 3339 date-time",
      "tests[0].start_time: '2025-02-29T10:00:00+00:00'",
      "tests[0].log_excerpt: 16385 characters",
      "tests[0].comment: contains NUL",
      "tests[0].build_id: 'bo_repro:build:6.18.y:shmem-backup-v14' names no object in builds",
    ] {
      #expect(problems.contains { $0.hasPrefix(expected) }, "\(expected)\n\(problems.joined(separator: "\n"))")
    }
    #expect(problems.contains("builds[0].id: 'build-1' does not begin with 'bo_repro:'"))
  }

  @Test("validate() catches null, an unknown status, an extra key, a missing field, a wrong version, a reused id")
  func validatorFailsOnJSON() throws {
    let d = good()
    func broken(_ edit: (inout [String: [JSONMember]]) -> Void) -> [String] {
      var kinds: [String: [JSONMember]] = [:]
      for kind in ["checkouts", "builds", "tests"] {
        if case .array(let a)? = d.json[kind], case .object(let m)? = a.first { kinds[kind] = m }
      }
      edit(&kinds)
      return KCIDB.validate(
        [
          "version": ["major": 5, "minor": 3], "checkouts": [.object(kinds["checkouts"]!)],
          "builds": [.object(kinds["builds"]!)], "tests": [.object(kinds["tests"]!)],
        ])
    }
    #expect(broken { _ in } == [])
    #expect(
      broken { $0["builds"]! += [JSONMember("compiler", .null)] }.contains(
        "builds[0].compiler: null (KCIDB has no nulls: leave the field out)"))
    #expect(
      broken { $0["tests"]! += [JSONMember("misc", ["deep": [nil]])] }.contains {
        $0.hasPrefix("tests[0].misc.deep[0]: null")
      })
    #expect(
      broken { $0["tests"] = $0["tests"]!.map { $0.key == "status" ? JSONMember("status", "pass") : $0 } }.contains(
        "tests[0].status: 'pass' does not match one of FAIL, ERROR, MISS, PASS, DONE, SKIP"))
    #expect(broken { $0["builds"]! += [JSONMember("valid", true)] }.contains("builds[0].valid: unexpected key"))
    #expect(
      broken { $0["tests"] = $0["tests"]!.filter { $0.key != "origin" } }.contains(
        "tests[0].origin: missing (required)"))
    #expect(
      broken { $0["checkouts"] = $0["checkouts"]!.map { $0.key == "valid" ? JSONMember("valid", "yes") : $0 } }
        .contains("checkouts[0].valid: expected a boolean, got a string"))
    let v4 = KCIDB.validate(["version": ["major": 4, "minor": 5], "checkouts": []])
    #expect(v4.count == 1 && v4[0].hasPrefix("version: expected {\"major\": 5, \"minor\": 3}"))
    #expect(KCIDB.validate(["checkouts": []]) == ["version: missing (required)"])
    #expect(KCIDB.validate(["version": ["major": 5, "minor": 3], "issues": []]).count == 1)
    var twice = good()
    twice.checkouts.append(twice.checkouts[0])
    #expect(twice.validate() == ["checkouts[1].id: 'bo_repro:checkout:6.18.y' is used twice"])
  }

  /// Checked against kcidb-io 141 (`LATEST.is_valid` on a checkout with the URL): it accepts
  /// the good ones and refuses the bad ones, except `https://` and `https:///path`, which it
  /// accepts and which name no host (refused here: stricter is safe for a writer).
  @Test("the https check refuses what kcidb-io's uri format refuses")
  func httpsURLs() {
    for good in ["https://a", "https://a/%41", "https://a:b@c/", "https://git.kernel.org/x.git", "https://a/b?c#d"] {
      #expect(KCIDB.isHTTPS(good), "\(good)")
    }
    for bad in [
      "https://[x", "https://a/b[c]", "https://a/b#c#d", "https://a/b?c=[d]", "https://a/é", "https://a b",
      "https://", "https:///path", "http://a", "git://a/b", "https://a/%4", "https://a/%zz",
    ] {
      #expect(!KCIDB.isHTTPS(bad), "\(bad)")
    }
  }

  @Test("the date-time check follows RFC 3339")
  func dateTimes() {
    for good in [
      "2026-01-01T00:00:00+00:00", "2024-02-29T23:59:60Z", "2026-01-01t00:00:00.125-05:30", "2026-12-31T23:59:59z",
    ] {
      #expect(KCIDB.isDateTime(good), "\(good)")
    }
    for bad in [
      "2026-01-01", "2026-01-01T00:00:00", "2026-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2026-01-01T24:00:00Z",
      "2026-01-01T00:00:00+0000", "2026-01-01T00:00:00.Z", "2026-01-01 00:00:00Z", "２０２６-01-01T00:00:00Z",
    ] {
      #expect(!KCIDB.isDateTime(bad), "\(bad)")
    }
  }
}
