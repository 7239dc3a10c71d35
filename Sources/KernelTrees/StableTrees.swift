import Patches

/// The kernel trees of the stable branches the TTM backup fixes reached, as far as the record
/// shows (`branch-facts.md` sections D and E). The full branch list with evidence and
/// confidence per patch is `fixtures/stable-branches.json` (issue 5); these are the stacks the
/// three later fixes need to be right about.
public enum StableTrees {
  /// A branch: its name, the patches its tree carries in stack order, and why.
  public struct Branch: Sendable {
    public let name: String
    public let stack: [String]
    public let evidence: String

    /// The composed tree.
    public var tree: KernelTree {
      // The stacks below are written to satisfy every prerequisite; a test checks it.
      try! KernelTree(base: name, stack: stack)
    }
  }

  public static let branches: [Branch] = [
    Branch(
      name: "6.18.y",
      stack: [PatchCatalog.shmemBackupV14.slug, PatchCatalog.nullHandlePagesBackup.slug],
      evidence:
        "6.18.42 carries the NULL/handle fix (22aa7fb4e7d0); native-order is not in 6.18.42-rc1; the gfp fix was only AUTOSEL-proposed (UNVERIFIED, probably not applied); no Drop tt->restore backport found"
    ),
    Branch(
      name: "7.1.y",
      stack: [
        PatchCatalog.shmemBackupV14.slug, PatchCatalog.gfpRetryMayfailReadback.slug,
        PatchCatalog.nullHandlePagesBackup.slug, PatchCatalog.nativeOrderBackup.slug,
      ],
      evidence:
        "v7.1 has c6135f67 from mainline; 7.1.6 carries native-order (921d6acd5761) and the NULL/handle fix (9ddaabf38f7a); no Drop tt->restore backport found (UNVERIFIED)"
    ),
    Branch(
      name: "7.2.y",
      stack: [
        PatchCatalog.shmemBackupV14.slug, PatchCatalog.gfpRetryMayfailReadback.slug,
        PatchCatalog.nullHandlePagesBackup.slug, PatchCatalog.nativeOrderBackup.slug,
        PatchCatalog.dropRestoreAfterRestore.slug,
      ],
      evidence:
        "native-order is in v7.2 (a3fdf74ffa59, likely -rc5) and the NULL/handle fix came through the fixes tree; 7.2.5 carries Drop tt->restore (a46ab76b6cf5)"
    ),
    Branch(
      name: "mainline",
      stack: [
        PatchCatalog.shmemBackupV14.slug, PatchCatalog.gfpRetryMayfailReadback.slug,
        PatchCatalog.nullHandlePagesBackup.slug, PatchCatalog.nativeOrderBackup.slug,
        PatchCatalog.dropRestoreAfterRestore.slug,
      ],
      evidence: "every patch but zero-copy (not merged); Drop tt->restore via drm-misc-next for 7.3"
    ),
  ]

  /// The branch named `name`, if listed.
  public static func branch(_ name: String) -> Branch? { branches.first { $0.name == name } }
}
