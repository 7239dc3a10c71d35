/// `LONG_MIN` as `oom_badness()` returns it for a task that must not be chosen.
let OOM_BADNESS_UNKILLABLE = Int.min

extension Machine {
  /// `totalram_pages() + total_swap_pages`, what `oom_badness()` scales `oom_score_adj` by.
  var oomTotalPages: Int { mem.totalPages + swap.totalSlots }

  /// `oom_badness()` (`mm/oom_kill.c`): RSS plus swap entries plus page-table pages, plus
  /// `oom_score_adj * (totalpages / 1000)`. Kernel threads, tasks with
  /// `OOM_SCORE_ADJ_MIN` and tasks already reaped (`MMF_OOM_SKIP`) are never chosen.
  public func oomBadness(_ task: Task) -> Int {
    if task.isKernelThread { return OOM_BADNESS_UNKILLABLE }
    if task.oomScoreAdj == OOM_SCORE_ADJ_MIN || task.isOOMVictim { return OOM_BADNESS_UNKILLABLE }
    var points = task.rssPages + task.pgtablesBytes / PAGE_SIZE
    // The kernel divides first: adj *= totalpages / 1000.
    let adj = Int(task.oomScoreAdj) * (oomTotalPages / 1000)
    points += adj
    return points
  }

  /// `select_bad_process()` with `oom_evaluate_task()`: the task with the most points; a
  /// later task with equal points replaces an earlier one, because the kernel skips a task
  /// only when `points < chosen_points`.
  public func selectBadProcess() -> PID? {
    var chosen: PID?
    var chosenPoints = Int.min
    for task in tasks {
      let points = oomBadness(task)
      if points == OOM_BADNESS_UNKILLABLE || points < chosenPoints { continue }
      chosen = task.pid
      chosenPoints = points
    }
    return chosen
  }

  /// `out_of_memory()` for a global (non-memcg) OOM. Returns whether progress was made.
  ///
  /// - If `current` is already an OOM victim, it is given the reserves and no new task is
  ///   killed. (The kernel's `task_will_free_mem()` asks whether the task is exiting; in the
  ///   model a killed task counts as exiting.)
  /// - Without `__GFP_FS` it returns `true` without killing: "The OOM killer does not
  ///   compensate for IO-less reclaim."
  /// - With no eligible task it prints "Out of memory and no killable processes..." and
  ///   panics ("System is deadlocked on memory").
  /// - Otherwise it logs the report (`dump_header()`, the `oom-kill:` summary) and kills the
  ///   chosen task (`oom_kill_process()`), whose memory the model frees at once, as the OOM
  ///   reaper would.
  func outOfMemory(_ gfp: GFP, order: Int) throws -> Bool {
    if current.isOOMVictim { return true }
    if !gfp.contains(.__GFP_FS) { return true }
    guard let victim = selectBadProcess() else {
      dumpHeader(gfp, order: order)
      dmesg.printk(.warning, "Out of memory and no killable processes...")
      throw KernelHalt.panic("System is deadlocked on memory")
    }
    oomKillProcess(victim, gfp: gfp, order: order, message: "Out of memory")
    return true
  }

  /// The first line of `dump_header()`.
  private func dumpHeader(_ gfp: GFP, order: Int) {
    dmesg.printk(
      .warning,
      "\(current.comm) invoked oom-killer: gfp_mask=\(gfp.hexString)(\(gfp)), order=\(order), oom_score_adj=\(current.oomScoreAdj)"
    )
  }

  /// `oom_kill_process()` and `__oom_kill_process()`: the report, the kill, and (as the OOM
  /// reaper) freeing the victim's anonymous memory.
  ///
  /// The lines are the kernel's formats (6.x, verified): `dump_header()`'s first line, the
  /// `oom-kill:` summary and `Killed process`. In the summary the `nodemask=(null)`,
  /// `cpuset=/,mems_allowed=0` and `global_oom,task_memcg=/` parts are written as a typical
  /// machine without cpusets or memcg prints them (UNVERIFIED). `total-vm` equals the
  /// anonymous RSS because tasks have no other mappings in the model; the `Tasks state` table,
  /// the stack dump and `show_mem()` are not logged.
  private func oomKillProcess(_ pid: PID, gfp: GFP, order: Int, message: String) {
    let i = taskIndex(pid)!
    let victim = tasks[i]
    dumpHeader(gfp, order: order)
    dmesg.printk(
      .info,
      "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=\(victim.comm),pid=\(victim.pid),uid=\(victim.uid)"
    )
    let anonKB = victim.rssPages * PAGE_SIZE / 1024
    dmesg.printk(
      .err,
      "\(message): Killed process \(victim.pid) (\(victim.comm)) total-vm:\(anonKB)kB, anon-rss:\(anonKB)kB, file-rss:0kB, shmem-rss:0kB, UID:\(victim.uid) pgtables:\(victim.pgtablesBytes / 1024)kB oom_score_adj:\(victim.oomScoreAdj)"
    )
    vmstat.oomKill += 1
    counters.oomVictims.append(victim.comm)
    for page in victim.anonPages { mem.freePages(page, order: 0) }
    tasks[i].anonPages = []
    tasks[i].isOOMVictim = true
    dmesg.printk(
      .info,
      "oom_reaper: reaped process \(victim.pid) (\(victim.comm)), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"
    )
  }
}
