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

/// The package's data, `patches/` and `fixtures/`, as SwiftPM resources, so that the built tool
/// works outside the checkout. Resources must lie inside their target's folder, so this target
/// is rooted at the package and names its one source file; everything else at the root is
/// excluded (a new file or folder there must be added here, or the build warns).
let packageDataTarget: Target = .target(
  name: "PackageData", path: ".",
  exclude: [
    "Sources/JSONText", "Sources/PatchText", "Sources/PatchMail", "Sources/BOCore", "Sources/Patches",
    "Sources/KernelTrees",
    "Sources/Harness", "Sources/Backport", "Sources/History", "Sources/Benchmarks", "Sources/bo-repro",
    "Sources/PackageData/README.md",
    "Tests", "Package.swift", "README.md", "CHANGELOG.md", "BENCHMARKS.md",
  ],
  sources: ["Sources/PackageData/PackageData.swift"],
  resources: [.copy("patches"), .copy("fixtures")],
  swiftSettings: strictSettings)

/// The library targets in dependency order, as the data flows: patch text -> models ->
/// trees -> harness -> products -> command line. Each folder's README.md says what the room
/// holds, what it may import and what it must not; README.md's "Architecture" section lists
/// them.
let libraryTargets: [Target] = [
  // JSON: an ordered value, a strict reader, a writer. Standard library only.
  .target(name: "JSONText", exclude: ["README.md"], swiftSettings: strictSettings),
  // Text: patch files, blob ids, hunk application. Foundation only, no model.
  .target(name: "PatchText", exclude: ["README.md"], swiftSettings: strictSettings),
  // Mail: mboxes and patch mails as the stable workflow sends them, decoded to patches;
  // git patch-id. Foundation and the patch text only.
  .target(name: "PatchMail", dependencies: ["PatchText"], exclude: ["README.md"], swiftSettings: strictSettings),
  // Models: the shared BO core, the patch catalog and protocol (one target per pair above).
  .target(name: "BOCore", exclude: ["README.md"], swiftSettings: strictSettings),
  .target(
    name: "Patches", dependencies: ["BOCore"], exclude: patchModels.map(\.folder) + ["README.md"],
    swiftSettings: strictSettings),
  // Trees: a base plus a stack of patch models.
  .target(
    name: "KernelTrees", dependencies: ["BOCore", "Patches"] + patchModelDependencies, exclude: ["README.md"],
    swiftSettings: strictSettings),
  // Harness: scenarios, fault sweeps, fuzzing, exhaustive exploration.
  .target(
    name: "Harness",
    dependencies: ["JSONText", "PatchText", "BOCore", "Patches", "KernelTrees", "MadviseListMoveModel"],
    exclude: ["README.md"], swiftSettings: strictSettings),
  // Products: stable-branch data, the regression matrix, the review note, the listing.
  .target(
    name: "Backport", dependencies: ["JSONText", "PatchText", "PatchMail", "Patches", "KernelTrees", "Harness"],
    exclude: ["README.md"],
    swiftSettings: strictSettings),
  // History: when each branch got each behaviour, and the same as CVE version ranges.
  .target(
    name: "History", dependencies: ["JSONText", "PatchText", "Patches", "Harness", "Backport"],
    exclude: ["README.md"], swiftSettings: strictSettings),
  // Measurement: the benchmark driver behind `bo-repro bench`.
  .target(
    name: "Benchmarks",
    dependencies: ["PatchText", "BOCore", "Patches", "KernelTrees", "Harness", "Backport", "History"],
    exclude: ["README.md"], swiftSettings: strictSettings),
  // The command line, and the data it ships (patches/, fixtures/) as resources.
  packageDataTarget,
  .executableTarget(
    name: "bo-repro",
    dependencies: [
      "JSONText", "PatchText", "PatchMail", "BOCore", "Patches", "KernelTrees", "Harness", "Backport", "History",
      "Benchmarks", "PackageData",
    ],
    exclude: ["README.md"], swiftSettings: strictSettings),
]

/// Test support: package paths and the tool runner (no model), and the model rigs.
let testSupportTargets: [Target] = [
  .target(name: "PackageTestSupport", path: "Tests/PackageTestSupport", swiftSettings: strictSettings),
  .target(
    name: "ModelTestSupport", dependencies: ["BOCore", "Patches", "KernelTrees", "MadviseListMoveModel"],
    path: "Tests/ModelTestSupport", swiftSettings: strictSettings),
]

/// The tests, mirroring the library targets. PatchTextTests links no model, so a model change
/// never rebuilds it.
let testTargets: [Target] = [
  .testTarget(
    name: "PatchTextTests", dependencies: ["PatchText", "PackageTestSupport"], swiftSettings: strictSettings),
  .testTarget(
    name: "PatchMailTests", dependencies: ["PatchText", "PatchMail", "PackageTestSupport"],
    swiftSettings: strictSettings),
  .testTarget(name: "BOCoreTests", dependencies: ["BOCore"], swiftSettings: strictSettings),
  .testTarget(
    name: "PatchesTests",
    dependencies: ["PatchText", "BOCore", "Patches", "KernelTrees", "ModelTestSupport", "PackageTestSupport"]
      + patchModelDependencies,
    swiftSettings: strictSettings),
  .testTarget(
    name: "KernelTreesTests",
    dependencies: ["BOCore", "Patches", "KernelTrees", "ModelTestSupport"] + patchModelDependencies,
    swiftSettings: strictSettings),
  .testTarget(
    name: "HarnessTests",
    dependencies: [
      "BOCore", "Patches", "KernelTrees", "Harness", "MadviseListMoveModel", "DropRestoreAfterRestoreModel",
      "ModelTestSupport", "PackageTestSupport",
    ],
    swiftSettings: strictSettings),
  .testTarget(
    name: "BackportTests",
    dependencies: [
      "JSONText", "PatchText", "PatchMail", "Patches", "KernelTrees", "Harness", "Backport", "PackageTestSupport",
    ],
    swiftSettings: strictSettings),
  .testTarget(
    name: "HistoryTests",
    dependencies: ["JSONText", "PatchText", "Patches", "Harness", "Backport", "History", "PackageTestSupport"],
    swiftSettings: strictSettings),
  // The built tool, run as a process.
  .testTarget(name: "CommandTests", dependencies: ["PackageTestSupport"], swiftSettings: strictSettings),
]

let package = Package(
  name: "bo-repro",
  products: [
    .library(name: "PatchText", targets: ["PatchText"]),
    .library(name: "PatchMail", targets: ["PatchMail"]),
    .library(name: "BOCore", targets: ["BOCore"]),
    .library(name: "Patches", targets: ["Patches"]),
    .library(name: "KernelTrees", targets: ["KernelTrees"]),
    .library(name: "Harness", targets: ["Harness"]),
    .library(name: "Backport", targets: ["Backport"]),
    .library(name: "History", targets: ["History"]),
    .executable(name: "bo-repro", targets: ["bo-repro"]),
  ],
  targets: patchModelTargets + libraryTargets + testSupportTargets + testTargets,
  swiftLanguageModes: [.v6]
)
