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

let package = Package(
  name: "bo-repro",
  products: [
    .library(name: "BOCore", targets: ["BOCore"]),
    .library(name: "Patches", targets: ["Patches"]),
    .library(name: "Backport", targets: ["Backport"]),
    .executable(name: "bo-repro", targets: ["bo-repro"]),
  ],
  targets: [
    .target(name: "BOCore", swiftSettings: strictSettings),
    .target(name: "Patches", dependencies: ["BOCore"], swiftSettings: strictSettings),
    .target(name: "Backport", dependencies: ["BOCore", "Patches"], swiftSettings: strictSettings),
    .executableTarget(
      name: "bo-repro",
      dependencies: ["BOCore", "Patches", "Backport"],
      swiftSettings: strictSettings
    ),
    .testTarget(name: "BOCoreTests", dependencies: ["BOCore"], swiftSettings: strictSettings),
    .testTarget(
      name: "PatchesTests",
      dependencies: ["Patches", "Backport"],
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
