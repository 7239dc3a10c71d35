import Foundation
import PackageTestSupport
import Testing

/// `--format kcidb` from the command line: `matrix` and `scan` print KCIDB v5.3 JSON.
@Suite("bo-repro matrix and scan --format kcidb", .serialized)
struct KCIDBCommandTests {
  func document(_ out: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
  }

  @Test("matrix --format kcidb --branch 6.18.y: version 5.3, one checkout and build, a test per scenario")
  func matrix() throws {
    let r = try runTool(
      ["matrix", "--format", "kcidb", "--branch", "6.18.y"], environment: ["SOURCE_DATE_EPOCH": "1767225600"])
    #expect(r.status == 0, "\(r.err)")
    let root = try document(r.out)
    #expect(root["version"] as? [String: Int] == ["major": 5, "minor": 3])
    #expect(Set(root.keys) == ["version", "checkouts", "builds", "tests"])
    let checkouts = try #require(root["checkouts"] as? [[String: Any]])
    #expect(checkouts.count == 1 && checkouts[0]["git_repository_branch"] as? String == "linux-6.18.y")
    #expect(checkouts[0]["start_time"] as? String == "2026-01-01T00:00:00+00:00")
    #expect((root["builds"] as? [[String: Any]])?.count == 1)
    let tests = try #require(root["tests"] as? [[String: Any]])
    let scenarios = scenarioFileNames()
    #expect(tests.count == scenarios.count)
    #expect(
      tests.allSatisfy {
        ($0["path"] as? String)?.hasPrefix("bo_repro.") == true && $0["origin"] as? String == "bo_repro"
      })
    #expect(!r.out.contains(": null"))
    let gfp = tests.first {
      $0["path"] as? String == "bo_repro.gfp-retry-mayfail-readback.gfp-retry-mayfail-readback--readback-under-pressure"
    }
    #expect(gfp?["status"] as? String == "FAIL")
    // The same input and SOURCE_DATE_EPOCH: the same bytes.
    let again = try runTool(
      ["matrix", "--format", "kcidb", "--branch", "6.18.y"], environment: ["SOURCE_DATE_EPOCH": "1767225600"])
    #expect(again.out == r.out)
  }

  @Test("matrix --git --format kcidb: each row's checkout is the scanned tree, ids unique")
  func matrixGit() throws {
    let repo = try TemporaryTree()
    try repo.write("Makefile", TemporaryTree.makefile("7.1.6"))
    try repo.write("drivers/gpu/drm/ttm/ttm_pool.c", try requireKernelFile("ttm_pool.c", "d380a3c7fe40"))
    try repo.commit(tag: "v7.1.6")
    let commit = try repo.git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
    let r = try runTool([
      "matrix", "--git", repo.root, "--ref", "7.1.y=v7.1.6", "--ref", "again=v7.1.6", "--format", "kcidb",
    ])
    #expect(r.status == 0, "\(r.err)")
    let checkouts = try #require(try document(r.out)["checkouts"] as? [[String: Any]])
    #expect(
      checkouts.map { $0["id"] as? String } == [
        "bo_repro:checkout:\(repo.root)@v7.1.6", "bo_repro:checkout:\(repo.root)@v7.1.6#2",
      ])
    #expect(
      checkouts.allSatisfy { $0["git_commit_hash"] as? String == commit && $0["git_commit_name"] as? String == "7.1.6" }
    )
    // A local repository is no https URL, and a release tag is no branch.
    #expect(checkouts.allSatisfy { $0["git_repository_url"] == nil && $0["git_repository_branch"] == nil })
  }

  @Test("matrix --compare has no kcidb format: a usage error")
  func compare() throws {
    let r = try runTool(["matrix", "--format", "kcidb", "--compare", "/nonexistent.json"])
    #expect(r.status == 64 && r.out.isEmpty)
    #expect(
      r.err
        == "bo-repro: --compare has no --format kcidb: KCIDB holds results, not changes (markdown, json or csv)\n")
  }

  @Test("scan DIR --format kcidb: a checkout with the version, a test per patch")
  func scan() throws {
    let tree = try TemporaryTree()
    try tree.write("Makefile", TemporaryTree.makefile("7.1.6"))
    try tree.write("drivers/gpu/drm/ttm/ttm_pool.c", try requireKernelFile("ttm_pool.c", "d380a3c7fe40"))
    let r = try runTool(["scan", tree.root, "--format", "kcidb"])
    #expect(r.status == 0, "\(r.err)")
    let root = try document(r.out)
    #expect(root["version"] as? [String: Int] == ["major": 5, "minor": 3])
    let checkout = try #require((root["checkouts"] as? [[String: Any]])?.first)
    #expect(
      checkout["id"] as? String == "bo_repro:checkout:\(tree.root)" && checkout["git_commit_name"] as? String == "7.1.6"
    )
    #expect(checkout["git_repository_url"] == nil)
    let tests = try #require(root["tests"] as? [[String: Any]])
    #expect(tests.count == patchFileNames().count)
    let drop = tests.first { $0["path"] as? String == "bo_repro.drop-restore-after-restore.scan" }
    #expect(drop?["status"] as? String == "PASS")
    let madvise = tests.first { $0["path"] as? String == "bo_repro.madvise-list-move.scan" }
    #expect(madvise?["status"] as? String == "SKIP")
  }
}
