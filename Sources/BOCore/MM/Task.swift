/// A process, as far as memory management sees it: its anonymous memory (RSS) and its OOM
/// killer attributes (`struct task_struct`, `struct mm_struct`, `signal->oom_score_adj`).
public struct Task: Hashable, Sendable {
  /// The process id.
  public let pid: PID
  /// `task->comm`, at most 15 characters in the kernel.
  public let comm: String
  /// The user id printed in the OOM report.
  public var uid: UInt32
  /// `signal->oom_score_adj`, -1000 (never kill) to 1000.
  public var oomScoreAdj: Int16
  /// Anonymous pages the task holds (`MM_ANONPAGES`), each an order-0 allocation. The model
  /// treats them as unreclaimable: anonymous swap-out is not modelled, so only the OOM killer
  /// frees them.
  public internal(set) var anonPages: [Page]
  /// `mm_pgtables_bytes()`; 0 unless a scenario sets it.
  public var pgtablesBytes: Int
  /// A kernel thread (no `mm`): never an OOM victim.
  public let isKernelThread: Bool
  /// Killed by the OOM killer (`tsk_is_oom_victim()`); its memory is already freed.
  public internal(set) var isOOMVictim = false
  /// `PF_MEMALLOC`: set while the task runs direct reclaim, so its allocations may use the
  /// reserves and never recurse into reclaim.
  public internal(set) var inMemallocScope = false

  /// Resident anonymous pages.
  public var rssPages: Int { anonPages.count }
}

/// A process id (`pid_t`).
public typealias PID = Int32

/// `OOM_SCORE_ADJ_MIN`: a task with this adjustment is never chosen.
public let OOM_SCORE_ADJ_MIN: Int16 = -1000
/// `OOM_SCORE_ADJ_MAX`.
public let OOM_SCORE_ADJ_MAX: Int16 = 1000
