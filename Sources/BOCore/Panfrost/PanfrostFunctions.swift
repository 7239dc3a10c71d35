/// The panfrost functions a kernel tree supplies (placeholder until the panfrost model lands).
public struct PanfrostFunctions: Sendable {
  public init() {}
}
