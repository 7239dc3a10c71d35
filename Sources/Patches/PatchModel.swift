import BOCore

/// Which side of a patch a tree carries.
public enum Variant: String, Hashable, Codable, Sendable, CaseIterable, CustomStringConvertible {
  /// The code as it was before the patch.
  case before
  /// The code with the patch applied.
  case after

  public var description: String { rawValue }
}

/// The model of one upstream patch: which seams its hunks touch, and their code before and
/// after it.
///
/// Each patch folder holds `Before.swift` and `After.swift` with the same functions, so that
/// `diff Before.swift After.swift` reads like the upstream diff. A function lives on the
/// Before side of the first later patch that changes it, and on the After side of the patch
/// that introduced it only while no later patch changes it, so nothing is written twice.
public protocol PatchModel: Sendable {
  /// The catalog entry.
  static var patch: UpstreamPatch { get }
  /// Slugs of the patches whose code this one changes: they must be in a tree's stack
  /// before this patch, and without them the code this patch touches does not exist.
  static var requires: [String] { get }
  /// Slugs of patches that rewrite the same code another way: a tree carries at most one
  /// of them, since the model has no version of the code with both.
  static var excludes: [String] { get }
  /// Modelled patches, beyond ``requires``, that the code this patch was written against
  /// already carries (its `index` pre-images say so). ``KernelTree/pair(_:_:)`` applies them,
  /// so that the Before side runs on the code the patch's hunks were made against; a model
  /// that leaves one out says why (the NULL/handle fix leaves out "Drop tt->restore").
  static var writtenOn: [String] { get }
  /// Installs the seams of `variant` into `functions`.
  static func install(_ variant: Variant, into functions: inout KernelFunctions)
}

extension PatchModel {
  /// Most patches exclude none.
  public static var excludes: [String] { [] }
  /// Most patches' pre-images carry no modelled patch beyond their prerequisites.
  public static var writtenOn: [String] { [] }
}
