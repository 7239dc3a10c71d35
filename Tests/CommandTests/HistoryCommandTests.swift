import Foundation
import PackageTestSupport
import Testing

/// `bo-repro history`: a repository's tags, as text, JSON and CVE ranges, and its bad input.
@Suite("bo-repro history", .serialized)
struct HistoryCommandTests {
  @Test("text: per branch and patch the runs of one state, with tag, commit, deciding line and behaviour")
  func text() throws {
    let repo = try PanfrostHistory()
    let r = try runTool(["history", "--git", repo.tree.root])
    #expect(r.status == 0, "\(r.err)")
    #expect(r.out.hasPrefix("history: \(repo.tree.root): 13 point(s) in 6 group(s); read 13 commits, "))
    #expect(r.out.contains("\n5.15.y: v5.15 .. v5.15.58 (5 points)\n"))
    #expect(
      r.out.contains(
        "\n  madvise-list-move: before in v5.15 .. v5.15.55, after in v5.15.56, before again in v5.15.57, after again from v5.15.58\n"
      ))
    let commit = try repo.tree.git("rev-parse", "v5.15.57^{commit}").prefix(12)
    #expect(
      r.out.contains(
        "\n    before    from v5.15.57 (\(commit)): drivers/gpu/drm/panfrost/panfrost_drv.c:425: list_add_tail(&bo->base.madv_list,\n              behaviour: bug reproduces: "
      ))
    #expect(r.out.contains("\n  shmem-backup-v14: absent in all 5 points (v5.15 .. v5.15.58)\n"))
  }

  @Test("json: the same runs, and --compare adds the record's disagreements")
  func json() throws {
    let repo = try PanfrostHistory()
    let r = try runTool([
      "history", "--git", repo.tree.root, "v5.15*", "--format", "json", "--compare",
      packageRoot + "/fixtures/cve/CVE-2022-49645.json",
    ])
    #expect(r.status == 0, "\(r.err)")
    let root = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    #expect(root["command"] as? String == "history")
    let groups = try #require(root["groups"] as? [[String: Any]])
    #expect(groups.map { $0["name"] as? String } == ["5.15.y"])
    let patches = try #require(groups[0]["patches"] as? [[String: Any]])
    let madvise = try #require(patches.first { $0["patch"] as? String == "madvise-list-move" })
    let changes = try #require(madvise["changes"] as? [[String: Any]])
    #expect(changes.map { $0["state"] as? String } == ["before", "after", "before", "after"])
    #expect(changes.map { $0["from"] as? String } == ["v5.15", "v5.15.56", "v5.15.57", "v5.15.58"])
    #expect(changes.allSatisfy { ($0["commit"] as? String)?.count == 40 })
    let comparisons = try #require(root["comparisons"] as? [[String: Any]])
    let d = try #require((comparisons.first?["disagreements"] as? [[String: Any]])?.first)
    #expect(d["from"] as? String == "v5.15.57" && d["published"] as? String == "unaffected")
  }

  @Test("cve: each fix's affected versions in the CNA's shape, the features left out")
  func cve() throws {
    let repo = try PanfrostHistory()
    let r = try runTool(["history", "--git", repo.tree.root, "--format", "cve"])
    #expect(r.status == 0, "\(r.err)")
    let root = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    #expect(root["features"] as? [String] == ["shmem-backup-v14", "zero-copy-insert-folio"])
    let records = try #require(root["records"] as? [[String: Any]])
    let madvise = try #require(records.first { $0["patch"] as? String == "madvise-list-move" })
    #expect(madvise["fixes"] as? String == "9fc33eaaa979d112d10fea729edcd2a2e21aa912")
    let affected = try #require((madvise["affected"] as? [[String: Any]])?.first)
    #expect(affected["defaultStatus"] as? String == "affected")
    let versions = try #require(affected["versions"] as? [[String: String]])
    #expect(versions.first == ["version": "5.4", "status": "affected"])
    #expect(
      versions.last == [
        "version": "5.19", "lessThanOrEqual": "*", "status": "unaffected", "versionType": "original_commit_for_fix",
      ])
    // A fix no tag lacks has no list, only its default.
    let gfp = try #require(records.first { $0["patch"] as? String == "gfp-retry-mayfail-readback" })
    let gfpAffected = try #require((gfp["affected"] as? [[String: Any]])?.first)
    #expect(gfpAffected["defaultStatus"] as? String == "unaffected" && gfpAffected["versions"] == nil)
  }

  @Test(
    "bad input: one line on stderr, exit 1 (64 for usage)",
    arguments: [
      (["history"], 64, "bo-repro: history needs a repository: 'history --git REPO [REF-RANGE...]'"),
      (["history", "--git", "/nonexistent-bo-repro"], 1, "bo-repro: /nonexistent-bo-repro: no such directory"),
      (["history", "--git", "@REPO@", "v9.*"], 1, "bo-repro: 'v9.*': matches no tag"),
      (["history", "--git", "@REPO@", "no-such-ref"], 1, "bo-repro: @REPO@: no commit 'no-such-ref'"),
      (
        ["history", "--git", "@REPO@", "--compare", "/nonexistent.json"], 1,
        "bo-repro: /nonexistent.json: cannot be read"
      ),
      (["history", "--git", "@REPO@", "--cve-patch", "x"], 64, "bo-repro: --cve-patch names the patch"),
    ])
  func badInput(_ arguments: [String], _ status: Int32, _ message: String) throws {
    let repo = try PanfrostHistory()
    let r = try runTool(arguments.map { $0 == "@REPO@" ? repo.tree.root : $0 })
    let expected = message.replacingOccurrences(of: "@REPO@", with: repo.tree.root)
    #expect(r.status == status)
    #expect(r.err.hasPrefix(expected), "\(r.err)")
    #expect(r.err.split(separator: "\n").count == 1, "\(r.err)")
  }

  @Test("a record that is not JSON is one line")
  func badRecord() throws {
    let repo = try PanfrostHistory()
    let file = try TemporaryTree()
    try file.write("bad.json", "{\"containers\": ")
    let r = try runTool(["history", "--git", repo.tree.root, "--compare", file.root + "/bad.json"])
    #expect(r.status == 1)
    #expect(r.err.hasPrefix("bo-repro: \(file.root)/bad.json: not JSON ("), "\(r.err)")
    #expect(r.err.split(separator: "\n").count == 1)
  }
}
