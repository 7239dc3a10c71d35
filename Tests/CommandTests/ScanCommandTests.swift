import Foundation
import PackageTestSupport
import Testing

/// `bo-repro scan` and `bo-repro matrix --git`: real trees, from a directory or git.
@Suite("bo-repro scan and matrix --git", .serialized)
struct ScanCommandTests {
  let ttmPool = "drivers/gpu/drm/ttm/ttm_pool.c"
  let ttmBackupC = "drivers/gpu/drm/ttm/ttm_backup.c"
  let ttmBackupH = "include/drm/ttm/ttm_backup.h"
  let ttmMakefile = "drivers/gpu/drm/ttm/Makefile"

  /// A repository with a 7.0-like tag (the backup code without the gfp fix) and a 7.1-like
  /// one (with it, and with "Drop tt->restore").
  func repository() throws -> TemporaryTree {
    let tree = try TemporaryTree()
    try tree.write("Makefile", TemporaryTree.makefile("7.0.9"))
    try tree.write(ttmMakefile, try requireKernelFile("Makefile", "40d07a35293a"))
    try tree.write(ttmBackupC, try requireKernelFile("ttm_backup.c", "6bd4c123d94c"))
    try tree.write(ttmBackupH, try requireKernelFile("ttm_backup.h", "c33cba111171"))
    try tree.write(ttmPool, try requireKernelFile("ttm_pool.c", "278bbe7a11ad"))
    try tree.commit(tag: "v7.0.9")
    try tree.write("Makefile", TemporaryTree.makefile("7.1.6"))
    try tree.write(ttmBackupC, try requireKernelFile("ttm_backup.c", "81df4cb5606b"))
    try tree.write(ttmBackupH, try requireKernelFile("ttm_backup.h", "29b9c855af77"))
    try tree.write(ttmPool, try requireKernelFile("ttm_pool.c", "d380a3c7fe40"))
    try tree.commit(tag: "v7.1.6")
    return tree
  }

  @Test("scan DIR: a state per patch with evidence, text and JSON")
  func directory() throws {
    let tree = try TemporaryTree()
    try tree.write("Makefile", TemporaryTree.makefile("7.1.6"))
    try tree.write(ttmPool, try requireKernelFile("ttm_pool.c", "d380a3c7fe40"))
    let text = try runTool(["scan", tree.root])
    #expect(text.status == 0, "\(text.err)")
    #expect(text.out.hasPrefix("scan: \(tree.root) (Makefile: 7.1.6, branch 7.1.y)\n"))
    #expect(text.out.contains("\n  drop-restore-after-restore  after     (exact: blob ids)\n"))
    #expect(text.out.contains("\n  madvise-list-move           absent   \n"))
    let json = try runTool(["scan", tree.root, "--format", "json"])
    let root = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
    #expect(root["schema"] as? Int == 1 && root["command"] as? String == "scan")
    let treeInfo = try #require(root["tree"] as? [String: Any])
    #expect(treeInfo["path"] as? String == tree.root && treeInfo["version"] as? String == "7.1.6")
    #expect(treeInfo["repo"] is NSNull && treeInfo["commit"] is NSNull)
    let patches = try #require(root["patches"] as? [[String: Any]])
    let drop = try #require(patches.first { $0["patch"] as? String == "drop-restore-after-restore" })
    #expect(drop["state"] as? String == "after" && drop["exact"] as? Bool == true)
    let file = try #require((drop["files"] as? [[String: Any]])?.first)
    #expect((file["blob"] as? String)?.hasPrefix("d380a3c7fe40") == true)
    let hunk = try #require((file["hunks"] as? [[String: Any]])?.first)
    #expect(hunk["header"] as? String == "@@ -902,6 +902,7 @@" && hunk["state"] as? String == "applied")
    #expect(Set(hunk.keys) == ["header", "section", "state", "line", "evidence", "fullImage"])
  }

  @Test("scan --git REPO REF...: every ref through one repository, JSON with one tree each")
  func git() throws {
    let repo = try repository()
    let r = try runTool(["scan", "--git", repo.root, "v7.0.9", "v7.1.6", "--format", "json"])
    #expect(r.status == 0, "\(r.err)")
    let root = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    let trees = try #require(root["trees"] as? [[String: Any]])
    #expect(trees.compactMap { ($0["tree"] as? [String: Any])?["ref"] as? String } == ["v7.0.9", "v7.1.6"])
    func state(_ i: Int, _ slug: String) -> String? {
      (trees[i]["patches"] as? [[String: Any]])?.first { $0["patch"] as? String == slug }?["state"] as? String
    }
    // 7.0.9 here is the caller half of the gfp fix (its ttm_pool.c has it), so partial.
    #expect(state(0, "gfp-retry-mayfail-readback") == "partial")
    #expect(state(1, "gfp-retry-mayfail-readback") == "after")
    #expect(state(0, "drop-restore-after-restore") == "before" && state(1, "drop-restore-after-restore") == "after")
    #expect(state(0, "shmem-backup-v14") == "adapted")
  }

  /// The matrix from git: each row's states are the scan's, each verdict is from running them.
  @Test("matrix --git: rows derived from the code, with the scan's states")
  func matrix() throws {
    let repo = try repository()
    let r = try runTool(["matrix", "--git", repo.root, "--ref", "old=v7.0.9", "--ref", "v7.1.6", "--format", "json"])
    #expect(r.status == 0, "\(r.err)")
    let root = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    let rows = try #require(root["branches"] as? [[String: Any]])
    #expect(rows.map { $0["name"] as? String } == ["old", "v7.1.6"])
    func cell(_ row: Int, _ slug: String) throws -> [String: Any] {
      try #require((rows[row]["cells"] as? [[String: Any]])?.first { $0["patch"] as? String == slug })
    }
    #expect(try cell(0, "gfp-retry-mayfail-readback")["state"] as? String == "partial")
    #expect((try cell(0, "gfp-retry-mayfail-readback")["verdict"] as? String)?.hasPrefix("not run: partial: ") == true)
    #expect(
      try cell(0, "drop-restore-after-restore")["verdict"] as? String == "bug reproduces: stale tt->restore, leaked")
    #expect((try cell(1, "drop-restore-after-restore")["verdict"] as? String)?.hasPrefix("fixed: ") == true)
    #expect(try cell(1, "madvise-list-move")["state"] as? String == "absent")
    #expect(try cell(1, "madvise-list-move")["verdict"] as? String == "n/a")
    #expect(
      rows.allSatisfy { ($0["cells"] as? [[String: Any]])?.allSatisfy { $0["source"] as? String == "scan" } == true })
    #expect((rows[1]["status"] as? String)?.hasPrefix("scanned 7.1.6 @") == true)
    let md = try runTool(["matrix", "--git", repo.root, "--ref", "7.1.y=v7.1.6"])
    #expect(md.out.contains("\n| 7.1.y | scanned 7.1.6 @"))
    #expect(md.out.contains("State from scans of the code in \(repo.root): "))
  }

  @Test(
    "bad trees and repositories: one line, exit 1",
    arguments: [
      (["scan", "/nonexistent"], "bo-repro: /nonexistent: no such directory"),
      (["scan", "/etc/hostname"], "bo-repro: /etc/hostname: not a directory (give a kernel tree)"),
      (["scan", "--git", "/nonexistent", "v1"], "bo-repro: /nonexistent: no such directory"),
    ] as [([String], String)])
  func badInput(_ args: [String], _ message: String) throws {
    let r = try runTool(args)
    #expect(r.status == 1)
    #expect(r.err == message + "\n")
    #expect(r.out.isEmpty)
  }

  @Test("git errors: not a repository, no such ref, not a commit, git missing")
  func gitErrors() throws {
    let plain = try TemporaryTree()
    let notRepo = try runTool(["scan", "--git", plain.root, "v1"])
    #expect(notRepo.status == 1 && notRepo.err.hasPrefix("bo-repro: \(plain.root): not a git repository"))
    let repo = try repository()
    let noRef = try runTool(["scan", "--git", repo.root, "v9.9"])
    #expect(noRef.status == 1)
    #expect(
      noRef.err == "bo-repro: \(repo.root): no commit 'v9.9' (not a tag, branch or commit of this repository)\n")
    let blob = try runTool(["matrix", "--git", repo.root, "--ref", "x=v7.1.6:Makefile"])
    #expect(blob.status == 1 && blob.err == "bo-repro: \(repo.root): 'v7.1.6:Makefile' is a blob, not a commit\n")
    let noGit = try runTool(["scan", "--git", repo.root, "v7.1.6"], environment: ["PATH": "/nonexistent"])
    #expect(noGit.status == 1)
    #expect(noGit.err == "bo-repro: git: command not found (scanning a repository needs git on PATH)\n")
    #expect(try runTool(["scan"]).status == 64)
    #expect(try runTool(["matrix", "--ref", "a=b"]).err == "bo-repro: --ref needs --git REPO\n")
  }
}

/// `bo-repro record`: the branch data regenerated from a repository.
@Suite("bo-repro record", .serialized)
struct RecordCommandTests {
  @Test("record writes the scanned states and a recorded block, and the result loads")
  func record() throws {
    let tree = try TemporaryTree()
    try tree.write("Makefile", TemporaryTree.makefile("7.1.6"))
    try tree.write("drivers/gpu/drm/ttm/ttm_pool.c", try requireKernelFile("ttm_pool.c", "d380a3c7fe40"))
    try tree.write("drivers/gpu/drm/ttm/Makefile", try requireKernelFile("Makefile", "40d07a35293a"))
    try tree.write("drivers/gpu/drm/ttm/ttm_backup.c", try requireKernelFile("ttm_backup.c", "81df4cb5606b"))
    try tree.write("include/drm/ttm/ttm_backup.h", try requireKernelFile("ttm_backup.h", "29b9c855af77"))
    try tree.commit(tag: "v7.1.6")
    let out = NSTemporaryDirectory() + "bo-repro-record-\(UInt32.random(in: 0...UInt32.max)).json"
    defer { try? FileManager.default.removeItem(atPath: out) }
    let r = try runTool(["record", "--git", tree.root, "--ref", "7.1.y=v7.1.6", "--output", out])
    #expect(r.status == 0 && r.err.isEmpty, "\(r.err)")
    let root = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
    let branches = try #require(root["branches"] as? [[String: Any]])
    let b = try #require(branches.first { $0["name"] as? String == "7.1.y" })
    let recorded = try #require(b["recorded"] as? [String: Any])
    #expect(recorded["at"] as? String == "7.1.6")
    #expect((recorded["states"] as? [String: String])?["drop-restore-after-restore"] == "after")
    let files = try #require(recorded["files"] as? [[String: String]])
    #expect(
      files.contains { $0["path"] == "drivers/gpu/drm/ttm/ttm_pool.c" && $0["blob"]?.hasPrefix("d380a3c7fe40") == true }
    )
    let patch = try #require((b["patches"] as? [String: [String: String]])?["drop-restore-after-restore"])
    #expect(patch["state"] == "after" && patch["evidence"]?.hasPrefix("scanned at \(tree.root)@v7.1.6 (") == true)
    #expect(patch["source"] == "scan")
    // Other branches keep their hand-kept facts.
    #expect(branches.count == 14 && (branches.first { $0["name"] as? String == "6.12.y" })?["recorded"] != nil)
    // The recorded data drives the matrix.
    let m = try runTool(["matrix", "--branches", out, "--branch", "7.1.y", "--format", "csv"])
    #expect(
      m.out.contains("\n7.1.y,stable (UNVERIFIED),drop-restore-after-restore,after,verified,,fixed: "), "\(m.out)")
  }
}
