import Foundation

/// A repository shaped like the panfrost fix's real history (CVE-2022-49645), from the real
/// blobs in fixtures/kernel-files, with one more turn the record does not know: the 5.15
/// backport reverted in v5.15.57 and back in v5.15.58.
public final class PanfrostHistory {
  public let tree: TemporaryTree
  public static let panfrost = "drivers/gpu/drm/panfrost/panfrost_drv.c"
  /// Tag, panfrost_drv.c blob (nil: no panfrost driver yet).
  public static let tags: [(String, String?)] = [
    ("v5.3", nil),
    ("v5.4", "1ffaef5ec5ff"), ("v5.4.206", "1ffaef5ec5ff"), ("v5.4.207", "de533f372764"),
    ("v5.15", "1ffaef5ec5ff"), ("v5.15.55", "1ffaef5ec5ff"), ("v5.15.56", "de533f372764"),
    ("v5.15.57", "1ffaef5ec5ff"), ("v5.15.58", "de533f372764"),
    ("v5.18.12", "087e69b98d06"), ("v5.18.13", "b1e6d238674f"),
    ("v5.19", "b1e6d238674f"), ("v6.12", "671eed4ad890"),
  ]

  public init(extra: Int = 0) throws {
    tree = try TemporaryTree()
    var tags = Self.tags
    // More 6.12 tags with the same file: they must cost no more blobs.
    for i in 0..<extra { tags.append(("v6.12.\(i + 1)", "671eed4ad890")) }
    for (tag, blob) in tags {
      try tree.write("Makefile", TemporaryTree.makefile(String(tag.dropFirst())))
      if let blob {
        try tree.write(Self.panfrost, try requireKernelFile("panfrost_drv.c", blob))
      }
      try tree.commit(tag: tag)
    }
    try tree.git("tag", "android-mainline-test")
  }
}
