import Foundation
import PackageTestSupport
import Testing

@testable import PatchText

/// A file diff of a patch whose pre-image text is in `fixtures/kernel-files`.
struct ApplyCase: Sendable, CustomTestStringConvertible {
  let slug: String
  let path: String
  var testDescription: String { "\(slug): \((path as NSString).lastPathComponent)" }

  /// Every (patch, file) whose pre-image is a fixture or a new file.
  static var all: [ApplyCase] {
    patchFileNames().flatMap { name -> [ApplyCase] in
      guard let patch = try? PatchFile(contentsOf: "\(patchesDirectory)/\(name)") else { return [] }
      return patch.files.compactMap { f in
        let base = (f.path as NSString).lastPathComponent
        return f.isNewFile || kernelFile(base, f.oldBlob) != nil ? ApplyCase(slug: patch.slug, path: f.path) : nil
      }
    }
  }
}

@Suite("Git blob ids and applying diffs")
struct GitBlobTests {
  @Test("SHA-1 and blob ids match git's")
  func knownIDs() {
    #expect(GitBlob.sha1(Array("abc".utf8)) == "a9993e364706816aba3e25717850c26c9cd0d89d")
    #expect(GitBlob.sha1([]) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    #expect(GitBlob.id(of: "") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391")
    #expect(GitBlob.id(of: "hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a")
    // More than one 64-byte block, and a length that needs the second padding block.
    #expect(
      GitBlob.sha1(Array(String(repeating: "a", count: 1000).utf8))
        == "291e9a6c66994949b57ba5e650361e98fc36b1ba")
  }

  @Test(
    "every kernel file fixture hashes to the blob id in its name",
    arguments: ((try? FileManager.default.contentsOfDirectory(atPath: kernelFilesDirectory)) ?? [])
      .filter { $0.contains("@") }.sorted())
  func fixtureNames(_ name: String) throws {
    let text = try String(contentsOfFile: "\(kernelFilesDirectory)/\(name)", encoding: .utf8)
    let blob = String(name.split(separator: "@").last!)
    #expect(GitBlob.matches(blob, text), "\(name) hashes to \(GitBlob.id(of: text))")
  }

  /// Proves the reconstructed hunks byte-exact: applied to the pre-image, each gives the
  /// post-image blob the `index` line names.
  @Test("each patch applied to its pre-image gives its post-image blob", arguments: ApplyCase.all)
  func applyGivesPostImage(_ c: ApplyCase) throws {
    let patch = try PatchFile(contentsOf: "\(patchesDirectory)/\(c.slug).patch")
    let diff = try #require(patch.files.first { $0.path == c.path })
    let base = (c.path as NSString).lastPathComponent
    let pre = diff.isNewFile ? "" : try #require(kernelFile(base, diff.oldBlob))
    let post = try diff.apply(to: pre)
    #expect(GitBlob.matches(diff.newBlob, post), "got \(GitBlob.id(of: post))")
  }

  @Test("every fixture pre-image is covered: the cases include every TTM patch's files")
  func coverage() {
    let covered = Set(ApplyCase.all.map { "\($0.slug):\(($0.path as NSString).lastPathComponent)" })
    #expect(
      covered == [
        "shmem-backup-v14:Makefile", "shmem-backup-v14:ttm_backup.c", "shmem-backup-v14:ttm_backup.h",
        "gfp-retry-mayfail-readback:ttm_backup.c", "gfp-retry-mayfail-readback:ttm_backup.h",
        "zero-copy-insert-folio:ttm_backup.c", "zero-copy-insert-folio:ttm_backup.h",
        "zero-copy-insert-folio:ttm_pool.c", "drop-restore-after-restore:ttm_pool.c",
        "null-handle-pages-backup:ttm_pool.c", "native-order-backup:ttm_backup.c",
        "native-order-backup:ttm_pool.c", "native-order-backup:ttm_pool_internal.h",
        "native-order-backup:ttm_backup.h", "madvise-list-move:panfrost_drv.c",
      ])
  }

  /// The zero-copy patch does not apply to v7.0's ttm_backup.c: it needs the gfp fix first.
  @Test("a diff does not apply to the wrong pre-image, and the error says where")
  func wrongPreImage() throws {
    let zc = try PatchFile(contentsOf: "\(patchesDirectory)/zero-copy-insert-folio.patch")
    let diff = try #require(zc.files.first { $0.path.hasSuffix("ttm_backup.c") })
    let v70 = try #require(kernelFile("ttm_backup.c", "6bd4c123d94c"))
    let error = #expect(throws: ApplyError.self) { try diff.apply(to: v70) }
    #expect(error?.path == "drivers/gpu/drm/ttm/ttm_backup.c")
    #expect(error?.hunk == "@@ -68,73 +67,50 @@")
  }
}
