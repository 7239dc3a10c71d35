import BOCore
import Patches

/// "drm/panfrost: Fix shrinker list corruption by madvise IOCTL" (9fc33eaaa979, v5.19-rc7).
/// Placeholder: the Before/After seams land with the panfrost model.
public enum MadviseListMove: PatchModel {
  public static let patch = PatchCatalog.madviseListMove
  public static let requires: [String] = []

  public static func install(_ variant: Variant, into functions: inout KernelFunctions) {}
}
