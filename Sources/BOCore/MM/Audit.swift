/// What is still held at teardown, from ``Machine/audit()``.
///
/// A test tears down everything it created (buffer objects, shmem files) and then expects
/// `machine.audit().isClean`; anything left is a leak and the description names its owner.
/// Task memory is not a leak: tasks are alive until they exit.
public struct AccountingAudit: Hashable, Sendable, CustomStringConvertible {
  /// Allocated base pages by owner, tasks' anonymous memory excluded.
  public var leakedPages: [String: Int]
  /// Swap slots still holding data.
  public var swapSlotsInUse: Int
  /// shmem files not released with `fput()`.
  public var openShmemFiles: [String]
  /// Counters that should be back to zero (`nr_shmem`, `nr_gpu_active`, ...).
  public var nonZeroCounters: [String: Int]
  /// `NR_GPU_*` as the kernel would show them, where not zero: the residue of the DMA-alloc
  /// accounting (``VMStat/kernelGPUCounters``). Informational: not part of ``isClean``.
  public var kernelCounterResidue: [String: Int] = [:]
  /// Pages whose frame state disagrees with the free lists (model bugs).
  public var inconsistentFrames: Int
  /// Folios unlocked while not locked.
  public var lockViolations: Int

  /// Nothing leaked and everything balances.
  public var isClean: Bool {
    leakedPages.isEmpty && swapSlotsInUse == 0 && openShmemFiles.isEmpty
      && nonZeroCounters.isEmpty && inconsistentFrames == 0 && lockViolations == 0
  }

  public var description: String {
    if isClean { return "clean" }
    var parts: [String] = []
    for (owner, n) in leakedPages.sorted(by: { $0.key < $1.key }) {
      parts.append("\(n) page(s) held by \(owner)")
    }
    if swapSlotsInUse > 0 { parts.append("\(swapSlotsInUse) swap slot(s) in use") }
    if !openShmemFiles.isEmpty { parts.append("open shmem files: \(openShmemFiles.joined(separator: ", "))") }
    for (name, v) in nonZeroCounters.sorted(by: { $0.key < $1.key }) { parts.append("\(name) = \(v)") }
    if inconsistentFrames > 0 { parts.append("\(inconsistentFrames) inconsistent frame(s)") }
    if lockViolations > 0 { parts.append("\(lockViolations) folio lock violation(s)") }
    return parts.joined(separator: "; ")
  }
}

extension Machine {
  /// Checks that every page, shmem folio and swap slot is accounted for.
  ///
  /// Counts allocated frames by owner (tasks excluded), swap slots in use, open shmem files
  /// and the resident counters, and cross-checks the frame table against `NR_FREE_PAGES`.
  public func audit() -> AccountingAudit {
    var leaked: [String: Int] = [:]
    var free = 0
    for frame in mem.frames {
      if frame.isFree {
        free += 1
        continue
      }
      switch frame.owner {
      case .task?: continue
      case let owner?: leaked[owner.object, default: 0] += 1
      case nil: leaked["(no owner)", default: 0] += 1
      }
    }
    var counters: [String: Int] = [:]
    for (name, value) in vmstat.residentCounters where value != 0 { counters[name] = value }
    return AccountingAudit(
      leakedPages: leaked,
      swapSlotsInUse: swap.slotsInUse,
      openShmemFiles: shmemFiles.enumerated().compactMap { i, f in f.map { "\($0.name)#\(i)" } },
      nonZeroCounters: counters,
      kernelCounterResidue: vmstat.kernelGPUCounters,
      inconsistentFrames: abs(free - mem.nrFreePages),
      lockViolations: folioLockViolations.count)
  }
}
