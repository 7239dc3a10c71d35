import Foundation
import PackageTestSupport
import Testing

@testable import PatchText

/// The git side of `history`: tags from one for-each-ref, ranges from one rev-list, and the
/// paths' blob ids per commit from pipelined cat-file questions, checked against git's own
/// `ls-tree`.
@Suite("Git history reader")
struct GitHistoryTests {
  let paths = [
    "Makefile", "drivers/gpu/drm/ttm/ttm_pool.c", "drivers/gpu/drm/ttm/ttm_backup.c", "include/drm/ttm/ttm_backup.h",
  ]

  /// What `git ls-tree` says `path` is at `ref`: its blob id, or nil when it is not there.
  func lsTree(_ tree: TemporaryTree, _ ref: String, _ path: String) throws -> (mode: String, id: String)? {
    let line = try tree.git("ls-tree", ref, "--", path).trimmingCharacters(in: .newlines)
    guard !line.isEmpty else { return nil }
    let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
    return (String(f[0]), String(f[2]))
  }

  @Test("blob ids agree with git ls-tree at every commit; a subtree already seen is not parsed again")
  func agreesWithLsTree() throws {
    let tree = try TemporaryTree()
    try tree.write("Makefile", TemporaryTree.makefile("7.0"))
    try tree.write(paths[1], try requireKernelFile("ttm_pool.c", "278bbe7a11ad"))
    try tree.write(paths[2], try requireKernelFile("ttm_backup.c", "6bd4c123d94c"))
    try tree.commit(tag: "v7.0")
    // Only the Makefile changes: the ttm directory is the same tree.
    try tree.write("Makefile", TemporaryTree.makefile("7.0.1"))
    try tree.commit(tag: "v7.0.1")
    // The header appears, ttm_backup.c goes, ttm_pool.c becomes a symbolic link.
    try tree.write(paths[3], try requireKernelFile("ttm_backup.h", "c33cba111171"))
    try tree.delete(paths[2])
    try tree.delete(paths[1])
    try FileManager.default.createSymbolicLink(
      atPath: tree.root + "/" + paths[1], withDestinationPath: "../../../../Makefile")
    try tree.commit(tag: "v7.0.2")
    let git = try GitRepository(path: tree.root)
    let tags = try git.tags()
    #expect(tags.map(\.name).sorted() == ["v7.0", "v7.0.1", "v7.0.2"])
    let reader = GitPathReader(repository: git, paths: paths)
    let commits = try ["v7.0", "v7.0.1", "v7.0.2"].map { try git.commit($0) }
    let before = git.objectsRead
    let all = try reader.identities(commits: commits)
    for (ref, identities) in zip(["v7.0", "v7.0.1", "v7.0.2"], all) {
      for path in paths {
        let expected: FileIdentity =
          switch try lsTree(tree, ref, path) {
          case nil: .missing
          case (let mode, let id)? where mode == "120000":
            .unreadable(blob: id, reason: "a symbolic link in the repository")
          case (_, let id)?: .blob(id)
          }
        #expect(identities[path] == expected, "\(ref) \(path)")
      }
    }
    // Tree parses: the root (3 distinct) and ttm (2: with and without ttm_backup.c) and
    // include/drm/ttm (1); the unchanged ttm directory of v7.0.1 is not parsed again.
    #expect(reader.treesRead == 3 + 2 + 1)
    #expect(reader.commitsRead == 3)
    // One question per commit and per directory, all through the one process.
    #expect(git.objectsRead - before == 3 * (1 + 3))
  }

  @Test("a range is its commits oldest first; a missing commit makes every path unreadable")
  func rangesAndMissing() throws {
    let tree = try TemporaryTree()
    for v in ["6.1", "6.1.1", "6.1.2"] {
      try tree.write("Makefile", TemporaryTree.makefile(v))
      try tree.commit(tag: "v\(v)")
    }
    let git = try GitRepository(path: tree.root)
    let range = try git.commits(inRange: "v6.1..v6.1.2")
    #expect(range == [try git.commit("v6.1.1"), try git.commit("v6.1.2")])
    #expect(throws: GitRepository.Error.self) { try git.commits(inRange: "v6.1..nonexistent") }
    #expect(throws: GitRepository.Error.self) { try git.commits(inRange: "--all") }
    let reader = GitPathReader(repository: git, paths: paths)
    let missing = String(repeating: "0", count: 40)
    let got = try reader.identities(commits: [missing, try git.commit("v6.1")])
    #expect(
      got[0][paths[1]]
        == .unreadable(blob: nil, reason: "the commit 000000000000 is missing from the repository (a shallow clone?)"))
    #expect(
      GitPathReader.commitProblem(got[0]) == "the commit 000000000000 is missing from the repository (a shallow clone?)"
    )
    #expect(GitPathReader.commitProblem(got[1]) == nil)
    #expect(got[1][paths[1]] == .missing)
    #expect(got[1]["Makefile"] != nil && got[1]["Makefile"] != .missing)
  }

  @Test("tree entries are read by bytes, names matched exactly")
  func treeEntries() {
    var data = Data()
    for (mode, name, byte) in [
      ("100644", "Makefile", UInt8(1)), ("40000", "drivers", 2), ("100644", "Makefile.orig", 3),
    ] {
      data.append(contentsOf: Array("\(mode) \(name)".utf8) + [0] + [UInt8](repeating: byte, count: 20))
    }
    let found = GitPathReader.entries(data, hashBytes: 20, named: ["Makefile", "drivers"])
    #expect(found.map(\.name) == ["Makefile", "drivers"])
    #expect(found.map(\.mode) == ["100644", "40000"])
    #expect(found[0].id == String(repeating: "01", count: 20))
  }
}
