/// Everything a kernel tree supplies to the core: one seam table per subsystem a modelled
/// patch touches. `Sources/KernelTrees` composes it from a base and a patch stack.
public struct KernelFunctions: Sendable {
  /// TTM (`drivers/gpu/drm/ttm`, with the xe-style driver).
  public var ttm = TTMFunctions()
  /// panfrost (`drivers/gpu/drm/panfrost`).
  public var panfrost = PanfrostFunctions()

  public init() {}
}
