/// How sure a fact is, as the reference notes grade it.
public enum Confidence: Hashable, Codable, Sendable, CustomStringConvertible {
  /// Confirmed from a source (a commit, a release, a hash).
  case verified
  /// Not confirmed; the reason says what is missing.
  case unverified(String)

  public var description: String {
    switch self {
    case .verified: "verified"
    case .unverified(let why): "UNVERIFIED: \(why)"
    }
  }
}

/// Where an upstream patch stands.
public enum UpstreamStatus: Hashable, Codable, Sendable {
  /// Merged as `commit`, first released in `release`.
  case merged(commit: String, release: String, confidence: Confidence)
  /// Merged, or in a stable release, but the upstream commit id is not known; `release` says
  /// where it is known to be.
  case mergedCommitUnknown(release: String, confidence: Confidence)
  /// Posted but not merged, as far as known.
  case notMerged
}

/// A patch of the same series, for partial-series checks.
public struct SeriesSibling: Hashable, Codable, Sendable {
  /// `1/3`, `2/2`, ...
  public let position: String
  public let subject: String
  /// The upstream commit, if merged.
  public let commit: String?
  /// What the sibling does for this patch, from its subject and the reference facts.
  public let role: String
  /// Whether the behaviour this package models for the patch needs the sibling: without it
  /// a backport does not build, or changes nothing.
  public let needed: Bool

  public init(position: String, subject: String, commit: String?, role: String, needed: Bool) {
    self.position = position
    self.subject = subject
    self.commit = commit
    self.role = role
    self.needed = needed
  }
}

/// The series a patch belongs to.
public struct Series: Hashable, Codable, Sendable {
  public let title: String
  /// This patch's place, e.g. `2/3`.
  public let position: String
  /// The other patches of the series.
  public let siblings: [SeriesSibling]
}

/// One upstream patch this package reproduces, with what its text does not say.
///
/// The patch texts themselves are `patches/<slug>.patch`; a test checks that this catalog
/// agrees with them (subject, upstream commit, files touched).
public struct UpstreamPatch: Hashable, Codable, Sendable, Identifiable {
  /// The short name used everywhere in the package (file name, test tags, matrix columns).
  public let slug: String
  /// The subject line, without `[PATCH ...]`.
  public let subject: String
  /// The mail the patch text was reconstructed from.
  public let messageID: String
  /// Where it stands upstream.
  public let status: UpstreamStatus
  /// Its series, if it is one patch of several.
  public let series: Series?
  /// The kernel files its diff touches.
  public let files: [String]
  /// One sentence: what changes in behaviour.
  public let summary: String

  public var id: String { slug }

  /// The upstream commit, if merged.
  public var upstreamCommit: String? {
    if case .merged(let commit, _, _) = status { return commit }
    return nil
  }
}

/// The upstream patches: the four of `DESIGN.md` ("The four patches") and three later
/// Cc-stable fixes to the same backup loop (`branch-facts.md` section E).
public enum PatchCatalog {
  /// "drm/ttm: Provide a shmem backup implementation", v14 2/8.
  public static let shmemBackupV14 = UpstreamPatch(
    slug: "shmem-backup-v14",
    subject: "drm/ttm: Provide a shmem backup implementation",
    messageID: "20241115150120.3280-3-thomas.hellstrom@linux.intel.com",
    status: .merged(
      commit: "e7b5d23e5d4705ae93ef6af891b7b7bcccbe1257", release: "v6.15-rc1",
      confidence: .unverified("merged from v16, not v14; the -rc1 tag is inferred from merge timing")),
    series: Series(
      title: "TTM shrinker helpers and xe buffer object shrinker", position: "2/8",
      siblings: [
        SeriesSibling(
          position: "1/8",
          subject: "drm/ttm: Balance ttm_resource_cursor_init() and ttm_resource_cursor_fini()",
          commit: nil, role: "a resource-cursor fix, unrelated to the backup code", needed: false),
        SeriesSibling(
          position: "3/8", subject: "drm/ttm/pool, drm/ttm/tt: Provide a helper to shrink pages",
          commit: "b63d715b8090",
          role:
            "adds ttm_pool_backup(), ttm_tt_backup() and the resumable restore, the only callers of this patch's ttm_backup.c: without it 2/8 adds code nothing calls",
          needed: true),
        SeriesSibling(
          position: "4/8", subject: "drm/ttm: Use fault-injection to test error paths",
          commit: "8ae875f64118", role: "adds backup_fault_inject, which the fault sweep fires; test-only",
          needed: false),
        SeriesSibling(
          position: "5/8", subject: "drm/ttm: Add a macro to perform LRU iteration",
          commit: "f3bcfd04a52f",
          role: "the LRU walk (ttm_bo_lru_for_each_reserved_guarded) the xe shrinker of 7/8 uses", needed: true),
        SeriesSibling(
          position: "6/8", subject: "drm/ttm: Add helpers for shrinking", commit: "70d645deac98",
          role: "ttm_bo_shrink() and friends, through which a driver's shrinker reaches ttm_tt_backup()",
          needed: true),
        SeriesSibling(
          position: "7/8", subject: "drm/xe: Add a shrinker for xe bos", commit: "00c8efc3180f",
          role:
            "the first driver shrinker (the model's BO shrinker is in its style); without one reclaim never backs up",
          needed: true),
        SeriesSibling(
          position: "8/8", subject: "drm/xe: Increase the XE_PL_TT watermark", commit: "d2d5f6d57884",
          role: "an xe tuning change", needed: false),
      ]),
    files: [
      "drivers/gpu/drm/ttm/Makefile", "drivers/gpu/drm/ttm/ttm_backup.c",
      "include/drm/ttm/ttm_backup.h",
    ],
    summary:
      "TTM swapout goes from the all-or-nothing ttm_tt_swapout() (whole-tt copy into a new shmem file, then free) to page-by-page backup with handles in the page array, partial backup and resumable restore."
  )

  /// "drm/ttm: Avoid invoking the OOM killer when reading back swapped content".
  public static let gfpRetryMayfailReadback = UpstreamPatch(
    slug: "gfp-retry-mayfail-readback",
    subject: "drm/ttm: Avoid invoking the OOM killer when reading back swapped content",
    messageID: "20260317141856.237876-3-thomas.hellstrom@linux.intel.com",
    status: .merged(
      commit: "c6135f67aa37a4a744869f726d706bda091e6dfa", release: "v7.1",
      confidence: .unverified("merged via drm-misc-next-2026-03-26 towards v7.1; the -rc tag is not checked")),
    series: Series(
      title: "gfp_retry_mayfail behaviour", position: "2/3",
      siblings: [
        SeriesSibling(
          position: "1/3",
          subject: "drm/ttm: Don't spam the log on buffer object backing store allocation failure",
          commit: "55fcf74cc2330580659426a57d1fa0125f7326b3",
          role:
            "adds __GFP_NOWARN to the tt page allocation under gfp_retry_mayfail; without it that allocation still warns when it fails (the model always has it), the readback this patch changes does not",
          needed: false),
        SeriesSibling(
          position: "3/3", subject: "drm/ttm: Update the struct ttm_operation_ctx kerneldoc",
          commit: "5f1d250a8fc4a4975b692e30229ad93a20c3778a", role: "kerneldoc only", needed: false),
      ]),
    files: [
      "drivers/gpu/drm/ttm/ttm_backup.c", "drivers/gpu/drm/ttm/ttm_pool.c",
      "include/drm/ttm/ttm_backup.h",
    ],
    summary:
      "Swap readback during restore uses mapping_gfp_mask | __GFP_RETRY_MAYFAIL | __GFP_NOWARN when ctx->gfp_retry_mayfail, so a swap-in under OOM returns -ENOMEM instead of OOM-killing a bystander."
  )

  /// "drm/ttm: Use ttm_backup_insert_folio() for zero-copy swapout", 2/2.
  public static let zeroCopyInsertFolio = UpstreamPatch(
    slug: "zero-copy-insert-folio",
    subject: "drm/ttm: Use ttm_backup_insert_folio() for zero-copy swapout",
    messageID: "20260512110339.6244-3-thomas.hellstrom@linux.intel.com",
    status: .notMerged,
    series: Series(
      title: "Insert instead of copy pages into shmem when shrinking", position: "2/2",
      siblings: [
        SeriesSibling(
          position: "1/2", subject: "mm/shmem: add shmem_insert_folio()", commit: nil,
          role:
            "adds shmem_insert_folio(), which this patch's ttm_backup_insert_folio() calls: without it the patch does not build",
          needed: true)
      ]),
    files: [
      "drivers/gpu/drm/ttm/ttm_backup.c", "drivers/gpu/drm/ttm/ttm_pool.c",
      "include/drm/ttm/ttm_backup.h",
    ],
    summary:
      "ttm_pool_backup() hands whole, possibly higher-order, pages to shmem instead of split + allocate + copy, and falls back to split and order-0 retry when a higher-order insert fails."
  )

  /// "drm/panfrost: Fix shrinker list corruption by madvise IOCTL".
  public static let madviseListMove = UpstreamPatch(
    slug: "madvise-list-move",
    subject: "drm/panfrost: Fix shrinker list corruption by madvise IOCTL",
    messageID: "20220630200601.1884120-3-dmitry.osipenko@collabora.com",
    status: .merged(
      commit: "9fc33eaaa979d112d10fea729edcd2a2e21aa912", release: "v5.19-rc7", confidence: .verified),
    series: nil,
    files: ["drivers/gpu/drm/panfrost/panfrost_drv.c"],
    summary:
      "A second DONTNEED did list_add_tail() on a BO already on shrinker_list, corrupting it; list_move_tail() unlinks first."
  )

  /// "drm/ttm: Drop tt->restore after successful restore" (v5 1/2).
  public static let dropRestoreAfterRestore = UpstreamPatch(
    slug: "drop-restore-after-restore",
    subject: "drm/ttm: Drop tt->restore after successful restore",
    messageID: "20260505200443.3300962-2-matthew.brost@intel.com",
    status: .mergedCommitUnknown(
      release: "stable 7.2.5 (a46ab76b6cf5)",
      confidence: .unverified("merged via drm-misc-next-2026-06-19 (for 7.3); the mainline id was not found")),
    series: nil,
    files: ["drivers/gpu/drm/ttm/ttm_pool.c"],
    summary:
      "A resumed ttm_pool_restore_and_alloc() that completes with nothing left to allocate now applies the deferred caching and frees tt->restore, instead of leaving a stale restore state that later backups and restores trip over."
  )

  /// "drm/ttm: Account for NULL and handle pages in ttm_pool_backup".
  public static let nullHandlePagesBackup = UpstreamPatch(
    slug: "null-handle-pages-backup",
    subject: "drm/ttm: Account for NULL and handle pages in ttm_pool_backup",
    messageID: "20260702214815.4009271-1-matthew.brost@intel.com",
    status: .mergedCommitUnknown(
      release: "stable 6.18.42 (22aa7fb4e7d0), 7.1.6 (9ddaabf38f7a)",
      confidence: .unverified(
        "5b7b3b6595ee is the fixes-tree id (linux-next pending-fixes 2026-07-15); that it is the mainline id is not checked"
      )),
    series: nil,
    files: ["drivers/gpu/drm/ttm/ttm_pool.c"],
    summary:
      "ttm_pool_backup() skips NULL and backup-handle entries: set_pages_array_wb() per run of real pages instead of over the whole array, and the same guard in the purge loop, fixing a general protection fault from kswapd."
  )

  /// "drm/ttm/pool: back up at native page order" (v7).
  public static let nativeOrderBackup = UpstreamPatch(
    slug: "native-order-backup",
    subject: "drm/ttm/pool: back up at native page order",
    messageID: "20260715080058.3794385-1-matthew.brost@intel.com",
    status: .merged(
      commit: "a3fdf74ffa5966e5b4a17f1e9c5687f73bb0d536", release: "v7.2-rc5",
      confidence: .unverified("via drm-misc-fixes-2026-07-24; the -rc tag is inferred; stable 7.1.6 as 921d6acd5761")),
    series: nil,
    files: [
      "drivers/gpu/drm/ttm/ttm_backup.c", "drivers/gpu/drm/ttm/ttm_pool.c",
      "drivers/gpu/drm/ttm/ttm_pool_internal.h", "include/drm/ttm/ttm_backup.h",
    ],
    summary:
      "ttm_pool_backup() backs each compound up whole into a contiguous shmem range and frees it once at its order, with __GFP_NOMEMALLOC above order 0; a short backup splits, frees the backed-up prefix and continues at order 0; writeback unlocks only on AOP_WRITEPAGE_ACTIVATE."
  )

  /// The four patches of `DESIGN.md`, then the three later Cc-stable fixes to the same
  /// backup code, in the order they were posted.
  public static let all: [UpstreamPatch] = [
    shmemBackupV14, gfpRetryMayfailReadback, zeroCopyInsertFolio, madviseListMove,
    dropRestoreAfterRestore, nullHandlePagesBackup, nativeOrderBackup,
  ]

  /// The patch with `slug`.
  public static func patch(_ slug: String) -> UpstreamPatch? { all.first { $0.slug == slug } }

  /// Patches that add or change a feature rather than fix a bug: their before side is the
  /// old behaviour, not a bug, so verdicts say "old behaviour" and "applied" instead of "bug
  /// reproduces" and "fixed", and their after trees may still show a break a later fix
  /// explains.
  public static let features: Set<String> = [shmemBackupV14.slug, zeroCopyInsertFolio.slug]
}
