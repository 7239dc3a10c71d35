import Foundation
import PackageTestSupport
import Testing

@testable import PatchText

/// The scanner on real kernel file versions (fixtures/kernel-files, section "Real tree
/// versions": each hash-verified, with the tree and commit it was read from). No tree is
/// named to the scanner: it decides from the patch hunks and the code.
@Suite("Tree scanner on real kernel files")
struct RealTreeTests {
  static let patches = Result { try PatchSet(directory: patchesDirectory).patches }

  /// A directory holding `files` (kernel path -> fixture name), scanned.
  func scan(_ files: [String: String]) throws -> TreeScan {
    let tree = try TemporaryTree()
    for (path, fixture) in files {
      let parts = fixture.split(separator: "@")
      try tree.write(path, try requireKernelFile(String(parts[0]), String(parts[1])))
    }
    return try TreeScanner(patches: try Self.patches.get()).scan(try DirectorySource(root: tree.root))
  }

  func states(_ s: TreeScan) -> [String: ScanState] {
    Dictionary(uniqueKeysWithValues: s.patches.map { ($0.patch, $0.state) })
  }

  let panfrost = "drivers/gpu/drm/panfrost/panfrost_drv.c"

  /// panfrost_drv.c along its history: before the fix in 5.15.0 .. 5.15.55, the 5.15-stable
  /// backport, the fix's own pre- and post-image, and 6.12.
  @Test(
    "the panfrost madvise fix in real panfrost_drv.c versions",
    arguments: [
      ("panfrost_drv.c@087e69b98d06", ScanState.before, true, "blob 087e69b98d06 is the patch's pre-image"),
      ("panfrost_drv.c@b1e6d238674f", .after, true, "blob b1e6d238674f is the patch's post-image"),
      ("panfrost_drv.c@1ffaef5ec5ff", .before, false, "list_add_tail(&bo->base.madv_list,"),
      ("panfrost_drv.c@de533f372764", .after, false, "list_move_tail(&bo->base.madv_list,"),
      ("panfrost_drv.c@671eed4ad890", .after, false, "list_move_tail(&bo->base.madv_list,"),
    ])
  func madvise(_ fixture: String, _ state: ScanState, _ exact: Bool, _ evidence: String) throws {
    let p = try #require(try scan([panfrost: fixture]).patch("madvise-list-move"))
    #expect(p.state == state, "\(p.evidence)")
    #expect(p.exact == exact)
    #expect(p.evidence.count == 1 && p.evidence[0].contains(evidence), "\(p.evidence)")
    if !exact { #expect(p.evidence[0].hasPrefix("\(panfrost):")) }
  }

  /// A 6.12.15 tree: the legacy TTM (no shmem backup yet), panfrost with the fix.
  @Test("6.12.15: legacy TTM, every backup patch absent, v14 before, the panfrost fix after")
  func v6_12() throws {
    let s = try scan([
      "Makefile": "Makefile@c6918c620bc3", "drivers/gpu/drm/ttm/Makefile": "Makefile@dad298127226",
      "drivers/gpu/drm/ttm/ttm_pool.c": "ttm_pool.c@8504dbe19c1a", panfrost: "panfrost_drv.c@671eed4ad890",
    ])
    #expect(s.version?.description == "6.12.15" && s.version?.branch == "6.12.y")
    #expect(
      states(s) == [
        "shmem-backup-v14": .before, "gfp-retry-mayfail-readback": .absent, "zero-copy-insert-folio": .absent,
        "madvise-list-move": .after, "drop-restore-after-restore": .absent, "null-handle-pages-backup": .absent,
        "native-order-backup": .absent,
      ])
    let v14 = try #require(s.patch("shmem-backup-v14"))
    #expect(v14.evidence.contains("drivers/gpu/drm/ttm/Makefile: blob dad298127226 is the patch's pre-image"))
  }

  /// v6.15: the merged backup code (not the v14 posting: adapted), none of the later fixes.
  @Test("6.15: v14 adapted (merged in other words), the later fixes before")
  func v6_15() throws {
    let s = try scan([
      "drivers/gpu/drm/ttm/Makefile": "Makefile@40d07a35293a",
      "drivers/gpu/drm/ttm/ttm_pool.c": "ttm_pool.c@c2ea865be657",
      "drivers/gpu/drm/ttm/ttm_backup.c": "ttm_backup.c@9e2d72c447ee",
      "include/drm/ttm/ttm_backup.h": "ttm_backup.h@c33cba111171",
    ])
    #expect(
      states(s) == [
        "shmem-backup-v14": .adapted, "gfp-retry-mayfail-readback": .before, "zero-copy-insert-folio": .before,
        "madvise-list-move": .absent, "drop-restore-after-restore": .before, "null-handle-pages-backup": .before,
        "native-order-backup": .before,
      ])
    let v14 = try #require(s.patch("shmem-backup-v14"))
    #expect(v14.evidence.contains { $0.contains("lacks ttm_backup_to_file, ttm_file_to_backup") })
    // The gfp fix's callee is where 6.15 has it, unpatched.
    let gfp = try #require(s.patch("gfp-retry-mayfail-readback"))
    #expect(gfp.files.flatMap(\.hunks).allSatisfy { $0.state == .notApplied })
    // Native order: two hunks are in code 6.15 words differently; the note says so.
    let native = try #require(s.patch("native-order-backup"))
    #expect(native.notes.contains { $0.contains("a backport must adapt them") })
  }

  /// 6.18.19: the same answers as 6.15 for the backup patches (the files are the 6.18-rc1
  /// import's).
  @Test("6.18: v14 adapted, the gfp fix and the three later fixes before")
  func v6_18() throws {
    let s = try scan([
      "drivers/gpu/drm/ttm/Makefile": "Makefile@40d07a35293a",
      "drivers/gpu/drm/ttm/ttm_pool.c": "ttm_pool.c@baf27c70a419",
      "drivers/gpu/drm/ttm/ttm_backup.c": "ttm_backup.c@32530c75f038",
      "include/drm/ttm/ttm_backup.h": "ttm_backup.h@c33cba111171",
    ])
    let st = states(s)
    #expect(st["shmem-backup-v14"] == .adapted)
    for slug in ["gfp-retry-mayfail-readback", "drop-restore-after-restore", "null-handle-pages-backup"] {
      #expect(st[slug] == .before, "\(slug)")
    }
  }

  /// A 5.15 tree before the fix, and the old TTM Makefile: v14 is "before" (the Makefile line
  /// it changes is there), the backup fixes absent.
  @Test("5.15: madvise before, v14 before, backup fixes absent")
  func v5_15() throws {
    let s = try scan([panfrost: "panfrost_drv.c@1ffaef5ec5ff", "drivers/gpu/drm/ttm/Makefile": "Makefile@f906b22959cf"])
    #expect(states(s)["madvise-list-move"] == .before)
    #expect(states(s)["shmem-backup-v14"] == .before)
    #expect(states(s)["gfp-retry-mayfail-readback"] == .absent)
  }
}
