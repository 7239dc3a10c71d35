import Backport
import Foundation
import Harness
import History
import PackageTestSupport
import PatchText
import Testing

extension PanfrostHistory {
  func history(_ arguments: [String] = []) throws -> History {
    let git = try GitRepository(path: tree.root)
    return try History.read(
      git, selecting: arguments, patches: try PatchSet(directory: patchesDirectory).patches,
      scenarios: try ScenarioLibrary.load(directory: scenariosDirectory))
  }
}

@Suite("History of a branch, from the code at each tag")
struct HistoryTests {
  static func runs(_ h: History, _ group: String, _ slug: String) throws -> [(ScanState, String, String)] {
    let g = try #require(h.groups.firstIndex { $0.name == group })
    let p = try #require(h.patchIndex(slug))
    return h.runs(group: g, patch: p).map { r in
      (r.state, h.groups[g].points[r.first].name, h.groups[g].points[r.last].name)
    }
  }

  @Test("the fix arrives, is reverted and comes back: each change with its first tag, commit, line and behaviour")
  func arrivesRevertedReturns() throws {
    let repo = try PanfrostHistory()
    let h = try repo.history()
    #expect(h.groups.map(\.name) == ["5.3.y", "5.4.y", "5.15.y", "5.18.y", "5.19.y", "6.12.y"])
    let runs = try Self.runs(h, "5.15.y", "madvise-list-move")
    #expect(runs.map(\.0) == [.before, .after, .before, .after])
    #expect(runs.map(\.1) == ["v5.15", "v5.15.56", "v5.15.57", "v5.15.58"])
    #expect(runs.map(\.2) == ["v5.15.55", "v5.15.56", "v5.15.57", "v5.15.58"])
    let g = try #require(h.groups.firstIndex { $0.name == "5.15.y" })
    let p = try #require(h.patchIndex("madvise-list-move"))
    let detail = h.runs(group: g, patch: p)
    // The commit of each change is the tag's own.
    let revert = h.groups[g].points[detail[2].first]
    #expect(revert.commit == (try repo.tree.git("rev-parse", "v5.15.57^{commit}")).trimmingCharacters(in: .newlines))
    #expect(HistoryReport.decidingLine(h.scans[detail[0].scan]).contains("list_add_tail(&bo->base.madv_list,"))
    #expect(HistoryReport.decidingLine(h.scans[detail[1].scan]).contains("list_move_tail(&bo->base.madv_list,"))
    // The behaviour, run on each state: the bug, then fixed, then the bug again.
    #expect(detail.map { $0.verdict.hasPrefix("bug reproduces") } == [true, false, true, false])
    #expect(detail.map { $0.verdict.hasPrefix("fixed") } == [false, true, false, true])
    #expect(detail.allSatisfy { $0.consistent })
    #expect(
      HistoryReport.summary(detail, h.groups[g].points)
        == "before in v5.15 .. v5.15.55, after in v5.15.56, before again in v5.15.57, after again from v5.15.58")
    // Before panfrost had madvise, the code is absent; in 5.18 the exact blobs decide.
    #expect(try Self.runs(h, "5.3.y", "madvise-list-move").map(\.0) == [.absent])
    #expect(try Self.runs(h, "5.18.y", "madvise-list-move").map(\.0) == [.before, .after])
    #expect(try Self.runs(h, "5.15.y", "shmem-backup-v14").map(\.0) == [.absent])
    // A tag that is not a version is not read by default.
    #expect(!h.groups.flatMap(\.points).contains { $0.name == "android-mainline-test" })
  }

  @Test("the cost grows with the distinct blobs and tree states, not the tags")
  func costPerDistinctVersion() throws {
    let small = try PanfrostHistory().history()
    let large = try PanfrostHistory(extra: 40).history()
    #expect(large.stats.points == small.stats.points + 40)
    // Five distinct panfrost_drv.c blobs; the tags name their versions, so no Makefile is read.
    #expect(small.stats.blobsRead == 5)
    #expect(large.stats.blobsRead == small.stats.blobsRead)
    #expect(large.stats.fileDecisions == small.stats.fileDecisions)
    #expect(large.stats.patchScans == small.stats.patchScans)
    // Three tree states: no panfrost driver, the bug, the fix.
    #expect(small.stats.treeStatesRun == 3)
    #expect(large.stats.treeStatesRun == 3)
    // One commit per tag, and a tree read only where the way to the files differs.
    #expect(large.stats.commitsRead == large.stats.points)
    #expect(large.stats.treesRead < 4 * large.stats.points)
  }

  @Test("globs, ranges and refs select the points; a range's commits get their version from the Makefile")
  func selection() throws {
    let repo = try PanfrostHistory()
    let glob = try repo.history(["v5.15.*"])
    #expect(glob.groups.map(\.name) == ["5.15.y"])
    #expect(glob.groups[0].points.map(\.name) == ["v5.15.55", "v5.15.56", "v5.15.57", "v5.15.58"])
    let range = try repo.history(["v5.15.55..v5.15.57"])
    #expect(range.groups.map(\.name) == ["v5.15.55..v5.15.57"])
    #expect(range.groups[0].kind == .range)
    let names = range.groups[0].points.map(\.name)
    #expect(names.count == 2)
    #expect(names[0].hasSuffix(" (v5.15.56)"))
    #expect(names[1].hasSuffix(" (v5.15.57)"))
    #expect(range.groups[0].points.map { $0.version?.description } == ["5.15.56", "5.15.57"])
    #expect(try Self.runs(range, "v5.15.55..v5.15.57", "madvise-list-move").map(\.0) == [.after, .before])
    let refs = try repo.history(["android-mainline-test", "HEAD~1"])
    #expect(refs.groups.map(\.name) == ["refs"])
    #expect(refs.groups[0].points.map(\.name) == ["android-mainline-test", "HEAD~1"])
    #expect(refs.groups[0].points.map { $0.version?.description } == ["6.12", "5.19"])
  }

  @Test(
    "what selects nothing is one clear error",
    arguments: [
      (["v9.*"], "'v9.*': matches no tag"),
      (["v5.15..v5.4"], "'v5.15..v5.4': the range selects no commit"),
      (["--all"], "'--all': not a ref, glob or range"),
    ])
  func selectsNothing(_ arguments: [String], _ message: String) throws {
    let repo = try PanfrostHistory()
    #expect(throws: HistoryError(message)) { try repo.history(arguments) }
  }

  @Test("a repository without tags, or without version tags, is one clear error")
  func noVersionTags() throws {
    let tree = try TemporaryTree()
    try tree.write("Makefile", TemporaryTree.makefile("6.12"))
    try tree.commit(tag: "release-1")
    let git = try GitRepository(path: tree.root)
    #expect(
      throws: HistoryError(
        "\(tree.root): 1 tag(s), none of the form vX.Y or vX.Y.Z (such as 'release-1'); give refs, globs or A..B ranges"
      )
    ) {
      try HistorySelection.select(git, [])
    }
    try tree.git("tag", "-d", "release-1")
    #expect(
      throws: HistoryError(
        "\(tree.root): no tags (history reads the version tags vX.Y and vX.Y.Z; give refs, globs or A..B ranges)")
    ) {
      try HistorySelection.select(git, [])
    }
  }

  @Test("objects a clone lacks make those tags unknown; the rest of the history is reported")
  func missingObjects() throws {
    let repo = try PanfrostHistory()
    // Drop the 5.15 backport's blob from the object store, as a partial clone lacks it.
    let id = try repo.tree.git("rev-parse", "v5.15.56:\(PanfrostHistory.panfrost)").trimmingCharacters(
      in: .newlines)
    try FileManager.default.removeItem(
      atPath: "\(repo.tree.root)/.git/objects/\(id.prefix(2))/\(id.dropFirst(2))")
    // And a tag that names a tree, not a commit, and a tag whose commit is gone (the
    // for-each-ref listing must survive it).
    try repo.tree.git("tag", "v5.19.1", "v5.19^{tree}")
    let gone = try repo.tree.git("rev-parse", "v5.18.12^{commit}").trimmingCharacters(in: .newlines)
    try FileManager.default.removeItem(
      atPath: "\(repo.tree.root)/.git/objects/\(gone.prefix(2))/\(gone.dropFirst(2))")
    let h = try repo.history()
    let runs = try Self.runs(h, "5.15.y", "madvise-list-move")
    #expect(runs.map(\.0) == [.before, .unknown, .before, .unknown])
    let g = try #require(h.groups.firstIndex { $0.name == "5.15.y" })
    let p = try #require(h.patchIndex("madvise-list-move"))
    let unknown = h.scans[h.runs(group: g, patch: p)[1].scan]
    #expect(unknown.notes.contains { $0.contains("is missing from the repository") })
    // The 5.4 backport is the same blob; 5.18 lost its first commit; the other tags are read
    // as before, and the tree tag is a point with its problem.
    #expect(try Self.runs(h, "5.4.y", "madvise-list-move").map(\.0) == [.before, .unknown])
    #expect(try Self.runs(h, "5.18.y", "madvise-list-move").map(\.0) == [.unknown, .after])
    let goneTag = try #require(h.groups.flatMap(\.points).first { $0.name == "v5.18.12" })
    #expect(
      goneTag.problem == "the object it names, \(gone.prefix(12)), is missing from the repository (a shallow clone?)")
    let treeTag = try #require(h.groups.flatMap(\.points).first { $0.name == "v5.19.1" })
    #expect(treeTag.problem == "names a tree")
    #expect(try Self.runs(h, "5.19.y", "madvise-list-move").map(\.0) == [.after, .unknown])
  }
}

@Suite("History as CVE version ranges")
struct CVERangeTests {
  static func record() throws -> PublishedCVE {
    let path = packageRoot + "/fixtures/cve/CVE-2022-49645.json"
    return try PublishedCVE(json: try String(contentsOfFile: path, encoding: .utf8), source: path)
  }

  @Test("the ranges are the kernel CNA's shape, one item per run where the code turns more than once")
  func ranges() throws {
    let h = try PanfrostHistory().history()
    let (affected, notes) = CVERanges.affected(h, patch: try #require(h.patchIndex("madvise-list-move")), repo: nil)
    #expect(affected.defaultStatus == "affected")
    #expect(
      affected.versions == [
        CVEVersion(version: "5.4", status: "affected"),
        CVEVersion(version: "0", lessThan: "5.4", status: "unaffected", versionType: "semver"),
        CVEVersion(version: "5.4.207", lessThanOrEqual: "5.4.*", status: "unaffected", versionType: "semver"),
        CVEVersion(version: "5.15.56", lessThan: "5.15.57", status: "unaffected", versionType: "semver"),
        CVEVersion(version: "5.15.58", lessThanOrEqual: "5.15.*", status: "unaffected", versionType: "semver"),
        CVEVersion(version: "5.18.13", lessThanOrEqual: "5.18.*", status: "unaffected", versionType: "semver"),
        CVEVersion(version: "5.19", lessThanOrEqual: "*", status: "unaffected", versionType: "original_commit_for_fix"),
      ])
    #expect(notes.contains { $0.hasPrefix("5.15.y: the status changes 3 times") })
  }

  @Test("read back by the schema's rule, the ranges give every tag the status its code does")
  func rangesAreExact() throws {
    let h = try PanfrostHistory().history()
    for slug in h.patches {
      let p = try #require(h.patchIndex(slug))
      let (affected, _) = CVERanges.affected(h, patch: p, repo: nil)
      for group in h.groups where group.kind == .branch {
        for point in group.points {
          let code = CVERanges.status(h.scans[point.scans[p]].state)
          #expect(affected.status(of: try #require(point.version)).status == code, "\(slug) \(point.name)")
        }
      }
    }
  }

  @Test(
    "the published record's rule, as the reference ran it",
    arguments: [
      ("5.4", "affected"), ("5.4.206", "affected"), ("5.10.131", "affected"), ("5.16.20", "affected"),
      ("5.18.12", "affected"), ("4.19.300", "unaffected"), ("5.3", "unaffected"), ("5.4.207", "unaffected"),
      ("5.10.132", "unaffected"), ("5.18.13", "unaffected"), ("5.19", "unaffected"), ("6.1.100", "unaffected"),
    ])
  func publishedRule(_ version: String, _ status: String) throws {
    let entry = try #require(try Self.record().numbered)
    #expect(entry.status(of: try #require(KernelVersion(tag: version))).status == status)
  }

  @Test("the record against the code: the one tag where they disagree is printed, with the deciding line")
  func comparison() throws {
    let h = try PanfrostHistory().history()
    let record = try Self.record()
    #expect(record.id == "CVE-2022-49645")
    let c = try CVEComparison(record, history: h)
    #expect(c.patch == "madvise-list-move")
    #expect(c.disagreements.count == 1)
    let d = try #require(c.disagreements.first)
    #expect(d.group == "5.15.y")
    #expect(d.from == "v5.15.57")
    #expect(d.published == "unaffected")
    #expect(d.code == "affected")
    #expect(d.by == "5.15.56 <= v <= 5.15.*, semver")
    #expect(d.evidence.contains("list_add_tail(&bo->base.madv_list,"))
    #expect(c.agree == 12)
    #expect(c.notInHistory == ["5.10.y"])
    #expect(
      c.text.contains(
        "  5.15.y: v5.15.57: the record says unaffected (5.15.56 <= v <= 5.15.*, semver), the code says affected (before: drivers/gpu/drm/panfrost/panfrost_drv.c:425: list_add_tail(&bo->base.madv_list,)"
      ))
  }

  @Test("a record that is not one, or names no modelled patch, is one clear error")
  func badRecords() throws {
    #expect(throws: HistoryError("x.json: not a CVE record (no containers.cna)")) {
      try PublishedCVE(json: "{\"a\": 1}", source: "x.json")
    }
    #expect(throws: HistoryError.self) { try PublishedCVE(json: "{", source: "x.json") }
    let h = try PanfrostHistory().history(["v5.15.*"])
    let other = try PublishedCVE(
      json: """
        {"containers": {"cna": {"affected": [{"defaultStatus": "affected", "versions": [{"version": "5.4", "status": "affected"}]}],
         "references": [{"url": "https://git.kernel.org/stable/c/0123456789abcdef0123456789abcdef01234567"}]}}}
        """, source: "y.json")
    #expect(throws: HistoryError("y.json: names no commit of a modelled patch (0123456789ab); give --cve-patch SLUG")) {
      try CVEComparison(other, history: h)
    }
  }
}
