import Testing

extension Tag {
  /// Tests of the stable branches' trees.
  @Tag static var stableTrees: Self
  /// Tests that compose kernel trees.
  @Tag static var kernelTree: Self
}
