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
  /// TTM: create a BO (and, if `filled`, populate it and fill it with `seed`). Panfrost:
  /// create a BO (its pages are allocated at creation) and, if `filled`, fill it.
  case create(bo: String, pages: Int, caching: TTMCaching, filled: Bool, seed: UInt64)
  /// `ttm_tt_populate()`; the result is the kernel return value.
  case populate(bo: String, ctx: ScenarioContext, result: String?)
  /// The GPU writes the whole BO with `seed`.
  case fill(bo: String, seed: UInt64)
  /// Compares the BO with what the last fill wrote; the result is `intact` or `N pages lost`.
  case check(bo: String, result: String?)
  /// Swapout (legacy) or `ttm_bo_shrink()` backup of one BO; the result is pages or -errno.
  case swapout(bo: String, purge: Bool, writeback: Bool, asKswapd: Bool, result: String?)
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
  /// Panfrost `DRM_IOCTL_PANFROST_MADVISE`; the result is `retained`, or -errno.
  case madvise(bo: String, advice: UInt32, result: String?)
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
    "bugOnDataCorruption", "faultInjection",
  ]
  static let ops = [
    "create", "populate", "fill", "check", "swapout", "destroy", "set", "spawn", "exit", "arm", "disarm", "shrink",
    "count", "alloc", "fragment", "resetCounters", "madvise", "job",
  ]
  static let ttmOnly: Set<String> = ["populate", "swapout", "set"]
  static let panfrostOnly: Set<String> = ["madvise", "job"]
  static let faultPoints: [FaultPoint] = [
    .backupFaultInject, .failPageAlloc, .failslab, .shmemInsertNode, .swapWriteout, .swapAlloc, .shmemRead,
  ]
  static let halts = ["none", "oops", "bug", "lockup", "panic"]
  static let listWalks = ["complete", "cycle", "fault"]
  static let expectKeys = [
    "results", "oomKills", "killed", "allocationFailureWarnings", "contentIntact", "halt", "haltMessage",
    "haltCallChain", "dmesgContains", "dmesgLacks", "auditClean", "leaks", "swapSlotsInUse", "lockViolations",
    "freePages", "largestFreeOrder", "bytesCopied", "allocations", "peakExtraPages", "shmemGFP", "faultsInjected",
    "faultCalls", "bos", "listSound", "listViolation", "listWalk", "shrinkerList", "purged",
  ]
  static let ttmBOKeys = ["populated", "backedUp", "swapped", "pages", "handles", "nullSlots", "restoreState"]
  static let panfrostBOKeys = ["purged", "madv", "onList"]
}
