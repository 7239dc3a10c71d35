/// The panfrost functions a kernel tree supplies: every panfrost function an upstream patch
/// touches is one of these seams, so the core never asks which patches are applied.
///
/// `Sources/Patches` fills the table from a tree's base and patch stack (the Before or After
/// side of `madvise-list-move`); each closure is the transliteration of the kernel function
/// named in its documentation.
public struct PanfrostFunctions: Sendable {
  /// `panfrost_ioctl_madvise()` (`drivers/gpu/drm/panfrost/panfrost_drv.c`), the handler of
  /// `DRM_IOCTL_PANFROST_MADVISE`: look up the BO, check that DONTNEED comes from its only
  /// user, update `madv` through `drm_gem_shmem_madvise()`, set `args.retained`, and put a
  /// retained BO on `pfdev->shrinker_list` (DONTNEED) or take it off (WILLNEED). Returns 0 or
  /// a negative errno.
  public var panfrostIoctlMadvise: @Sendable (PanfrostDevice, inout DRMPanfrostMadvise, PanfrostFile) throws -> Int

  /// A table in which every seam traps until a tree supplies it; the tree composition in
  /// `Sources/KernelTrees` fills it.
  public init() {
    panfrostIoctlMadvise = { _, _, _ in unsuppliedPanfrost("panfrost_ioctl_madvise") }
  }
}

private func unsuppliedPanfrost(_ name: String) -> Never {
  preconditionFailure("\(name): not supplied by this tree (no patch of this kernel tree supplies it)")
}
