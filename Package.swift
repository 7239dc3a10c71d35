// swift-tools-version: 6.2
//
// bo-repro: executable models of upstream Linux kernel memory-management patches
// (TTM shmem backup, swap readback gfp, zero-copy swapout, panfrost madvise), each as a
// before/after pair over one shared buffer-object core.

import PackageDescription

/// Settings every target shares: Swift 6 language mode comes from `swiftLanguageModes`;
/// warnings are errors, and two upcoming features keep existentials and imports explicit.
let strictSettings: [SwiftSetting] = [
  .treatAllWarnings(as: .error),
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("MemberImportVisibility"),
]

/// One target per patch model: each patch folder holds a `Before.swift` and an `After.swift`,
/// and SwiftPM needs distinct file names within a target.
let patchModels: [(folder: String, target: String)] = [
  ("ShmemBackupV14", "ShmemBackupV14Model"),
  ("GFPRetryMayfailReadback", "GFPRetryMayfailReadbackModel"),
  ("ZeroCopyInsertFolio", "ZeroCopyInsertFolioModel"),
  ("MadviseListMove", "MadviseListMoveModel"),
  ("DropRestoreAfterRestore", "DropRestoreAfterRestoreModel"),
  ("NullHandlePagesBackup", "NullHandlePagesBackupModel"),
  ("NativeOrderBackup", "NativeOrderBackupModel"),
]

let patchModelTargets: [Target] = patchModels.map { model in
  .target(
    name: model.target, dependencies: ["BOCore", "Patches"], path: "Sources/Patches/\(model.folder)",
    swiftSettings: strictSettings)
}
let patchModelDependencies: [Target.Dependency] = patchModels.map { .target(name: $0.target) }

let package = Package(
  name: "bo-repro",
  products: [
    .library(name: "BOCore", targets: ["BOCore"]),
    .library(name: "Patches", targets: ["Patches"]),
    .library(name: "KernelTrees", targets: ["KernelTrees"]),
    .library(name: "Backport", targets: ["Backport"]),
    .executable(name: "bo-repro", targets: ["bo-repro"]),
  ],
  targets: patchModelTargets + [
    .target(name: "BOCore", swiftSettings: strictSettings),
    .target(
      name: "Patches", dependencies: ["BOCore"], exclude: patchModels.map(\.folder),
      swiftSettings: strictSettings),
    .target(
      name: "KernelTrees", dependencies: ["BOCore", "Patches"] + patchModelDependencies,
      swiftSettings: strictSettings),
    .target(
      name: "Backport", dependencies: ["BOCore", "Patches", "KernelTrees"], swiftSettings: strictSettings),
    .executableTarget(
      name: "bo-repro",
      dependencies: ["BOCore", "Patches", "KernelTrees", "Backport"],
      swiftSettings: strictSettings
    ),
    .testTarget(name: "BOCoreTests", dependencies: ["BOCore"], swiftSettings: strictSettings),
    .testTarget(
      name: "PatchesTests",
      dependencies: ["BOCore", "Patches", "KernelTrees", "Backport"] + patchModelDependencies,
      swiftSettings: strictSettings
    ),
    .testTarget(
      name: "BackportTests",
      dependencies: ["Backport"],
      swiftSettings: strictSettings
    ),
  ],
  swiftLanguageModes: [.v6]
)
