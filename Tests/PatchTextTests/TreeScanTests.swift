import Foundation
import PackageTestSupport
import Testing

@testable import PatchText

/// The tree scanner: which patches a tree carries, decided from the patch hunks and the
/// tree's code. Each tree is built here from `fixtures/kernel-files` and from variants the
/// tests write (context changed, whitespace changed, one half of a two-file patch, a renamed
/// function, a missing file, CRLF, a large file, a binary file), and each state is asserted
/// with its evidence line.
@Suite("Tree scanner")
struct TreeScanTests {
  static let patches = Result { try PatchSet(directory: patchesDirectory).patches }

  let ttmPool = "drivers/gpu/drm/ttm/ttm_pool.c"
  let ttmBackupC = "drivers/gpu/drm/ttm/ttm_backup.c"
  let ttmBackupH = "include/drm/ttm/ttm_backup.h"
  let ttmMakefile = "drivers/gpu/drm/ttm/Makefile"

  func scan(_ tree: TemporaryTree) throws -> TreeScan {
    try TreeScanner(patches: try Self.patches.get()).scan(try DirectorySource(root: tree.root))
  }

  func patch(_ slug: String) throws -> PatchFile {
    try #require(try Self.patches.get().first { $0.slug == slug })
  }

  /// `text` with the post-image of every hunk of `diff` replaced by its pre-image: the file
  /// as it was before the patch, where the post-image is there verbatim.
  func unapply(_ diff: FileDiff, _ text: String) throws -> String {
    var out = text
    for hunk in diff.hunks {
      let post = hunk.lines.filter { $0.kind != .removed && $0.kind != .noNewlineMarker }.map(\.text)
      let pre = hunk.lines.filter { $0.kind != .added && $0.kind != .noNewlineMarker }.map(\.text)
      let from = post.joined(separator: "\n") + "\n"
      try #require(out.contains(from), "post-image of \(hunk.header) in the file")
      out = out.replacingOccurrences(of: from, with: pre.joined(separator: "\n") + "\n")
    }
    return out
  }

  // MARK: Exact by blob id

  /// A file whose blob id is a patch's pre- or post-image decides exactly.
  @Test(
    "a pre- or post-image blob decides exactly",
    arguments: [
      ("drop-restore-after-restore", "278bbe7a11ad", "d380a3c7fe40"),
      ("null-handle-pages-backup", "3d5f2ae0a456", "ff043420d517"),
      ("zero-copy-insert-folio", "d380a3c7fe40", "8ea3a125c465"),
    ])
  func exact(_ slug: String, _ pre: String, _ post: String) throws {
    for (blob, state) in [(pre, ScanState.before), (post, .after)] {
      let tree = try TemporaryTree()
      try tree.write(ttmPool, try requireKernelFile("ttm_pool.c", blob))
      let p = try #require(try scan(tree).patch(slug))
      let file = try #require(p.files.first { $0.path == ttmPool })
      #expect(file.exact == state, "\(blob)")
      #expect(file.hunks.allSatisfy { $0.evidence.hasPrefix("\(ttmPool): blob \(blob) is the patch's ") })
      // Other files of the patch are missing from this tree, so the roll-up is the file's
      // state only where the patch touches nothing else.
      if p.files.count == 1 {
        #expect(p.state == state && p.exact)
      }
    }
  }

  // MARK: Hunk search

  /// The same text under another blob id (a trailing comment): every hunk is found by its
  /// whole image, and the state is the same, not exact.
  @Test(
    "another blob with the same hunks: found by the search, whole image",
    arguments: [
      ("drop-restore-after-restore", "278bbe7a11ad", ScanState.before),
      ("drop-restore-after-restore", "d380a3c7fe40", .after),
      ("null-handle-pages-backup", "3d5f2ae0a456", .before),
      ("null-handle-pages-backup", "ff043420d517", .after),
    ])
  func searched(_ slug: String, _ blob: String, _ state: ScanState) throws {
    let tree = try TemporaryTree()
    try tree.write(ttmPool, try requireKernelFile("ttm_pool.c", blob) + "/* a local change */\n")
    let p = try #require(try scan(tree).patch(slug))
    #expect(p.state == state)
    #expect(!p.exact)
    let hunks = p.files[0].hunks
    #expect(hunks.allSatisfy { $0.fullImage && $0.line != nil })
    #expect(hunks.allSatisfy { $0.state == (state == .after ? .applied : .notApplied) })
    // The evidence is the deciding line, cited from the tree's file.
    let text = try requireKernelFile("ttm_pool.c", blob).split(separator: "\n", omittingEmptySubsequences: false)
    for h in hunks {
      let line = try #require(h.line)
      let cited = text[line - 1].trimmingCharacters(in: .whitespaces)
      #expect(h.evidence == "\(ttmPool):\(line): \(cited)")
    }
  }

  /// The NULL/handle fix's first changed line is a removed `if (unlikely(!page))`: the
  /// evidence for "before" is that line, where it stands in the tree.
  @Test("the deciding line of a hunk that is not applied is its first removed line")
  func decidingLine() throws {
    let tree = try TemporaryTree()
    try tree.write(ttmPool, try requireKernelFile("ttm_pool.c", "3d5f2ae0a456") + "\n")
    let p = try #require(try scan(tree).patch("null-handle-pages-backup"))
    let first = try #require(p.files[0].hunks.first)
    #expect(first.state == .notApplied)
    #expect(first.evidence.hasSuffix(": if (unlikely(!page))") || first.evidence.contains(": /* Anything returned"))
  }

  /// Context changed: a backport whose context lines differ (here a comment line rewritten
  /// and a blank line added next to each hunk) is adapted, not after.
  @Test("context changed: adapted")
  func contextChanged() throws {
    let post = try requireKernelFile("ttm_pool.c", "d380a3c7fe40")
    let diff = try #require(try patch("drop-restore-after-restore").files.first)
    func backport(_ text: String) throws -> String {
      var out = text
      for hunk in diff.hunks {
        // The first long context line of each hunk gets other words, and a blank line.
        let context = try #require(hunk.lines.first { $0.kind == .context && $0.text.count > 12 }).text
        try #require(out.components(separatedBy: context + "\n").count == 2, "\(context) once")
        out = out.replacingOccurrences(of: context + "\n", with: context + " /* backport */\n\n")
      }
      return out
    }
    let tree = try TemporaryTree()
    try tree.write(ttmPool, try backport(post))
    let p = try #require(try scan(tree).patch("drop-restore-after-restore"))
    #expect(p.state == .adapted, "\(p.evidence) \(p.notes)")
    #expect(p.files[0].hunks.allSatisfy { $0.state == .applied && !$0.fullImage })
    // The same context before the patch: before, without the upstream context.
    let tree2 = try TemporaryTree()
    try tree2.write(ttmPool, try backport(try unapply(diff, post)))
    let b = try #require(try scan(tree2).patch("drop-restore-after-restore"))
    #expect(b.state == .before, "\(b.evidence) \(b.notes)")
    #expect(b.files[0].hunks.allSatisfy { $0.state == .notApplied && !$0.fullImage })
  }

  /// Whitespace changed: tabs to spaces, trailing blanks, CRLF line ends do not change the
  /// answer.
  @Test(
    "whitespace changed, CRLF: the same state",
    arguments: ["spaces", "crlf", "trailing"])
  func whitespace(_ kind: String) throws {
    for (blob, state) in [("d380a3c7fe40", ScanState.after), ("278bbe7a11ad", .before)] {
      let original = try requireKernelFile("ttm_pool.c", blob)
      let text =
        switch kind {
        case "spaces": original.replacingOccurrences(of: "\t", with: "        ")
        case "crlf": original.replacingOccurrences(of: "\n", with: "\r\n")
        default: original.replacingOccurrences(of: ";\n", with: ";  \n")
        }
      let tree = try TemporaryTree()
      try tree.write(ttmPool, text)
      let p = try #require(try scan(tree).patch("drop-restore-after-restore"))
      #expect(p.state == state, "\(kind) \(blob): \(p.evidence)")
      #expect(!p.exact)
    }
  }

  /// Only the callee half of c6135f67 (ttm_backup.c and .h patched, ttm_pool.c not): partial,
  /// and the tree will not build, because ttm_pool.c still calls the old signature.
  @Test("only the callee half of the gfp fix: partial, will not build")
  func calleeHalf() throws {
    let gfp = try patch("gfp-retry-mayfail-readback")
    let poolDiff = try #require(gfp.files.first { $0.path == ttmPool })
    let tree = try TemporaryTree()
    try tree.write(ttmBackupC, try requireKernelFile("ttm_backup.c", "81df4cb5606b"))
    try tree.write(ttmBackupH, try requireKernelFile("ttm_backup.h", "29b9c855af77"))
    try tree.write(ttmPool, try unapply(poolDiff, try requireKernelFile("ttm_pool.c", "278bbe7a11ad")))
    let p = try #require(try scan(tree).patch("gfp-retry-mayfail-readback"))
    #expect(p.state == .partial)
    #expect(p.notes.contains { $0.hasPrefix("applied: 2 hunk(s); not applied: ttm_pool.c @@ -530,6 +530,8 @@") })
    #expect(
      p.notes.contains(
        "ttm_pool.c still calls ttm_backup_copy_page() with 4 arguments, but ttm_backup.c now defines it with 5: will not build"
      ), "\(p.notes)")
  }

  /// And the caller half only: ttm_pool.c passes the new argument to a function that does not
  /// take it.
  @Test("only the caller half of the gfp fix: partial, will not build")
  func callerHalf() throws {
    let tree = try TemporaryTree()
    try tree.write(ttmBackupC, try requireKernelFile("ttm_backup.c", "6bd4c123d94c"))
    try tree.write(ttmBackupH, try requireKernelFile("ttm_backup.h", "c33cba111171"))
    try tree.write(ttmPool, try requireKernelFile("ttm_pool.c", "278bbe7a11ad"))
    let p = try #require(try scan(tree).patch("gfp-retry-mayfail-readback"))
    #expect(p.state == .partial)
    #expect(
      p.notes.contains(
        "ttm_pool.c calls ttm_backup_copy_page() with 5 arguments, but ttm_backup.c still defines it with 4: will not build"
      ), "\(p.notes)")
    #expect(
      p.notes.contains(
        "ttm_pool.c calls ttm_backup_copy_page() with 5 arguments, but ttm_backup.h still declares it with 4: will not build"
      ))
  }

  /// A renamed function: the hunks are still found wherever they are; the function the
  /// header names is only where the search starts.
  @Test("a renamed function: the hunks are still found")
  func renamedFunction() throws {
    let text = try requireKernelFile("ttm_pool.c", "d380a3c7fe40").replacingOccurrences(
      of: "int ttm_pool_restore_and_alloc(", with: "int ttm_pool_restore_and_allocate(")
    let tree = try TemporaryTree()
    try tree.write(ttmPool, text)
    #expect(try scan(tree).patch("drop-restore-after-restore")?.state == .after)
  }

  /// The code reworked: the function is there, but neither the patched nor the unpatched
  /// lines are. The evidence names the function and the closest line.
  @Test("reworked code: rewritten, with the function and the closest line")
  func rewritten() throws {
    let diff = try #require(try patch("null-handle-pages-backup").files.first)
    var text = try requireKernelFile("ttm_pool.c", "3d5f2ae0a456")
    for hunk in diff.hunks {
      for line in hunk.lines where line.kind == .removed && line.text.trimmingCharacters(in: .whitespaces).count > 3 {
        text = text.replacingOccurrences(of: line.text + "\n", with: "\t\t/* reworked */\n")
      }
    }
    let tree = try TemporaryTree()
    try tree.write(ttmPool, text)
    let p = try #require(try scan(tree).patch("null-handle-pages-backup"))
    #expect(p.state == .rewritten, "\(p.evidence)")
    let h = try #require(p.files[0].hunks.first)
    #expect(h.state == .notFound)
    #expect(h.evidence.contains("ttm_pool_backup() is at line "))
    #expect(h.evidence.contains("; closest: \(ttmPool):"))
  }

  /// The files or functions a patch changes are not in the tree: absent. The panfrost fix on
  /// a tree without panfrost; the gfp fix on a tree whose ttm_pool.c has no restore code.
  @Test("missing file or function: absent")
  func absent() throws {
    let tree = try TemporaryTree()
    try tree.write(ttmPool, "/* a ttm_pool.c from before the backup code */\nint ttm_pool_alloc(void)\n{\n}\n")
    let s = try scan(tree)
    #expect(s.patch("madvise-list-move")?.state == .absent)
    #expect(s.patch("madvise-list-move")?.evidence == ["drivers/gpu/drm/panfrost/panfrost_drv.c: not in the tree"])
    #expect(s.patch("gfp-retry-mayfail-readback")?.state == .absent)
    #expect(
      s.patch("drop-restore-after-restore")?.files[0].hunks.first?.evidence
        == "\(ttmPool): no ttm_pool_restore_and_alloc() in the file")
  }

  /// A patch that creates files: after when the file is the post-image, adapted when it
  /// defines the same functions in other words (the merged text of v14 differs from the
  /// posting), before when it is missing but the code around it is there (the ttm Makefile
  /// line), absent when nothing is.
  @Test("a patch that creates files: after, adapted, before, absent")
  func newFiles() throws {
    let v14 = "shmem-backup-v14"
    let posted = try TemporaryTree()
    try posted.write(ttmMakefile, try requireKernelFile("Makefile", "40d07a35293a"))
    try posted.write(ttmBackupC, try requireKernelFile("ttm_backup.c", "bf16bb0c594e"))
    try posted.write(ttmBackupH, try requireKernelFile("ttm_backup.h", "20609da7e281"))
    #expect(try scan(posted).patch(v14)?.state == .after)

    let merged = try TemporaryTree()
    try merged.write(ttmMakefile, try requireKernelFile("Makefile", "40d07a35293a"))
    try merged.write(ttmBackupC, try requireKernelFile("ttm_backup.c", "81df4cb5606b"))
    try merged.write(ttmBackupH, try requireKernelFile("ttm_backup.h", "29b9c855af77"))
    let m = try #require(try scan(merged).patch(v14))
    #expect(m.state == .adapted, "\(m.evidence)")
    #expect(
      m.evidence.contains { $0.contains("functions the patch's text does, in other words; lacks ttm_backup_to_file") })

    let legacy = try TemporaryTree()
    try legacy.write(ttmMakefile, try requireKernelFile("Makefile", "dad298127226"))
    let l = try #require(try scan(legacy).patch(v14))
    #expect(l.state == .before)
    #expect(l.evidence.contains("\(ttmBackupC): not in the tree (the patch creates it; the code around it is there)"))

    let empty = try TemporaryTree()
    try empty.write("Makefile", TemporaryTree.makefile("6.1.100"))
    #expect(try scan(empty).patch(v14)?.state == .absent)
  }

  // MARK: Bad files

  /// A file that cannot be scanned makes its patches unknown, saying why; the rest of the
  /// scan goes on.
  @Test(
    "a file that cannot be scanned: unknown, with why, and the rest goes on",
    arguments: ["binary", "large", "symlink loop", "directory"])
  func unreadable(_ kind: String) throws {
    let tree = try TemporaryTree()
    try tree.write(ttmBackupC, try requireKernelFile("ttm_backup.c", "81df4cb5606b"))
    let path = tree.root + "/" + ttmPool
    switch kind {
    case "binary": try tree.write(ttmPool, Data([0x7F, 0x45, 0x4C, 0x46, 0, 0, 1]))
    case "large":
      try tree.write(ttmPool, Data())
      let h = try #require(FileHandle(forWritingAtPath: path))
      try h.truncate(atOffset: 100_000_000)
      try h.close()
    case "symlink loop":
      try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "ttm_pool.c")
    default: try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    let s = try scan(tree)
    let p = try #require(s.patch("drop-restore-after-restore"))
    #expect(p.state == .unknown)
    let reason: String =
      switch kind {
      case "binary": "not a text file (a NUL byte)"
      case "large": "100000000 bytes: larger than the 32 MiB scanned"
      case "symlink loop": "a symlink that cannot be followed"
      default: "a directory, not a file"
      }
    #expect(p.notes.first?.hasPrefix("cannot decide: \(ttmPool): \(reason)") == true, "\(p.notes)")
    // ttm_backup.c was still read and decided.
    #expect(s.patch("zero-copy-insert-folio")?.files.first { $0.path == ttmBackupC }?.exact == .before)
  }

  // MARK: Git

  /// A repository with two tags: the same answers as the directory, read with no checkout
  /// through one cat-file process; the version from the top-level Makefile.
  @Test("git: refs read without a checkout, version from the Makefile")
  func gitRefs() throws {
    let tree = try TemporaryTree()
    try tree.write("Makefile", TemporaryTree.makefile("7.1.5"))
    try tree.write(ttmPool, try requireKernelFile("ttm_pool.c", "278bbe7a11ad"))
    try tree.commit(tag: "v7.1.5")
    try tree.write("Makefile", TemporaryTree.makefile("7.1.6"))
    try tree.write(ttmPool, try requireKernelFile("ttm_pool.c", "d380a3c7fe40"))
    try tree.commit(tag: "v7.1.6")
    // The work tree moves on; the refs are what is read.
    try tree.write(ttmPool, "garbage\n")
    let git = try GitRepository(path: tree.root)
    let scanner = TreeScanner(patches: try Self.patches.get())
    let old = try scanner.scan(try GitSource(git, ref: "v7.1.5"))
    let new = try scanner.scan(try GitSource(git, ref: "v7.1.6"))
    #expect(old.version?.description == "7.1.5" && old.version?.branch == "7.1.y")
    #expect(new.version?.description == "7.1.6")
    #expect(old.patch("drop-restore-after-restore")?.state == .before)
    #expect(new.patch("drop-restore-after-restore")?.state == .after)
    #expect(new.origin.commit?.count == 40 && new.origin.ref == "v7.1.6")
    // One object per file and ref, plus one per ref for the commit: never a process each.
    #expect(git.objectsRead == 2 * (1 + scanner.paths.count))
    // The same blob of a file is decided once.
    let again = try scanner.scan(try GitSource(git, ref: "v7.1.6"))
    #expect(again == new)
    #expect(scanner.memoHits > 0)
  }

  @Test("git: a ref that is missing or not a commit, and a directory that is not a repository")
  func gitErrors() throws {
    let tree = try TemporaryTree()
    try tree.write("Makefile", TemporaryTree.makefile("6.12.58"))
    try tree.commit(tag: "v6.12.58")
    let git = try GitRepository(path: tree.root)
    #expect(throws: GitRepository.Error.self) { try GitSource(git, ref: "v9.9") }
    let blob = #expect(throws: GitRepository.Error.self) { try GitSource(git, ref: "v6.12.58:Makefile") }
    #expect(
      blob?.description.hasSuffix("'v6.12.58:Makefile' is a blob, not a commit") == true, "\(blob.debugDescription)")
    let plain = try TemporaryTree()
    let error = #expect(throws: GitRepository.Error.self) { try GitRepository(path: plain.root) }
    #expect(error?.description.hasPrefix("\(plain.root): not a git repository") == true, "\(error.debugDescription)")
  }

  /// Scanning only reads: the directory and the repository are unchanged afterwards.
  @Test("scanning changes nothing in the tree or the repository")
  func readOnly() throws {
    let tree = try TemporaryTree()
    try tree.write("Makefile", TemporaryTree.makefile("7.1.6"))
    try tree.write(ttmPool, try requireKernelFile("ttm_pool.c", "d380a3c7fe40"))
    try tree.commit(tag: "v7.1.6")
    func snapshot() throws -> [String: String] {
      var out: [String: String] = [:]
      let fm = FileManager.default
      let items = try #require(fm.enumerator(atPath: tree.root))
      for case let item as String in items {
        let full = tree.root + "/" + item
        let attributes = try fm.attributesOfItem(atPath: full)
        let data = fm.contents(atPath: full).map { GitBlob.id(ofBytes: Array($0)) } ?? "dir"
        out[item] = "\(data) \(attributes[.modificationDate] ?? "") \(attributes[.size] ?? "")"
      }
      return out
    }
    let before = try snapshot()
    _ = try scan(tree)
    let git = try GitRepository(path: tree.root)
    _ = try TreeScanner(patches: try Self.patches.get()).scan(try GitSource(git, ref: "v7.1.6"))
    #expect(try snapshot() == before)
  }

  @Test(
    "the version and branch from the top-level Makefile",
    arguments: [
      ("6.12.58", "6.12.58", "6.12.y"), ("6.13-rc3", "6.13-rc3", "mainline"), ("6.13", "6.13", "6.13.y"),
      ("5.10.240", "5.10.240", "5.10.y"),
    ])
  func version(_ written: String, _ version: String, _ branch: String) throws {
    let v = try #require(KernelVersion(makefile: TemporaryTree.makefile(written)))
    #expect(v.description == version && v.branch == branch)
    #expect(KernelVersion(makefile: "VERSION = six\nPATCHLEVEL = 1\nSUBLEVEL = 0\n") == nil)
    #expect(KernelVersion(tag: "v6.12.58") == KernelVersion(version: 6, patchLevel: 12, subLevel: 58))
    #expect(try #require(KernelVersion(tag: "v6.13-rc3")) < (try #require(KernelVersion(tag: "v6.13"))))
  }
}
