import Testing

@testable import BOCore

/// A task in an OOM victim-choice case: name, RSS in pages, `oom_score_adj`.
struct TaskSpec: Sendable, CustomTestStringConvertible {
  let comm: String
  let rss: Int
  let adj: Int16
  var testDescription: String { "\(comm)(\(rss)p,\(adj))" }
}

struct VictimCase: Sendable, CustomTestStringConvertible {
  let why: String
  let tasks: [TaskSpec]
  /// The expected victim's comm; `nil` when nobody is eligible.
  let victim: String?
  var testDescription: String { why }
}

@Suite("OOM killer", .tags(.mm))
struct OOMTests {
  // 1000 pages of RAM and no swap: oom_score_adj is multiplied by totalpages / 1000 = 1.
  static let victims: [VictimCase] = [
    VictimCase(
      why: "the largest RSS is chosen",
      tasks: [.init(comm: "small", rss: 100, adj: 0), .init(comm: "big", rss: 600, adj: 0)],
      victim: "big"),
    VictimCase(
      why: "oom_score_adj shifts the choice",
      tasks: [.init(comm: "small", rss: 100, adj: 600), .init(comm: "big", rss: 600, adj: 0)],
      victim: "small"),
    VictimCase(
      why: "OOM_SCORE_ADJ_MIN is never chosen",
      tasks: [.init(comm: "small", rss: 100, adj: 0), .init(comm: "big", rss: 600, adj: -1000)],
      victim: "small"),
    VictimCase(
      why: "a tie goes to the later task (points < chosen_points skips)",
      tasks: [.init(comm: "first", rss: 300, adj: 0), .init(comm: "second", rss: 300, adj: 0)],
      victim: "second"),
  ]

  @Test("victim choice follows oom_badness()", arguments: victims)
  func victimChoice(_ c: VictimCase) throws {
    let m = Machine(MachineConfig(memoryPages: 1000))
    // The allocating task must not be the best victim: it has no memory and adj -1000.
    let i = m.taskIndex(m.currentPID)!
    m.tasks[i].oomScoreAdj = OOM_SCORE_ADJ_MIN
    for t in c.tasks { try m.spawnTask(t.comm, rssPages: t.rss, oomScoreAdj: t.adj) }
    try m.spawnTask("filler", rssPages: m.mem.nrFreePages, oomScoreAdj: OOM_SCORE_ADJ_MIN)
    let chosen = try #require(m.selectBadProcess())
    #expect(m.task(chosen)?.comm == c.victim)

    let victimRSS = m.task(chosen)!.rssPages
    let page = try #require(try m.allocPages(.GFP_KERNEL, order: 0, owner: .other("request")))
    // The victim's memory was freed; the request took one page of it.
    #expect(m.task(chosen)!.isOOMVictim && m.task(chosen)!.rssPages == 0)
    #expect(m.mem.nrFreePages == victimRSS - 1)
    m.freePages(page, order: 0)
    #expect(m.audit().isClean, "\(m.audit())")
  }

  /// The formats of `dump_header()`, `__oom_kill_process()` and the OOM reaper are verified
  /// from the kernel source; the middle of the `oom-kill:` summary (nodemask, cpuset,
  /// memcg) is the model's guess and is not asserted here.
  @Test("the OOM report has the kernel's lines")
  func logLines() throws {
    let (m, chrome) = try machineInOOM(memory: 256)
    let page = try #require(try m.allocPages(.GFP_HIGHUSER_MOVABLE, order: 0, owner: .other("readback")))
    let lines = m.dmesg.lines.map(\.text)
    try #require(lines.count == 4)
    #expect(
      lines[0] == "bo-repro invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0")
    #expect(lines[1].hasPrefix("oom-kill:constraint=CONSTRAINT_NONE,nodemask="))
    #expect(lines[1].hasSuffix(",task=chrome,pid=\(chrome),uid=1000"))
    // chrome had all 256 pages: 1024 kB.
    #expect(
      lines[2]
        == "Out of memory: Killed process \(chrome) (chrome) total-vm:1024kB, anon-rss:1024kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:0kB oom_score_adj:0"
    )
    #expect(lines[3] == "oom_reaper: reaped process \(chrome) (chrome), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB")
    #expect(m.vmstat.oomKill == 1)
    m.freePages(page, order: 0)
    #expect(m.audit().isClean)
  }

  @Test("without __GFP_FS the OOM killer kills nobody", arguments: [GFP.GFP_NOFS, .GFP_NOIO])
  func noFS(_ gfp: GFP) throws {
    let (m, chrome) = try machineInOOM()
    let error = #expect(throws: KernelHalt.self) {
      _ = try m.allocPages(gfp, order: 0, owner: .other("request"))
    }
    guard case .lockup(let why)? = error else {
      Issue.record("expected a never-returning allocation, got \(String(describing: error))")
      return
    }
    #expect(why.contains("out_of_memory() reports progress without killing for !__GFP_FS"))
    #expect(m.vmstat.oomKill == 0 && m.task(chrome)?.isOOMVictim == false)
    #expect(m.dmesg.grep("Killed process").isEmpty)
    #expect(m.dmesg.lines.allSatisfy { $0.isModelNote })
    #expect(m.audit().isClean, "\(m.audit())")
  }

  @Test("with no killable task the kernel panics")
  func noVictim() throws {
    let m = Machine(MachineConfig(memoryPages: 64))
    let i = m.taskIndex(m.currentPID)!
    m.tasks[i].oomScoreAdj = OOM_SCORE_ADJ_MIN
    try m.spawnTask("sshd", rssPages: 64, oomScoreAdj: OOM_SCORE_ADJ_MIN)
    #expect(throws: KernelHalt.panic("System is deadlocked on memory")) {
      _ = try m.allocPages(.GFP_KERNEL, order: 0, owner: .other("request"))
    }
    #expect(m.dmesg.lines.last?.text == "Out of memory and no killable processes...")
    #expect(m.audit().isClean, "\(m.audit())")
  }

  /// `oom_badness()` returns `LONG_MIN` for a task whose mm is `MMF_OOM_SKIP` (set once the
  /// reaper is done with it): a victim already reaped is not chosen again. With it the only
  /// candidate left, the next OOM panics instead of "killing" it a second time.
  @Test("a reaped victim is not chosen again")
  func reapedVictimSkipped() throws {
    let m = Machine(MachineConfig(memoryPages: 64))
    m.tasks[m.taskIndex(m.currentPID)!].oomScoreAdj = OOM_SCORE_ADJ_MIN
    let chrome = try m.spawnTask("chrome", rssPages: 16)
    try m.spawnTask("sshd", rssPages: m.mem.nrFreePages, oomScoreAdj: OOM_SCORE_ADJ_MIN)
    var held: [Page] = []
    #expect(throws: KernelHalt.panic("System is deadlocked on memory")) {
      while let page = try m.allocPages(.GFP_KERNEL, order: 0, owner: .other("request")) { held.append(page) }
    }
    #expect(held.count == 16, "the kill freed chrome's 16 pages")
    #expect(m.task(chrome)?.isOOMVictim == true)
    #expect(m.dmesg.grep("Killed process").count == 1)
    #expect(m.dmesg.lines.last?.text == "Out of memory and no killable processes...")
    for page in held { m.freePages(page, order: 0) }
    #expect(m.audit().isClean, "\(m.audit())")
  }

  @Test("when the allocating task is the victim, its own freed memory satisfies the retry")
  func currentIsVictim() throws {
    let m = Machine(MachineConfig(memoryPages: 64), current: "hog")
    // current holds everything: it is the only candidate.
    let i = m.taskIndex(m.currentPID)!
    for _ in 0..<64 {
      m.tasks[i].anonPages.append(
        m.mem.getPageFromFreelist(order: 0, flags: .noWatermarks, gfp: [], owner: .task(pid: m.currentPID))!)
    }
    let page = try m.allocPages(.GFP_KERNEL, order: 0, owner: .other("request"))
    #expect(m.current.isOOMVictim)
    // Its own memory was freed by the kill, so the retry succeeds.
    let got = try #require(page)
    m.freePages(got, order: 0)
    #expect(m.audit().isClean)
  }
}
