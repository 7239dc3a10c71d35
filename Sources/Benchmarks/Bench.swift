import BOCore
import Backport
import Foundation
import Harness
import KernelTrees
import Patches

/// One backup-and-restore measurement: one variant of one TTM patch at one tt size.
public struct BenchRoundTrip: Hashable, Codable, Sendable {
  /// The patch slug.
  public let patch: String
  /// `before` or `after`.
  public let variant: Variant
  /// The tree the variant runs on (base plus stack).
  public let tree: String
  /// The tt size in 4 KiB pages.
  public let pages: Int
  /// The machine the run used: RAM and swap in pages.
  public let memoryPages: Int
  public let swapPages: Int
  /// Seconds for `TTMDevice.swapout(bo)` (the backup), best of ``repeats``.
  public let backupSeconds: Double
  /// Seconds for `TTMDevice.populate(bo)` (the restore), best of ``repeats``.
  public let restoreSeconds: Double
  /// What the backup returned (pages swapped out, backed up or purged).
  public let backupResult: Int
  /// How many times the round trip ran.
  public let repeats: Int

  /// Pages per second of the backup.
  public var backupPagesPerSecond: Double { Double(pages) / Swift.max(backupSeconds, 1e-9) }
  /// Pages per second of the restore.
  public var restorePagesPerSecond: Double { Double(pages) / Swift.max(restoreSeconds, 1e-9) }
  /// Nanoseconds per page for backup plus restore.
  public var roundTripNanosPerPage: Double { (backupSeconds + restoreSeconds) * 1e9 / Double(pages) }

  enum CodingKeys: String, CodingKey {
    case patch, variant, tree, pages, memoryPages, swapPages, backupSeconds, restoreSeconds, backupResult, repeats
    case backupPagesPerSecond, restorePagesPerSecond, roundTripNanosPerPage
  }

  public init(
    patch: String, variant: Variant, tree: String, pages: Int, memoryPages: Int, swapPages: Int,
    backupSeconds: Double, restoreSeconds: Double, backupResult: Int, repeats: Int
  ) {
    self.patch = patch
    self.variant = variant
    self.tree = tree
    self.pages = pages
    self.memoryPages = memoryPages
    self.swapPages = swapPages
    self.backupSeconds = backupSeconds
    self.restoreSeconds = restoreSeconds
    self.backupResult = backupResult
    self.repeats = repeats
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      patch: try c.decode(String.self, forKey: .patch), variant: try c.decode(Variant.self, forKey: .variant),
      tree: try c.decode(String.self, forKey: .tree), pages: try c.decode(Int.self, forKey: .pages),
      memoryPages: try c.decode(Int.self, forKey: .memoryPages), swapPages: try c.decode(Int.self, forKey: .swapPages),
      backupSeconds: try c.decode(Double.self, forKey: .backupSeconds),
      restoreSeconds: try c.decode(Double.self, forKey: .restoreSeconds),
      backupResult: try c.decode(Int.self, forKey: .backupResult), repeats: try c.decode(Int.self, forKey: .repeats))
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(patch, forKey: .patch)
    try c.encode(variant, forKey: .variant)
    try c.encode(tree, forKey: .tree)
    try c.encode(pages, forKey: .pages)
    try c.encode(memoryPages, forKey: .memoryPages)
    try c.encode(swapPages, forKey: .swapPages)
    try c.encode(backupSeconds, forKey: .backupSeconds)
    try c.encode(restoreSeconds, forKey: .restoreSeconds)
    try c.encode(backupResult, forKey: .backupResult)
    try c.encode(repeats, forKey: .repeats)
    try c.encode(backupPagesPerSecond, forKey: .backupPagesPerSecond)
    try c.encode(restorePagesPerSecond, forKey: .restorePagesPerSecond)
    try c.encode(roundTripNanosPerPage, forKey: .roundTripNanosPerPage)
  }
}

/// How the time of one variant grows with the tt size.
public struct BenchLinearity: Hashable, Codable, Sendable {
  public let patch: String
  public let variant: Variant
  /// Round-trip nanoseconds per page at each measured size, smallest size first.
  public let nanosPerPage: [Double]
  /// The sizes, in pages, matching ``nanosPerPage``.
  public let sizes: [Int]
  /// Per-page time at the largest size divided by that at the smallest.
  public let largestOverSmallest: Double
  /// The largest per-page time over the smallest, whichever sizes they are at.
  public let maxOverMin: Double
  /// Whether ``largestOverSmallest`` stays within ``Bench/linearityLimit``.
  public let linear: Bool
}

/// The model's memory per simulated page.
public struct BenchMemory: Hashable, Codable, Sendable {
  /// `MemoryLayout<PageFrame>.stride`: the frame table's bytes per page of RAM.
  public let pageFrameStride: Int
  /// `MemoryLayout<TTMPagePointer>.stride`: a tt page-array slot.
  public let ttSlotStride: Int
  /// The pages of the machine measured by resident size.
  public let machinePages: Int
  /// Resident bytes (`/proc/self/statm`) gained by booting a machine of ``machinePages``
  /// pages and no swap, divided by its pages; `nil` where `/proc/self/statm` is missing.
  public let bootResidentBytesPerPage: Double?
  /// The same after also populating and filling a tt covering all of its pages.
  public let populatedResidentBytesPerPage: Double?

  enum CodingKeys: String, CodingKey {
    case pageFrameStride, ttSlotStride, machinePages, bootResidentBytesPerPage, populatedResidentBytesPerPage
  }

  public init(
    pageFrameStride: Int, ttSlotStride: Int, machinePages: Int, bootResidentBytesPerPage: Double?,
    populatedResidentBytesPerPage: Double?
  ) {
    self.pageFrameStride = pageFrameStride
    self.ttSlotStride = ttSlotStride
    self.machinePages = machinePages
    self.bootResidentBytesPerPage = bootResidentBytesPerPage
    self.populatedResidentBytesPerPage = populatedResidentBytesPerPage
  }

  /// Writes a value that was not measured as null, not by leaving the key out.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(pageFrameStride, forKey: .pageFrameStride)
    try c.encode(ttSlotStride, forKey: .ttSlotStride)
    try c.encode(machinePages, forKey: .machinePages)
    try c.encode(bootResidentBytesPerPage, forKey: .bootResidentBytesPerPage)
    try c.encode(populatedResidentBytesPerPage, forKey: .populatedResidentBytesPerPage)
  }
}

/// A timed run of the full regression matrix.
public struct BenchMatrix: Hashable, Codable, Sendable {
  public let branches: Int
  public let scenarios: Int
  public let cells: Int
  /// Loading `fixtures/stable-branches.json` and `fixtures/scenarios`.
  public let loadSeconds: Double
  /// `RegressionMatrix.compute(branches:scenarios:)`.
  public let computeSeconds: Double
  public var totalSeconds: Double { loadSeconds + computeSeconds }

  enum CodingKeys: String, CodingKey {
    case branches, scenarios, cells, loadSeconds, computeSeconds, totalSeconds
  }

  public init(branches: Int, scenarios: Int, cells: Int, loadSeconds: Double, computeSeconds: Double) {
    self.branches = branches
    self.scenarios = scenarios
    self.cells = cells
    self.loadSeconds = loadSeconds
    self.computeSeconds = computeSeconds
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      branches: try c.decode(Int.self, forKey: .branches), scenarios: try c.decode(Int.self, forKey: .scenarios),
      cells: try c.decode(Int.self, forKey: .cells), loadSeconds: try c.decode(Double.self, forKey: .loadSeconds),
      computeSeconds: try c.decode(Double.self, forKey: .computeSeconds))
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(branches, forKey: .branches)
    try c.encode(scenarios, forKey: .scenarios)
    try c.encode(cells, forKey: .cells)
    try c.encode(loadSeconds, forKey: .loadSeconds)
    try c.encode(computeSeconds, forKey: .computeSeconds)
    try c.encode(totalSeconds, forKey: .totalSeconds)
  }
}

/// A timed madvise exploration, both variants.
public struct BenchExploration: Hashable, Codable, Sendable {
  public let bos: Int
  public let depth: Int
  /// Seconds for both variants together.
  public let seconds: Double
  /// Transitions run (one step from one distinct state), both variants.
  public let transitions: Int
  /// Distinct sound states, both variants.
  public let soundStates: Int
  /// ``transitions`` per second: each transition computes one successor state.
  public let statesPerSecond: Double
}

/// One budget from the issue and whether it was met.
public struct BenchBudget: Hashable, Codable, Sendable {
  public let name: String
  public let limitSeconds: Double
  /// The worst measured value, or `nil` when not measured (e.g. `--quick`).
  public let measuredSeconds: Double?
  /// What ``measuredSeconds`` is.
  public let detail: String
  public var met: Bool? { measuredSeconds.map { $0 < limitSeconds } }

  enum CodingKeys: String, CodingKey { case name, limitSeconds, measuredSeconds, detail, met }

  public init(name: String, limitSeconds: Double, measuredSeconds: Double?, detail: String) {
    self.name = name
    self.limitSeconds = limitSeconds
    self.measuredSeconds = measuredSeconds
    self.detail = detail
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    self.init(
      name: try c.decode(String.self, forKey: .name), limitSeconds: try c.decode(Double.self, forKey: .limitSeconds),
      measuredSeconds: try c.decodeIfPresent(Double.self, forKey: .measuredSeconds),
      detail: try c.decode(String.self, forKey: .detail))
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(name, forKey: .name)
    try c.encode(limitSeconds, forKey: .limitSeconds)
    try c.encode(measuredSeconds, forKey: .measuredSeconds)
    try c.encode(detail, forKey: .detail)
    try c.encode(met, forKey: .met)
  }
}

/// Everything `bo-repro bench` measures.
public struct BenchReport: Hashable, Codable, Sendable {
  /// `release` or `debug`: the build the numbers come from.
  public let build: String
  /// What each measured operation is.
  public let operations: [String: String]
  public let sizes: [Int]
  public let roundTrips: [BenchRoundTrip]
  public let linearity: [BenchLinearity]
  public let memory: BenchMemory
  public let matrix: BenchMatrix
  public let exploration: BenchExploration
  public let scan: BenchScan
  public let budgets: [BenchBudget]
}

/// Why a benchmark run failed: a round trip that did not succeed or lost content.
public struct BenchError: Error, CustomStringConvertible {
  public let description: String
}

/// The measurements of `bo-repro bench`: TTM backup and restore throughput per patch variant
/// and size, linearity, the model's memory per page, the matrix and the madvise exploration.
public enum Bench {
  /// The TTM patches measured: every modelled patch but the panfrost one.
  public static var ttmPatches: [any PatchModel.Type] {
    PatchModels.all.filter { $0.patch.slug != PatchCatalog.madviseListMove.slug }
  }

  /// The 1 GiB tt of the budget, in pages.
  public static let budgetPages = 262_144
  /// A per-page time growing more than this from the smallest to the largest size is
  /// reported as non-linear.
  public static let linearityLimit = 2.0

  /// Memory beyond twice the tt: slack for the allocator's splitting and the restore state.
  static func machine(forPages pages: Int) -> (memory: Int, swap: Int) {
    (memory: 2 * pages + Swift.max(1024, pages / 8), swap: pages)
  }

  /// What each measured operation is, for the output.
  public static let operations: [String: String] = [
    "setup (not timed)":
      "boot a machine of RAM = 2*tt + max(1024, tt/8) pages and swap = tt pages (the legacy swapout of "
      + "shmem-backup-v14 before needs a full second copy), create a TTM device from the variant's kernel tree "
      + "(KernelTree.pair) with the default pool (orders up to MAX_PAGE_ORDER), create a cached BO, populate it "
      + "and fill every page with a seeded pattern",
    "backup": "TTMDevice.swapout(bo) with default flags (no purge, no writeback): ttm_bo_swapout()/ttm_tt_swapout() "
      + "before shmem-backup-v14, ttm_bo_shrink()/ttm_tt_backup()/ttm_pool_backup() after it",
    "restore": "TTMDevice.populate(bo): ttm_tt_populate() allocating the pages again and reading the content back "
      + "(ttm_tt_swapin() or ttm_pool_restore_and_alloc())",
    "check (not timed)": "every page's content is compared with the pattern; a loss fails the run",
    "matrix":
      "load fixtures/stable-branches.json and fixtures/scenarios, then RegressionMatrix.compute over every branch",
    "exploration": "MadviseExploration.run for before and after, 3 BOs, depth 8, CONFIG_DEBUG_LIST off",
  ]

  /// Seconds of `body`.
  static func time<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let clock = ContinuousClock()
    var result: T?
    let elapsed = try clock.measure { result = try body() }
    return (result!, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
  }

  /// Backs up and restores one BO of `pages` pages on `variant` of `model`, `repeats` times on
  /// the same machine, and keeps the best times.
  public static func roundTrip(_ model: any PatchModel.Type, _ variant: Variant, pages: Int, repeats: Int) throws
    -> BenchRoundTrip
  {
    let tree = KernelTree.pair(model, variant)
    let size = machine(forPages: pages)
    let machine = Machine(MachineConfig(memoryPages: size.memory, swapPages: size.swap))
    let device = tree.makeDevice(on: machine, pool: TTMPool())
    let bo = try device.createBO(numPages: pages, name: "bench")
    let what = "\(model.patch.slug) \(variant) at \(pages) pages"
    let populated = try device.populate(bo)
    guard populated == 0 else { throw BenchError(description: "\(what): populate returned \(populated)") }
    device.fill(bo, seed: 1)
    var best = (backup: Double.infinity, restore: Double.infinity)
    var backupResult = 0
    for _ in 0..<repeats {
      let (backed, backupSeconds) = try time { try device.swapout(bo) }
      guard backed > 0 else { throw BenchError(description: "\(what): backup returned \(backed)") }
      backupResult = backed
      let (restored, restoreSeconds) = try time { try device.populate(bo) }
      guard restored == 0 else { throw BenchError(description: "\(what): restore returned \(restored)") }
      let bad = device.checkContent(bo, seed: 1)
      guard bad.isEmpty else { throw BenchError(description: "\(what): \(bad.count) pages lost their content") }
      best = (Swift.min(best.backup, backupSeconds), Swift.min(best.restore, restoreSeconds))
    }
    try device.destroy(bo)
    device.fini()
    return BenchRoundTrip(
      patch: model.patch.slug, variant: variant, tree: tree.description, pages: pages, memoryPages: size.memory,
      swapPages: size.swap, backupSeconds: best.backup, restoreSeconds: best.restore, backupResult: backupResult,
      repeats: repeats)
  }

  /// Linearity per (patch, variant) from `runs`.
  public static func linearity(_ runs: [BenchRoundTrip]) -> [BenchLinearity] {
    var keys: [(String, Variant)] = []
    for r in runs where !keys.contains(where: { $0 == (r.patch, r.variant) }) { keys.append((r.patch, r.variant)) }
    return keys.map { key in
      let rs = runs.filter { ($0.patch, $0.variant) == key }.sorted { $0.pages < $1.pages }
      let ns = rs.map(\.roundTripNanosPerPage)
      let ratio = (ns.last ?? 0) / Swift.max(ns.first ?? 1, 1e-9)
      let maxOverMin = (ns.max() ?? 0) / Swift.max(ns.min() ?? 1, 1e-9)
      return BenchLinearity(
        patch: key.0, variant: key.1, nanosPerPage: ns, sizes: rs.map(\.pages), largestOverSmallest: ratio,
        maxOverMin: maxOverMin, linear: ratio <= linearityLimit)
    }
  }

  /// Resident bytes of this process from `/proc/self/statm`.
  static func residentBytes() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
  }

  /// The model's memory per simulated page: the frame-table stride, and the resident size
  /// gained by a machine of `pages` pages, then by a tt populated over all of them.
  public static func memory(pages: Int) throws -> BenchMemory {
    let before = residentBytes()
    let machine = Machine(MachineConfig(memoryPages: pages, swapPages: 0))
    let booted = residentBytes()
    let device = KernelTree.pair(PatchModels.model(PatchCatalog.shmemBackupV14.slug)!, .after).makeDevice(
      on: machine, pool: TTMPool())
    let bo = try device.createBO(numPages: pages, name: "bench-memory")
    let ret = try device.populate(bo)
    guard ret == 0 else { throw BenchError(description: "memory: populate returned \(ret)") }
    device.fill(bo, seed: 1)
    let populated = residentBytes()
    try device.destroy(bo)
    device.fini()
    func perPage(_ after: Int?) -> Double? {
      guard let before, let after else { return nil }
      return Double(after - before) / Double(pages)
    }
    return withExtendedLifetime(machine) {
      BenchMemory(
        pageFrameStride: MemoryLayout<PageFrame>.stride, ttSlotStride: MemoryLayout<TTMPagePointer>.stride,
        machinePages: pages, bootResidentBytesPerPage: perPage(booted),
        populatedResidentBytesPerPage: perPage(populated))
    }
  }

  /// Loads the fixtures at `branches` and `scenarios` and computes the full matrix, timed.
  public static func matrix(branches: String, scenarios: String) throws -> BenchMatrix {
    let ((set, library), load) = try time {
      (
        try StableBranchSet(contentsOf: branches),
        try ScenarioLibrary.load(directory: scenarios)
      )
    }
    let (rows, compute) = try time { try RegressionMatrix.compute(branches: set.branches, scenarios: library) }
    return BenchMatrix(
      branches: rows.count, scenarios: library.count, cells: rows.reduce(0) { $0 + $1.cells.count },
      loadSeconds: load, computeSeconds: compute)
  }

  /// The madvise exploration over `bos` BOs to `depth`, both variants, timed.
  public static func exploration(bos: Int = 3, depth: Int = 8) throws -> BenchExploration {
    let (results, seconds) = try time {
      try [Variant.before, .after].map { try MadviseExploration.run($0, bos: bos, depth: depth, listDebug: .off) }
    }
    let transitions = results.reduce(0) { $0 + $1.transitions }
    return BenchExploration(
      bos: bos, depth: depth, seconds: seconds, transitions: transitions,
      soundStates: results.reduce(0) { $0 + $1.soundStates },
      statesPerSecond: Double(transitions) / Swift.max(seconds, 1e-9))
  }

  /// Runs everything: round trips at `2^minOrder ... 2^maxOrder` pages for every variant of
  /// every TTM patch, memory, matrix and exploration. `progress` gets a line per step.
  /// `repeats` is how often each round trip runs at sizes up to 2^14 pages (larger ones run
  /// twice); the best time counts.
  public static func run(
    minOrder: Int = 10, maxOrder: Int = 20, repeats: Int = 5, build: String, branches: String, scenarios: String,
    patches: String, kernelFiles: String, progress: (String) -> Void = { _ in }
  ) throws -> BenchReport {
    // Memory first, before earlier runs leave freed heap behind that a new machine would reuse.
    let memoryPages = 1 << Swift.min(maxOrder, 18)
    progress("memory: machine of \(memoryPages) pages")
    let memory = try memory(pages: memoryPages)
    let sizes = (minOrder...maxOrder).map { 1 << $0 }
    var runs: [BenchRoundTrip] = []
    for model in ttmPatches {
      for variant in Variant.allCases {
        for pages in sizes {
          progress("round trip: \(model.patch.slug) \(variant) \(pages) pages")
          runs.append(try roundTrip(model, variant, pages: pages, repeats: pages <= 1 << 14 ? repeats : 2))
        }
      }
    }
    progress("matrix")
    let matrix = try matrix(branches: branches, scenarios: scenarios)
    progress("exploration")
    let exploration = try exploration()
    progress("scan: one tree, 20 refs of a repository built for it, 1x/4x/16x file sizes")
    let scan = try scan(patches: patches, kernelFiles: kernelFiles, repeats: repeats)
    let atBudget = runs.filter { $0.pages == budgetPages }
    let worst = atBudget.max { $0.backupSeconds + $0.restoreSeconds < $1.backupSeconds + $1.restoreSeconds }
    let budgets = [
      BenchBudget(
        name: "1 GiB tt (262,144 pages) backed up and restored", limitSeconds: 0.5,
        measuredSeconds: worst.map { $0.backupSeconds + $0.restoreSeconds },
        detail: worst.map { "slowest variant: \($0.patch) \($0.variant)" } ?? "sizes stop below 2^18 pages"),
      BenchBudget(
        name: "full matrix", limitSeconds: 2, measuredSeconds: matrix.totalSeconds,
        detail: "\(matrix.branches) branches, \(matrix.cells) cells, load + compute"),
      BenchBudget(
        name: "madvise exploration, 3 BOs, depth 8", limitSeconds: 10, measuredSeconds: exploration.seconds,
        detail: "before and after together"),
      BenchBudget(
        name: "scan of one tree (all files)", limitSeconds: 0.02, measuredSeconds: scan.treeSeconds,
        detail: "\(scan.treeBytes) bytes, 7 patches"),
      BenchBudget(
        name: "matrix --git over 20 refs", limitSeconds: 1, measuredSeconds: scan.gitMatrixSeconds,
        detail: "\(scan.refs) refs, one cat-file process, \(scan.gitObjects) objects"),
    ]
    return BenchReport(
      build: build, operations: operations, sizes: sizes, roundTrips: runs, linearity: linearity(runs),
      memory: memory, matrix: matrix, exploration: exploration, scan: scan, budgets: budgets)
  }
}
