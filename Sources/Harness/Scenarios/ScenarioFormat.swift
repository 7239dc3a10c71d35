import BOCore

// The parsed form of a scenario file (fixtures/scenarios/README.md documents the format).

/// Which device model a scenario drives: TTM for every backup patch, panfrost for the madvise fix.
public enum ScenarioDriver: String, Hashable, Sendable {
  case ttm
  case panfrost
}

/// The machine a scenario boots (the file's `setup`).
public struct ScenarioSetup: Hashable, Sendable {
  /// RAM in 4 KiB pages.
  public var memoryPages: Int
  /// Swap slots.
  public var swapPages: Int
  /// The min watermark in pages (low and high follow from it); 0 for none.
  public var watermarkMin: Int
  /// The largest order the TTM pool allocates.
  public var poolOrder: Int
  /// The largest folio order new shmem files take (0: small folios only).
  public var shmemLargeFolioOrder: Int
  /// `CONFIG_DEBUG_LIST` (panfrost; 5.x message wording).
  public var debugList: Bool
  /// `CONFIG_BUG_ON_DATA_CORRUPTION` with DEBUG_LIST: a list report is a BUG.
  public var bugOnDataCorruption: Bool
  /// `CONFIG_FAULT_INJECTION`.
  public var faultInjection: Bool
  /// The kind of TTM driver (``TTMDriverStyle``): which swapout path reaches its BOs.
  public var ttmDriver: TTMDriverStyle = .xe
  /// `ttm_pool_uses_dma_alloc()`.
  public var poolDMAAlloc = false
  /// `ttm_pool_uses_dma32()`.
  public var poolDMA32 = false
  /// VRAM pages of the TTM device (0: none).
  public var vramPages = 0
  /// `ttm_pages_limit`, if the scenario sets the module parameter (default: half of RAM).
  public var ttmPagesLimit: Int?
}

/// A task a scenario starts: `comm` holding `rssPages` pages, or every free page but `leaveFree`.
public struct ScenarioTask: Hashable, Sendable {
  public enum Size: Hashable, Sendable {
    case rssPages(Int)
    case leaveFree(Int)
  }
  public var comm: String
  public var size: Size
  public var oomScoreAdj: Int
}

/// A `ttm_operation_ctx` as a step spells it.
public struct ScenarioContext: Hashable, Sendable {
  public var interruptible: Bool
  public var gfpRetryMayfail: Bool
  public var noWaitGPU: Bool
}

/// One step of a scenario.
public enum ScenarioOp: Hashable, Sendable {
  /// TTM: create a BO in `placement` (and, if `filled`, populate it and fill it with `seed`).
  /// Panfrost: create a BO (its pages are allocated at creation) and, if `filled`, fill it.
  case create(bo: String, pages: Int, caching: TTMCaching, filled: Bool, seed: UInt64, placement: TTMMemType)
  /// `ttm_tt_populate()`; the result is the kernel return value.
  case populate(bo: String, ctx: ScenarioContext, result: String?)
  /// The GPU writes the whole BO with `seed`.
  case fill(bo: String, seed: UInt64)
  /// Compares the BO with what the last fill wrote; the result is `intact` or `N pages lost`.
  case check(bo: String, result: String?)
  /// Swapout (legacy) or `ttm_bo_shrink()` backup of one BO, by the device's own path or
  /// `via` the one named; the result is pages or -errno.
  case swapout(
    bo: String, purge: Bool, writeback: Bool, asKswapd: Bool, via: TTMDevice.SwapoutPath?, allowMove: Bool,
    result: String?)
  /// `ttm_global_swapout(ctx, GFP_KERNEL)`; the result is pages swapped out, 0 or -errno.
  case globalSwapout(noWaitGPU: Bool, result: String?)
  /// `ttm_bo_validate()` to one placement; the result is 0 or -errno.
  case place(bo: String, placement: TTMMemType, result: String?)
  /// `ttm_bo_evict()`; the result is 0 or -errno.
  case evict(bo: String, result: String?)
  /// `ttm_backup_backup_page()` of the BO's page at `index`; the result is the handle or -errno.
  case backupPage(bo: String, index: Int, writeback: Bool, result: String?)
  /// `ttm_backup_copy_page()` of the handle a `backupPage` step recorded into the page at
  /// `index`; the result is 0 or -errno.
  case copyPage(bo: String, index: Int, handle: String, interruptible: Bool, additionalGFP: GFP?, result: String?)
  /// `ttm_backup_drop()` of the handle a `backupPage` step recorded.
  case dropHandle(bo: String, handle: String)
  /// One block of the zero-copy backup loop: `ttm_backup_insert_folio()` of the page at
  /// `index`; the result is the handle or -errno.
  case insertFolio(bo: String, index: Int, writeback: Bool, clearPrivate: Bool, result: String?)
  /// `ttm_pool_restore_and_alloc()` on its own; the result is 0 or -errno.
  case restoreAndAlloc(bo: String, ctx: ScenarioContext, result: String?)
  /// Destroys a TTM BO, or closes a panfrost BO's handle (which frees it).
  case destroy(bo: String)
  /// Sets BO flags the shrinkers look at.
  case set(bo: String, purgeable: Bool?, busy: Bool?, pinCount: Int?)
  /// Starts a task.
  case spawn(ScenarioTask)
  /// Exits a task (an OOM victim too), freeing its memory.
  case exit(task: String)
  /// Arms a fault point.
  case arm(point: String, nth: Int?, space: Int?, times: Int, filterNone: Bool?)
  /// Disarms a fault point.
  case disarm(point: String)
  /// Runs the device's shrinker `scan_objects()`; the result is pages freed or `SHRINK_STOP`.
  case shrink(gfp: GFP, nrToScan: Int, asKswapd: Bool, result: String?)
  /// Runs the device's shrinker `count_objects()`; the result is the count.
  case count(gfp: GFP, result: String?)
  /// `alloc_pages()` `count` times; the result is how many succeeded. The pages are freed at
  /// teardown.
  case alloc(gfp: GFP, order: Int, count: Int, result: String?)
  /// Pins every odd free frame, so free memory outside the BOs is all order 0.
  case fragment
  /// Starts new measurements of bytes copied, allocations, peak memory and shmem gfp.
  case resetCounters
  /// Panfrost `DRM_IOCTL_PANFROST_MADVISE`; the result is `retained`, or -errno. With
  /// `closeDuring`, another thread closes the BO's handle at that point of the ioctl.
  case madvise(bo: String, advice: UInt32, closeDuring: PanfrostDevice.PreemptionPoint?, result: String?)
  /// Panfrost: a job using the BO starts (`gpu_usecount` up) or finishes.
  case job(bo: String, running: Bool)

  /// The op's name in the file.
  public var name: String {
    switch self {
    case .create: "create"
    case .populate: "populate"
    case .fill: "fill"
    case .check: "check"
    case .swapout: "swapout"
    case .destroy: "destroy"
    case .set: "set"
    case .spawn: "spawn"
    case .exit: "exit"
    case .arm: "arm"
    case .disarm: "disarm"
    case .shrink: "shrink"
    case .count: "count"
    case .alloc: "alloc"
    case .fragment: "fragment"
    case .resetCounters: "resetCounters"
    case .madvise: "madvise"
    case .job: "job"
    case .globalSwapout: "globalSwapout"
    case .place: "place"
    case .evict: "evict"
    case .backupPage: "backupPage"
    case .copyPage: "copyPage"
    case .dropHandle: "dropHandle"
    case .insertFolio: "insertFolio"
    case .restoreAndAlloc: "restoreAndAlloc"
    }
  }
}

/// How an expected value is compared with the observed one.
public enum ScenarioComparison: String, Hashable, Sendable {
  /// Equal, after rendering both as text.
  case equal
  /// The observed text starts with the expected one.
  case prefix
  /// The observed list starts with the expected list (a call chain, innermost first).
  case listPrefix
  /// Some dmesg line contains the expected text.
  case contains
  /// No dmesg line contains the expected text.
  case lacks
}

/// One expected observation: a key path such as `oomKills`, `results.readback` or
/// `bos.vram.handles`, the value as text, and how to compare.
public struct ScenarioExpectedItem: Hashable, Sendable {
  public let key: String
  public let value: String
  public let comparison: ScenarioComparison
}

/// The expected outcome of one variant: only the listed observations are compared.
public struct ScenarioExpectation: Hashable, Sendable {
  public let items: [ScenarioExpectedItem]
}

/// The names the loader accepts, for messages and the README.
enum ScenarioVocabulary {
  static let topKeys = [
    "patch", "title", "kind", "headline", "setup", "tasks", "steps", "expect", "notes", "unreachableWith",
    "supersededBy",
    "primary",
  ]
  static let setupKeys = [
    "memoryPages", "swapPages", "watermarkMin", "poolOrder", "shmemLargeFolioOrder", "debugList",
    "bugOnDataCorruption", "faultInjection", "ttmDriver", "poolDMAAlloc", "poolDMA32", "vramPages", "ttmPagesLimit",
  ]
  static let ops = [
    "create", "populate", "fill", "check", "swapout", "destroy", "set", "spawn", "exit", "arm", "disarm", "shrink",
    "count", "alloc", "fragment", "resetCounters", "madvise", "job", "globalSwapout", "place", "evict", "backupPage",
    "copyPage", "dropHandle", "insertFolio", "restoreAndAlloc",
  ]
  static let ttmOnly: Set<String> = [
    "populate", "swapout", "set", "globalSwapout", "place", "evict", "backupPage", "copyPage", "dropHandle",
    "insertFolio", "restoreAndAlloc",
  ]
  static let panfrostOnly: Set<String> = ["madvise", "job"]
  static let faultPoints: [FaultPoint] = [
    .backupFaultInject, .failPageAlloc, .failslab, .shmemInsertNode, .swapWriteout, .swapAlloc, .shmemRead,
    .ttmResourceAlloc,
  ]
  static let halts = ["none", "oops", "bug", "lockup", "panic"]
  static let listWalks = ["complete", "cycle", "fault"]
  static let expectKeys = [
    "results", "oomKills", "killed", "allocationFailureWarnings", "contentIntact", "halt", "haltMessage",
    "haltCallChain", "dmesgContains", "dmesgLacks", "auditClean", "leaks", "swapSlotsInUse", "lockViolations",
    "freePages", "largestFreeOrder", "bytesCopied", "allocations", "peakExtraPages", "shmemGFP", "faultsInjected",
    "faultCalls", "bos", "listSound", "listViolation", "listWalk", "shrinkerList", "purged", "stats",
    "ttmPagesAllocated", "poolTypePages", "kernelCounters",
  ]
  static let ttmBOKeys = [
    "populated", "backedUp", "swapped", "pages", "handles", "nullSlots", "restoreState", "placement", "hasTT",
  ]
  static let placements: [(name: String, memType: TTMMemType)] = [
    ("system", .system), ("tt", .tt), ("vram", .vram), ("priv", .priv(0)),
  ]

  static func placementName(_ m: TTMMemType) -> String {
    placements.first { $0.memType == m }?.name ?? "\(m)"
  }
  static let panfrostBOKeys = ["purged", "madv", "onList"]
}
