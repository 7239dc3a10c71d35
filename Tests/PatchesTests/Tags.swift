import Testing

extension Tag {
  /// Tests of the shmem-backup-v14 pair.
  @Tag static var shmemBackupV14: Self
  /// Tests of the gfp-retry-mayfail-readback pair.
  @Tag static var gfpRetryMayfailReadback: Self
  /// Tests of the zero-copy-insert-folio pair.
  @Tag static var zeroCopyInsertFolio: Self
  /// Tests of the drop-restore-after-restore pair.
  @Tag static var dropRestoreAfterRestore: Self
  /// Tests of the null-handle-pages-backup pair.
  @Tag static var nullHandlePagesBackup: Self
  /// Tests of the native-order-backup pair.
  @Tag static var nativeOrderBackup: Self
  /// Tests of the xe-style BO shrinker of the v14 tree.
  @Tag static var boShrinker: Self
}
