import Foundation
import PackageTestSupport
import Testing

@testable import PatchText

/// What a patch file must say, field by field.
struct PatchFacts: Sendable, CustomTestStringConvertible {
  let slug: String
  let commit: String?
  let upstream: String?
  let author: String
  let trailerKeys: [String]
  let files: [(path: String, old: String, new: String, hunks: Int)]
  let gitVersion: String
  var testDescription: String { slug }
}

@Suite("Patch files")
struct PatchFileTests {
  @Test("every file in patches/ parses and passes the hunk line-count check", arguments: patchFileNames())
  func parsesEveryPatch(_ name: String) throws {
    let patch = try PatchFile(contentsOf: "\(patchesDirectory)/\(name)")
    #expect(!patch.subject.isEmpty && !patch.files.isEmpty)
    for file in patch.files {
      for hunk in file.hunks {
        let old = hunk.lines.filter { $0.kind == .context || $0.kind == .removed }.count
        let new = hunk.lines.filter { $0.kind == .context || $0.kind == .added }.count
        #expect(old == hunk.oldCount && new == hunk.newCount, "\(file.path) line \(hunk.headerLine)")
      }
    }
  }

  @Test("there are seven patches")
  func sevenPatches() {
    #expect(
      patchFileNames() == [
        "drop-restore-after-restore.patch", "gfp-retry-mayfail-readback.patch", "madvise-list-move.patch",
        "native-order-backup.patch", "null-handle-pages-backup.patch", "shmem-backup-v14.patch",
        "zero-copy-insert-folio.patch",
      ])
  }

  static let facts: [PatchFacts] = [
    PatchFacts(
      slug: "shmem-backup-v14", commit: nil, upstream: "e7b5d23e5d4705ae93ef6af891b7b7bcccbe1257",
      author: "Thomas Hellström <thomas.hellstrom@linux.intel.com>",
      trailerKeys: ["Cc", "Cc", "Cc", "Cc", "Signed-off-by", "Reviewed-by"],
      files: [
        ("drivers/gpu/drm/ttm/Makefile", "dad298127226", "40d07a35293a", 1),
        ("drivers/gpu/drm/ttm/ttm_backup.c", "000000000000", "bf16bb0c594e", 1),
        ("include/drm/ttm/ttm_backup.h", "000000000000", "20609da7e281", 1),
      ], gitVersion: "2.46.2"),
    PatchFacts(
      slug: "gfp-retry-mayfail-readback", commit: "c6135f67aa37a4a744869f726d706bda091e6dfa",
      upstream: "c6135f67aa37a4a744869f726d706bda091e6dfa",
      author: "Thomas Hellström <thomas.hellstrom@linux.intel.com>",
      trailerKeys: ["Signed-off-by", "Reviewed-by", "Acked-by", "Link"],
      files: [
        ("drivers/gpu/drm/ttm/ttm_backup.c", "6bd4c123d94c", "81df4cb5606b", 1),
        ("drivers/gpu/drm/ttm/ttm_pool.c", "c0d95559197c", "4912ab53f6f9", 2),
        ("include/drm/ttm/ttm_backup.h", "c33cba111171", "29b9c855af77", 1),
      ], gitVersion: "2.53.0"),
    PatchFacts(
      slug: "zero-copy-insert-folio", commit: nil, upstream: nil,
      author: "Thomas Hellström <thomas.hellstrom@linux.intel.com>",
      trailerKeys: ["Assisted-by", "Signed-off-by"],
      files: [
        ("drivers/gpu/drm/ttm/ttm_backup.c", "81df4cb5606b", "a37e9404b895", 2),
        ("drivers/gpu/drm/ttm/ttm_pool.c", "d380a3c7fe40", "8ea3a125c465", 4),
        ("include/drm/ttm/ttm_backup.h", "29b9c855af77", "0c2feed0bffb", 2),
      ], gitVersion: "2.54.0"),
    PatchFacts(
      slug: "madvise-list-move", commit: "9fc33eaaa979d112d10fea729edcd2a2e21aa912",
      upstream: "9fc33eaaa979d112d10fea729edcd2a2e21aa912",
      author: "Dmitry Osipenko <dmitry.osipenko@collabora.com>",
      trailerKeys: ["Cc", "Fixes", "Acked-by", "Reviewed-by", "Signed-off-by", "Signed-off-by", "Link"],
      files: [("drivers/gpu/drm/panfrost/panfrost_drv.c", "087e69b98d06", "b1e6d238674f", 1)],
      gitVersion: "2.36.1"),
    PatchFacts(
      slug: "drop-restore-after-restore", commit: nil, upstream: nil,
      author: "Matthew Brost <matthew.brost@intel.com>",
      trailerKeys: Array(repeating: "Cc", count: 12) + ["Fixes", "Signed-off-by", "Reviewed-by"],
      files: [("drivers/gpu/drm/ttm/ttm_pool.c", "278bbe7a11ad", "d380a3c7fe40", 2)], gitVersion: "2.34.1"),
    PatchFacts(
      slug: "null-handle-pages-backup", commit: nil, upstream: nil,
      author: "Matthew Brost <matthew.brost@intel.com>",
      trailerKeys: Array(repeating: "Cc", count: 13) + ["Fixes", "Cc", "Assisted-by", "Signed-off-by"],
      files: [("drivers/gpu/drm/ttm/ttm_pool.c", "3d5f2ae0a456", "ff043420d517", 2)], gitVersion: "2.34.1"),
    PatchFacts(
      slug: "native-order-backup", commit: nil, upstream: "a3fdf74ffa5966e5b4a17f1e9c5687f73bb0d536",
      author: "Matthew Brost <matthew.brost@intel.com>",
      trailerKeys: Array(repeating: "Cc", count: 11) + ["Fixes", "Suggested-by", "Assisted-by", "Signed-off-by"],
      files: [
        ("drivers/gpu/drm/ttm/ttm_backup.c", "81df4cb5606b", "a8f0b12c86d2", 3),
        ("drivers/gpu/drm/ttm/ttm_pool.c", "80d0ad41456a", "1bf37023fed6", 5),
        ("drivers/gpu/drm/ttm/ttm_pool_internal.h", "24c179fd69d1", "cbb17a2129fe", 1),
        ("include/drm/ttm/ttm_backup.h", "29b9c855af77", "49efa713e87c", 2),
      ], gitVersion: "2.34.1"),
  ]

  @Test("headers, trailers, index blob ids and hunks", arguments: facts)
  func fields(_ f: PatchFacts) throws {
    let p = try PatchFile(parsing: try patchText(f.slug), path: "\(f.slug).patch")
    #expect(p.slug == f.slug)
    #expect(p.commit == f.commit)
    #expect(p.upstreamCommit == f.upstream)
    #expect(p.author.description == f.author)
    #expect(p.trailers.map(\.key) == f.trailerKeys)
    #expect(p.gitVersion == f.gitVersion)
    #expect(p.files.map(\.path) == f.files.map(\.path))
    #expect(p.files.map(\.oldBlob) == f.files.map(\.old))
    #expect(p.files.map(\.newBlob) == f.files.map(\.new))
    #expect(p.files.map(\.hunks.count) == f.files.map(\.hunks))
  }

  @Test("the madvise fix says what it fixes and where it goes")
  func madviseTrailers() throws {
    let p = try PatchFile(parsing: try patchText("madvise-list-move"), path: "madvise-list-move.patch")
    #expect(p.trailers("Fixes") == [#"013b65101315 ("drm/panfrost: Add madvise and shrinker support")"#])
    #expect(p.trailers("cc") == ["stable@vger.kernel.org"])
    let hunk = try #require(p.files.first?.hunks.first)
    #expect(hunk.oldStart == 433 && hunk.oldCount == 8 && hunk.newStart == 433 && hunk.newCount == 8)
    #expect(hunk.section == "static int panfrost_ioctl_madvise(struct drm_device *dev, void *data,")
    #expect(
      hunk.lines.filter { $0.kind == .removed }.map(\.text) == [
        "\t\t\tlist_add_tail(&bo->base.madv_list,", "\t\t\t\t      &pfdev->shrinker_list);",
      ])
  }

  @Test("the folded, encoded subject and author of the gfp fix are decoded")
  func decodedHeaders() throws {
    let p = try PatchFile(parsing: try patchText("gfp-retry-mayfail-readback"), path: "x.patch")
    #expect(p.subject == "drm/ttm: Avoid invoking the OOM killer when reading back swapped content")
    #expect(p.subjectPrefix == "PATCH")
    #expect(p.author.name == "Thomas Hellström")
    #expect(p.body.hasPrefix("In situations where the system is very short on RAM"))
    #expect(p.insertions == 9 && p.deletions == 4)
  }

  /// The zero-copy patch was written on top of the gfp fix: its ttm_backup.c pre-image is the
  /// gfp fix's post-image.
  @Test("index blob chains link the gfp fix and the zero-copy patch")
  func blobChain() throws {
    let gfp = try PatchFile(parsing: try patchText("gfp-retry-mayfail-readback"), path: "a")
    let zc = try PatchFile(parsing: try patchText("zero-copy-insert-folio"), path: "b")
    for path in ["drivers/gpu/drm/ttm/ttm_backup.c", "include/drm/ttm/ttm_backup.h"] {
      let post = try #require(gfp.files.first { $0.path == path }).newBlob
      let pre = try #require(zc.files.first { $0.path == path }).oldBlob
      #expect(post == pre, "\(path)")
    }
  }

  @Test("RFC 2047 encoded words decode, quoted-printable and base64")
  func encodedWords() {
    #expect(decodeEncodedWords("=?UTF-8?q?Thomas=20Hellstr=C3=B6m?= <t@x>") == "Thomas Hellström <t@x>")
    #expect(decodeEncodedWords("=?UTF-8?b?Q2hyaXN0aWFuIEvDtm5pZw==?=") == "Christian König")
    #expect(decodeEncodedWords("=?UTF-8?q?a?= =?UTF-8?q?b?=") == "ab")
    #expect(decodeEncodedWords("plain") == "plain")
  }

  /// In a stable backport the `From` line is the stable commit; the upstream one is in the
  /// body, and a `[ name: note ]` line sits among the trailers.
  @Test("a stable backport names its upstream commit in the body and keeps its trailers")
  func stableBackport() throws {
    var text = try patchText("madvise-list-move")
    text = text.replacingOccurrences(
      of: "From 9fc33eaaa979d112d10fea729edcd2a2e21aa912", with: "From 0581613df7f9a1b2c3d4e5f60718293a4b5c6d7e")
    text = text.replacingOccurrences(
      of: "\nCalling madvise", with: "\ncommit 9fc33eaaa979d112d10fea729edcd2a2e21aa912 upstream.\n\nCalling madvise")
    text = text.replacingOccurrences(
      of: "Signed-off-by: Steven Price <steven.price@arm.com>\n",
      with: "Signed-off-by: Steven Price <steven.price@arm.com>\n[ sashal: adjusted context ]\n")
    let p = try PatchFile(parsing: text, path: "stable.patch")
    #expect(p.commit == "0581613df7f9a1b2c3d4e5f60718293a4b5c6d7e")
    #expect(p.upstreamCommit == "9fc33eaaa979d112d10fea729edcd2a2e21aa912")
    #expect(p.trailers("Fixes").count == 1 && p.trailers("Link").count == 1)
    #expect(!p.body.contains("Signed-off-by"))
  }

  @Test("renames, mode changes and binary diffs parse without hunks")
  func hunklessDiffs() throws {
    let text = try patchText("madvise-list-move").replacingOccurrences(
      of: "-- \n2.36.1",
      with: """
        diff --git a/old.c b/new.c
        similarity index 100%
        rename from old.c
        rename to new.c
        diff --git a/script.sh b/script.sh
        old mode 100644
        new mode 100755
        diff --git a/logo.png b/logo.png
        index 1234567..89abcde 100644
        Binary files a/logo.png and b/logo.png differ
        -- \n2.36.1
        """
    )
    .replacingOccurrences(
      of: " 1 file changed, 2 insertions(+), 2 deletions(-)", with: " 4 files changed, 2 insertions(+), 2 deletions(-)")
    let p = try PatchFile(parsing: text, path: "renames.patch")
    #expect(p.files.map(\.path) == ["drivers/gpu/drm/panfrost/panfrost_drv.c", "new.c", "script.sh", "logo.png"])
    #expect(p.files.dropFirst().allSatisfy { $0.hunks.isEmpty })
    #expect(p.files.last?.newBlob == "89abcde")
  }
}

/// Malformed input: each case edits a real patch and names the line the parser must blame.
struct MalformedCase: Sendable, CustomTestStringConvertible {
  let what: String
  let slug: String
  let replace: String
  let with: String
  /// Text the error must contain.
  let message: String
  /// The 1-based line the error must name, found in the edited text by this needle (the
  /// line containing it, plus `offset`).
  let lineOf: String
  let offset: Int
  var testDescription: String { what }
}

@Suite("Patch files: bad input")
struct MalformedPatchTests {
  static let cases: [MalformedCase] = [
    MalformedCase(
      what: "a hunk declaring one old line too many", slug: "madvise-list-move",
      replace: "@@ -433,8 +433,8 @@", with: "@@ -433,9 +433,8 @@",
      message: "declares 9 old and 8 new lines, but the hunk ends at line 37, the '-- ' signature",
      lineOf: "-- ", offset: 0),
    MalformedCase(
      what: "a hunk with more lines than declared", slug: "madvise-list-move",
      replace: "@@ -433,8 +433,8 @@", with: "@@ -433,7 +433,7 @@",
      message: "has more lines than its header declares (7 old, 7 new)", lineOf: " \t}", offset: 0),
    MalformedCase(
      what: "a miscounted hunk in the middle of a file", slug: "zero-copy-insert-folio",
      replace: "@@ -1045,12 +1045,11 @@", with: "@@ -1045,12 +1045,12 @@",
      message: "@@ -1045,12 +1045,12 @@ in drivers/gpu/drm/ttm/ttm_pool.c", lineOf: "@@ -1070,7 +1069,8 @@", offset: 0),
    MalformedCase(
      what: "a truncated patch", slug: "gfp-retry-mayfail-readback",
      replace: " \t\t\tif (ret)\n", with: "",
      message: "declares 7 old and 8 new lines, but line 77 is not a hunk line",
      lineOf: "diff --git a/include/drm/ttm/ttm_backup.h", offset: 0),
    MalformedCase(
      what: "no From line", slug: "madvise-list-move",
      replace: "From 9fc33eaaa979d112d10fea729edcd2a2e21aa912 Mon Sep 17 00:00:00 2001\n", with: "",
      message: "expected 'From <40-hex commit> Mon Sep 17 00:00:00 2001'", lineOf: "From: Dmitry", offset: 0),
    MalformedCase(
      what: "no Subject header", slug: "madvise-list-move",
      replace: "Subject: [PATCH] drm/panfrost: Fix shrinker list corruption by madvise IOCTL\n", with: "",
      message: "missing 'Subject:' header", lineOf: "From 9fc33eaaa979", offset: 1),
    MalformedCase(
      what: "no index line", slug: "madvise-list-move",
      replace: "index 087e69b98d06..b1e6d238674f 100644\n", with: "",
      message: "has no 'index <old>..<new>' line", lineOf: "diff --git", offset: 0),
    MalformedCase(
      what: "a hunk header number larger than Int", slug: "madvise-list-move",
      replace: "@@ -433,8 +433,8 @@", with: "@@ -99999999999999999999999,8 +433,8 @@",
      message: "the number 99999999999999999999999 is out of range (at most 100000000)",
      lineOf: "@@ -99999999999999999999999", offset: 0),
    MalformedCase(
      what: "a hunk count larger than the limit", slug: "madvise-list-move",
      replace: "@@ -433,8 +433,8 @@", with: "@@ -433,100000001 +433,8 @@",
      message: "the number 100000001 is out of range", lineOf: "@@ -433,100000001", offset: 0),
    MalformedCase(
      what: "a NUL byte", slug: "madvise-list-move",
      replace: "\t\tlist_add_tail(", with: "\t\tlist_add_tail(\u{0}",
      message: "a NUL byte: binary data, not a text patch", lineOf: "-\t\t\tlist_add_tail(", offset: 0),
    MalformedCase(
      what: "an absolute path", slug: "madvise-list-move",
      replace: "diff --git a/drivers/gpu/drm/panfrost/panfrost_drv.c b/drivers/gpu/drm/panfrost/panfrost_drv.c",
      with: "diff --git a//etc/passwd b//etc/passwd",
      message: "invalid path '/etc/passwd'", lineOf: "diff --git", offset: 0),
    MalformedCase(
      what: "a '..' component", slug: "madvise-list-move",
      replace: "+++ b/drivers/gpu/drm/panfrost/panfrost_drv.c", with: "+++ b/drivers/../../etc/passwd",
      message: "invalid path 'drivers/../../etc/passwd'", lineOf: "+++ b/", offset: 0),
    MalformedCase(
      what: "a '..' in a rename", slug: "madvise-list-move",
      replace: "index 087e69b98d06..b1e6d238674f 100644\n",
      with:
        "similarity index 90%\nrename from ../outside.c\nrename to drivers/gpu/drm/panfrost/panfrost_drv.c\nindex 087e69b98d06..b1e6d238674f 100644\n",
      message: "invalid path '../outside.c'", lineOf: "rename from", offset: 0),
    MalformedCase(
      what: "a diffstat that disagrees with the hunks", slug: "madvise-list-move",
      replace: " 1 file changed, 2 insertions(+), 2 deletions(-)",
      with: " 1 file changed, 3 insertions(+), 2 deletions(-)",
      message: "diffstat says 1 files, 3 insertions, 2 deletions; the diffs have 1, 2, 2", lineOf: " 1 file changed",
      offset: 0),
    MalformedCase(
      what: "a diffstat whose deletion count disagrees", slug: "madvise-list-move",
      replace: " 1 file changed, 2 insertions(+), 2 deletions(-)",
      with: " 1 file changed, 2 insertions(+), 3 deletions(-)",
      message: "diffstat says 1 files, 2 insertions, 3 deletions; the diffs have 1, 2, 2", lineOf: " 1 file changed",
      offset: 0),
    MalformedCase(
      what: "a diffstat that leaves the deletions out", slug: "madvise-list-move",
      replace: " 1 file changed, 2 insertions(+), 2 deletions(-)",
      with: " 1 file changed, 2 insertions(+)",
      message: "diffstat says 1 files, 2 insertions, 0 deletions; the diffs have 1, 2, 2", lineOf: " 1 file changed",
      offset: 0),
    MalformedCase(
      what: "a diffstat whose file count disagrees", slug: "madvise-list-move",
      replace: " 1 file changed, 2 insertions(+), 2 deletions(-)",
      with: " 2 files changed, 2 insertions(+), 2 deletions(-)",
      message: "diffstat says 2 files, 2 insertions, 2 deletions; the diffs have 1, 2, 2", lineOf: " 2 files changed",
      offset: 0),
  ]

  @Test("malformed patches are rejected with file and line", arguments: cases)
  func rejects(_ c: MalformedCase) throws {
    let original = try patchText(c.slug)
    #expect(original.contains(c.replace), "the edit must apply")
    let text = original.replacingOccurrences(of: c.replace, with: c.with)
    let error = #expect(throws: PatchParseError.self) { try PatchFile(parsing: text, path: "bad.patch") }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let expectedLine = (lines.firstIndex { $0.hasPrefix(c.lineOf) } ?? -1) + 1 + c.offset
    #expect(error?.path == "bad.patch")
    #expect(error?.line == expectedLine, "\(error?.description ?? "")")
    #expect(error?.message.contains(c.message) == true, "\(error?.description ?? "")")
  }

  @Test("binary junk is not UTF-8 and says so")
  func binaryJunk() throws {
    let path = NSTemporaryDirectory() + "/junk-\(UInt32.random(in: 0...UInt32.max)).patch"
    #expect(FileManager.default.createFile(atPath: path, contents: Data([0xff, 0xfe, 0x00, 0x81, 0x42])))
    defer { try? FileManager.default.removeItem(atPath: path) }
    #expect(throws: PatchParseError(path: path, line: 0, message: "not UTF-8 text")) {
      try PatchFile(contentsOf: path)
    }
  }

  /// The documented limits: a larger input is refused with one line before it is parsed, so
  /// no input traps, hangs or exhausts memory.
  @Test("more hunks than the limit are refused")
  func tooManyHunks() throws {
    var text = """
      From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
      From: A <a@example.org>
      Date: Mon, 1 Jan 2024 00:00:00 +0000
      Subject: [PATCH] many hunks

      ---
      diff --git a/x.c b/x.c
      index 1111111..2222222 100644
      --- a/x.c
      +++ b/x.c

      """
    for n in 0...PatchLimits.maxHunks { text += "@@ -\(n * 3 + 1),1 +\(n * 3 + 1),1 @@\n-a\n+b\n" }
    let error = #expect(throws: PatchParseError.self) { try PatchFile(parsing: text, path: "many.patch") }
    #expect(error?.message == "more than the 20000 hunks a patch may have")
    #expect(error?.line == 11 + 3 * PatchLimits.maxHunks)
  }

  @Test("a line longer than the limit is refused")
  func longLine() throws {
    let text = try patchText("madvise-list-move").replacingOccurrences(
      of: "Signed-off-by: Dmitry", with: String(repeating: "x", count: PatchLimits.maxLineBytes + 1) + " Dmitry")
    let error = #expect(throws: PatchParseError.self) { try PatchFile(parsing: text, path: "long.patch") }
    #expect(error?.message.hasPrefix("a line of ") == true)
    #expect(error?.message.hasSuffix(" bytes: longer than the 64 KiB a patch line may be") == true)
  }

  /// A file over the size limit is refused from its size alone, without reading it: a sparse
  /// file of 200 MB costs no disk and no memory.
  @Test("a file over the size limit is refused before it is read")
  func tooLarge() throws {
    let path = NSTemporaryDirectory() + "/huge-\(UInt32.random(in: 0...UInt32.max)).patch"
    #expect(FileManager.default.createFile(atPath: path, contents: Data()))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let handle = try #require(FileHandle(forWritingAtPath: path))
    try handle.truncate(atOffset: 200_000_000)
    try handle.close()
    #expect(
      throws: PatchParseError(
        path: path, line: 0, message: "200000000 bytes: larger than the 32 MiB a patch may be")
    ) { try PatchFile(contentsOf: path) }
    let directory = NSTemporaryDirectory()
    #expect(throws: PatchParseError(path: directory, line: 0, message: "is a directory, not a patch file")) {
      try PatchFile(contentsOf: directory)
    }
  }
}
