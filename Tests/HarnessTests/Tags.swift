import Testing

extension Tag {
  /// Tests of the madvise-list-move pair (panfrost `shrinker_list`); the same tag as
  /// PatchesTests', so that one tag selects the pair and its exploration.
  @Tag static var madviseListMove: Self
}
