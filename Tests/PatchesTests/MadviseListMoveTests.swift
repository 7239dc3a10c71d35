import BOCore
import KernelTrees
import MadviseListMoveModel
import ModelTestSupport
import Patches
import Testing

extension Tag {
  /// Tests of the madvise-list-move pair (panfrost `shrinker_list`).
  @Tag static var madviseListMove: Self
}

/// Where the BO that gets a second DONTNEED sits on `shrinker_list`.
enum ShrinkerListPosition: String, CaseIterable, Codable, Sendable {
  case sole, head, middle, tail
}

/// One list shape: `length` BOs marked DONTNEED in order (`bo0` first), the BO at `position`
/// is the one the sequence is about, with or without `CONFIG_DEBUG_LIST`.
struct MadviseCase: Codable, Sendable, CustomTestStringConvertible {
  let position: ShrinkerListPosition
  let length: Int
  let debugList: Bool

  var testDescription: String {
    "\(position) of \(length), DEBUG_LIST \(debugList ? "on" : "off")"
  }

  /// Every valid shape of length 1 to 4: sole needs 1, head and tail at least 2, middle 3.
  static let all: [MadviseCase] = ShrinkerListPosition.allCases.flatMap { position in
    (1...4).filter { length in
      switch position {
      case .sole: length == 1
      case .head, .tail: length >= 2
      case .middle: length >= 3
      }
    }.flatMap { length in [false, true].map { MadviseCase(position: position, length: length, debugList: $0) } }
  }

  /// The index of the BO in question (`X`).
  var x: Int {
    switch position {
    case .sole, .head: 0
    case .middle: 1
    case .tail: length - 1
    }
  }
  /// Whether X is the last BO: then a second `list_add_tail()` has `prev == X`.
  var xIsLast: Bool { x == length - 1 }
}

extension PanfrostRig {
  init(_ variant: Variant, _ c: MadviseCase) {
    self.init(variant, listDebug: c.debugList ? .on5x : .off)
  }
}

/// madvise-list-move: a second DONTNEED on a BO already on `shrinker_list`. Before the fix
/// `list_add_tail()` relinks it in place and corrupts the list; after it `list_move_tail()`
/// unlinks it first. Every test runs both variants and states what each must do, so it fails
/// if the variants are swapped; every scenario ends with a clean accounting audit.
@Suite(
  "madvise-list-move: a repeated DONTNEED moves the BO instead of re-adding it",
  .tags(.madviseListMove),
  .bug(
    "https://git.kernel.org/torvalds/c/9fc33eaaa979d112d10fea729edcd2a2e21aa912",
    id: "9fc33eaaa979", "drm/panfrost: Fix shrinker list corruption by madvise IOCTL"))
struct MadviseListMoveTests {
  /// Runs the list setup and one more DONTNEED on X; returns the rig and the BOs.
  func repeatedDontneed(_ variant: Variant, _ c: MadviseCase, pages: Int = 1) throws -> (
    PanfrostRig, [PanfrostGEMObject]
  ) {
    let rig = PanfrostRig(variant, c)
    let bos = try rig.makeList(c.length, pages: pages)
    #expect(try rig.madvise(bos[c.x], PANFROST_MADV_DONTNEED) == 1, "the ioctl succeeds and retains in both")
    return (rig, bos)
  }

  // MARK: The list state right after the second DONTNEED

  /// `list_add_tail(X, H)` is `__list_add(X, H->prev, H)`: it stores `H->prev = X`,
  /// `X->next = H`, `X->prev = T`, `T->next = X` (T the tail). When X is the tail that makes
  /// X point to itself; otherwise X's successors drop off the forward chain. DEBUG_LIST
  /// refuses the add (and says "list_add double add") only when X is the tail, where
  /// `new == prev`. After the fix X is unlinked and re-added at the tail.
  @Test("The exact list state after a repeated DONTNEED", arguments: MadviseCase.all)
  func listStateAfterRepeatedDontneed(_ c: MadviseCase) throws {
    for variant in Variant.allCases {
      let (rig, bos) = try repeatedDontneed(variant, c)
      let names = rig.pfdev.lists.names
      let order = bos.map(\.name)
      let xName = order[c.x]
      let tName = order.last!
      let members = Set(bos.map(\.base.madvList))
      switch variant {
      case .after:
        #expect(rig.state == ringState(names, order: order.filter { $0 != xName } + [xName]))
        #expect(rig.listReports.isEmpty)
        #expect(rig.pfdev.lists.violations(rig.pfdev.shrinkerList, members: members).isEmpty)
      case .before where c.xIsLast && c.debugList:
        #expect(rig.state == ringState(names, order: order), "the add was refused: nothing written")
        #expect(
          rig.listReports == [
            "------------[ cut here ]------------",
            "list_add double add: new=\(rig.px(bos[c.x])), prev=\(rig.px(bos[c.x])), next=\(rig.px(nil)).",
          ])
        #expect(rig.machine.dmesg.grep("list_add double add").map(\.level) == [.warning])
      case .before where c.xIsLast:
        #expect(rig.state == ringState(names, order: order, overriding: [xName: (xName, xName)]))
        #expect(rig.listReports.isEmpty)
        #expect(
          rig.pfdev.shrinkerListWalk() == .cycle(visited: bos.map(\.base.madvList), repeated: bos[c.x].base.madvList))
      case .before:
        #expect(
          rig.state
            == ringState(
              names, order: order,
              overriding: ["shrinker_list": (nil, xName), xName: ("shrinker_list", tName), tName: (xName, nil)]))
        #expect(rig.listReports.isEmpty, "every add check passes: the corruption is silent")
        #expect(rig.pfdev.shrinkerListWalk() == .complete(bos[...c.x].map(\.base.madvList)))
      }
      let audit = try rig.teardown()
      #expect(audit.isClean, "\(variant): \(audit)")
    }
  }

  // MARK: Over ioctl sequences

  /// An ioctl sequence on X after the list is built (X is already DONTNEED).
  enum Sequence: String, CaseIterable, Codable, Sendable {
    /// A second DONTNEED: the bug.
    case dontneed = "DONTNEED"
    /// Two more: the same damage, repeated.
    case dontneedTwice = "DONTNEED, DONTNEED"
    /// A second DONTNEED, then WILLNEED: IGT's vc4 `mark-purgeable-twice` pattern.
    case dontneedWillneed = "DONTNEED, WILLNEED"
    /// WILLNEED first takes X off the list: the control.
    case willneedDontneed = "WILLNEED, DONTNEED"

    var madvs: [UInt32] {
      switch self {
      case .dontneed: [PANFROST_MADV_DONTNEED]
      case .dontneedTwice: [PANFROST_MADV_DONTNEED, PANFROST_MADV_DONTNEED]
      case .dontneedWillneed: [PANFROST_MADV_DONTNEED, PANFROST_MADV_WILLNEED]
      case .willneedDontneed: [PANFROST_MADV_WILLNEED, PANFROST_MADV_DONTNEED]
      }
    }
  }

  /// After any of these sequences the fixed driver's list is a sound ring of exactly the
  /// purgeable BOs and nothing was reported. Before the fix every sequence that re-adds X
  /// while it is on the list leaves the list unsound, or (X the tail, DEBUG_LIST on) makes
  /// DEBUG_LIST report and refuse the add; a third DONTNEED of a head or middle X is reported
  /// too, but only after the second one corrupted the list silently. Only WILLNEED first
  /// behaves the same as after.
  @Test("Every ioctl sequence: sound after; unsound or reported before", arguments: MadviseCase.all, Sequence.allCases)
  func sequences(_ c: MadviseCase, _ sequence: Sequence) throws {
    var outcomes: [Variant: (state: [String], sound: Bool, reports: [String], retained: [UInt32])] = [:]
    for variant in Variant.allCases {
      let rig = PanfrostRig(variant, c)
      let bos = try rig.makeList(c.length)
      let retained = try sequence.madvs.map { try rig.madvise(bos[c.x], $0) }
      let purgeable = Set(bos.filter(\.base.isPurgeable).map(\.base.madvList))
      let sound = rig.pfdev.lists.violations(rig.pfdev.shrinkerList, members: purgeable).isEmpty
      outcomes[variant] = (rig.state, sound, rig.listReports, retained)
      #expect(try rig.teardown().isClean)
    }
    let before = outcomes[.before]!
    let after = outcomes[.after]!
    #expect(after.sound && after.reports.isEmpty)
    #expect(before.retained == after.retained && after.retained.allSatisfy { $0 == 1 })
    if sequence == .willneedDontneed {
      #expect(before.state == after.state && before.sound && before.reports.isEmpty)
    } else if c.xIsLast && c.debugList {
      #expect(before.sound && before.reports.contains { $0.hasPrefix("list_add double add") })
      #expect(before.state == after.state, "refusing the add leaves X where list_move_tail() puts it")
    } else if c.debugList && sequence == .dontneedTwice {
      // The first re-add set shrinker_list->prev to X, so the next one has prev == X: now
      // DEBUG_LIST sees the double add, after the list is already corrupted.
      #expect(!before.sound && before.reports.contains { $0.hasPrefix("list_add double add") })
    } else {
      #expect(!before.sound && before.reports.isEmpty)
    }
  }

  // MARK: What a later count, scan or list_del does

  /// The shrinker's count walks the list: before the fix it spins on a self-linked tail
  /// (with `shrinker_lock` held) or counts only the BOs up to X, so the lost ones are
  /// invisible to reclaim. After it every DONTNEED page is counted.
  @Test("A later shrinker count", arguments: MadviseCase.all)
  func laterCount(_ c: MadviseCase) throws {
    let pages = 2
    for variant in Variant.allCases {
      let (rig, _) = try repeatedDontneed(variant, c, pages: pages)
      switch variant {
      case .after:
        #expect(try rig.count() == c.length * pages)
      case .before where c.xIsLast && c.debugList:
        #expect(try rig.count() == c.length * pages, "the refused add left the list intact")
      case .before where c.xIsLast:
        #expect(isLockup(in: "panfrost_gem_shrinker_count") { _ = try rig.count() })
      case .before:
        #expect(try rig.count() == (c.x + 1) * pages, "the BOs after X are lost to the count")
      }
      #expect(!rig.pfdev.shrinkerLock.locked)
      let audit = try rig.teardown()
      #expect(audit.isClean, "\(variant): \(audit)")
    }
  }

  /// What a full scan (`nr_to_scan = SHRINK_BATCH`) purges, what it reports, and what the
  /// next count does.
  struct ScanOutcome: Equatable, CustomStringConvertible {
    /// Pages the scan freed, or `nil` if it did not return.
    var freed: Int?
    /// The scan stopped in a never-ending walk.
    var scanLockup: Bool
    /// The BOs purged (`madv == -1`), by index.
    var purged: [Int]
    /// What the next count returned, or `nil` for a lockup.
    var nextCount: Int?
    /// What DEBUG_LIST reported during the scan.
    var reports: [String]

    var description: String {
      "freed \(freed.map(String.init) ?? "-") lockup \(scanLockup) purged \(purged) next count \(nextCount.map(String.init) ?? "lockup") reports \(reports)"
    }
  }

  func scanOutcome(_ variant: Variant, _ c: MadviseCase) throws -> ScanOutcome {
    let (rig, bos) = try repeatedDontneed(variant, c)
    let mark = rig.listReports.count
    var outcome = ScanOutcome(freed: nil, scanLockup: false, purged: [], nextCount: nil, reports: [])
    do {
      if case .freed(let n) = try rig.scan() { outcome.freed = n }
    } catch KernelHalt.lockup(let why) {
      outcome.scanLockup = why.contains("panfrost_gem_shrinker_scan")
    }
    outcome.reports = Array(rig.listReports[mark...])
    outcome.purged = bos.indices.filter { bos[$0].base.madv == -1 }
    #expect(outcome.purged.allSatisfy { bos[$0].base.pages == nil && !rig.pfdev.contentIntact(bos[$0], seed: 7) })
    #expect(
      bos.indices.filter { !outcome.purged.contains($0) }.allSatisfy { rig.pfdev.contentIntact(bos[$0], seed: 7) })
    outcome.nextCount = try? rig.count()
    let audit = try rig.teardown()
    #expect(audit.isClean, "\(variant): \(audit)")
    return outcome
  }

  /// After the fix a scan purges every DONTNEED BO and empties the list. Before it: a
  /// self-linked tail makes the scan spin once it purged everything before it; a re-added
  /// head is purged alone and left self-linked but still the list's first entry, so the next
  /// count spins; for a re-added middle BO the scan purges up to X and the BOs after it are
  /// never purged: without DEBUG_LIST the list ends empty with them cut off, with DEBUG_LIST
  /// the unlink of X's predecessor is reported and refused, leaving a self-linked entry the
  /// next count spins on.
  @Test("A later shrinker scan", arguments: MadviseCase.all)
  func laterScan(_ c: MadviseCase) throws {
    let all = Array(0..<c.length)
    let after = try scanOutcome(.after, c)
    #expect(after == ScanOutcome(freed: c.length, scanLockup: false, purged: all, nextCount: 0, reports: []))

    let before = try scanOutcome(.before, c)
    let rig = PanfrostRig(.before, c)
    let bos = try rig.makeList(c.length)
    switch c.position {
    case .sole where c.debugList, .tail where c.debugList:
      #expect(before == after, "the double add was refused, so the scan is the same")
    case .sole, .tail:
      #expect(before == ScanOutcome(freed: nil, scanLockup: true, purged: all, nextCount: nil, reports: []))
    case .head:
      #expect(before == ScanOutcome(freed: 1, scanLockup: false, purged: [0], nextCount: nil, reports: []))
    case .middle where c.debugList:
      // The successor of bo0 is X, whose prev the double add pointed at the tail.
      let report = [
        "------------[ cut here ]------------",
        "list_del corruption. next->prev should be \(rig.px(bos[0])), but was \(rig.px(bos.last!))",
      ]
      #expect(before == ScanOutcome(freed: 2, scanLockup: false, purged: [0, 1], nextCount: nil, reports: report))
    case .middle:
      #expect(before == ScanOutcome(freed: 2, scanLockup: false, purged: [0, 1], nextCount: 0, reports: []))
    }
    #expect(try rig.teardown().isClean)
  }

  /// Freeing a BO takes it off the list (`list_del_init()` in `panfrost_gem_free_object()`).
  /// Before the fix, freeing X's successor is what DEBUG_LIST reports ("list_del
  /// corruption. prev->next should be ..."); without DEBUG_LIST the unlink writes through the
  /// stale pointers and the next count spins; freeing a self-linked X leaves it reachable, so
  /// the next count walks into freed memory. After the fix nothing is reported and the count
  /// is what is left.
  @Test("A later free of a BO (the list_del in panfrost_gem_free_object)", arguments: MadviseCase.all)
  func laterFree(_ c: MadviseCase) throws {
    for variant in Variant.allCases {
      let (rig, bos) = try repeatedDontneed(variant, c)
      // The successor of X if there is one, else X itself.
      let victim = c.xIsLast ? c.x : c.x + 1
      let mark = rig.listReports.count
      try rig.pfdev.gemClose(rig.file, rig.pfdev.handle(of: bos[victim], in: rig.file)!)
      #expect(bos[victim].isFreed)
      let reports = Array(rig.listReports[mark...])
      var countResult: Result<Int, KernelHalt>
      do {
        countResult = .success(try rig.count())
      } catch let halt as KernelHalt {
        countResult = .failure(halt)
      }
      switch variant {
      case .after:
        #expect(reports.isEmpty)
        #expect(countResult == .success(c.length - 1))
      case .before where c.xIsLast && c.debugList:
        #expect(reports.isEmpty)
        #expect(countResult == .success(c.length - 1))
      case .before where c.xIsLast:
        #expect(reports.isEmpty)
        guard case .failure(.oops(let message, _)) = countResult else {
          Issue.record("expected the count to reach the freed BO, got \(countResult)")
          break
        }
        #expect(message.contains("use-after-free") && message.contains(bos[c.x].name))
      case .before where c.debugList:
        #expect(
          reports == [
            "------------[ cut here ]------------",
            "list_del corruption. prev->next should be \(rig.px(bos[victim])), but was \(rig.px(nil))",
          ])
        #expect(countResult == .success(c.x + 1), "the forward chain still ends at X")
      case .before:
        #expect(reports.isEmpty)
        #expect(isLockup(in: "panfrost_gem_shrinker_count") { _ = try countResult.get() })
      }
      let audit = try rig.teardown()
      #expect(audit.isClean, "\(variant): \(audit)")
    }
  }

  // MARK: Memory under pressure

  /// What reclaim got back from the shrinker when an application needed memory.
  struct PressureOutcome: Equatable, CustomStringConvertible {
    /// BO pages the shrinker purged.
    var purgedPages: Int
    /// OOM kills the allocations caused.
    var oomKills: Int
    /// Reclaim stopped in a never-ending shrinker walk.
    var lockup: Bool
    var description: String { "purged \(purgedPages), OOM kills \(oomKills), lockup \(lockup)" }
  }

  /// Every BO holds 4 pages; a bystander holds every other page; then an application
  /// allocates as many pages as the BOs hold, one `GFP_KERNEL` page at a time, so every
  /// allocation goes through direct reclaim and the shrinker registered with it.
  func pressure(_ variant: Variant, _ c: MadviseCase) throws -> PressureOutcome {
    let pages = 4
    let (rig, bos) = try repeatedDontneed(variant, c, pages: pages)
    try rig.machine.spawnTask("chrome", rssPages: rig.machine.mem.nrFreePages)
    var got: [Page] = []
    var lockup = false
    do {
      for _ in 0..<(c.length * pages) {
        got.append(try #require(try rig.machine.allocPages(.GFP_KERNEL, order: 0, owner: .other("app"))))
      }
    } catch KernelHalt.lockup(let why) {
      lockup = why.contains("panfrost_gem_shrinker")
    }
    let outcome = PressureOutcome(
      purgedPages: bos.filter { $0.base.madv == -1 }.count * pages, oomKills: rig.machine.vmstat.oomKill,
      lockup: lockup)
    if outcome.purgedPages > 0 {
      #expect(!rig.machine.dmesg.grep("Purging ").isEmpty)
    }
    let audit = try rig.teardown(freeing: got)
    #expect(audit.isClean, "\(variant): \(audit)")
    return outcome
  }

  /// After the fix reclaim purges every DONTNEED BO and the application gets its memory
  /// without killing anyone. Before it reclaim either spins in the shrinker (a self-linked
  /// entry) or gets back only the BOs up to X and then OOM-kills the bystander, while the
  /// lost BOs keep their pages.
  @Test("Memory the shrinker can give back under pressure", arguments: MadviseCase.all)
  func memoryUnderPressure(_ c: MadviseCase) throws {
    let total = c.length * 4
    let after = try pressure(.after, c)
    #expect(after == PressureOutcome(purgedPages: total, oomKills: 0, lockup: false))
    let before = try pressure(.before, c)
    switch c.position {
    case .sole where c.debugList, .tail where c.debugList:
      #expect(before == after)
    case .sole, .tail:
      #expect(before == PressureOutcome(purgedPages: 0, oomKills: 0, lockup: true))
    case .head:
      #expect(before == PressureOutcome(purgedPages: 4, oomKills: 0, lockup: true))
    case .middle where c.debugList:
      #expect(before == PressureOutcome(purgedPages: 8, oomKills: 0, lockup: true))
    case .middle:
      #expect(before == PressureOutcome(purgedPages: 8, oomKills: 1, lockup: false))
    }
  }

  // MARK: Negative controls: equal outcomes

  /// Everything observable after a sequence and a later count and scan, for comparing the
  /// variants.
  struct Observation: Equatable {
    var retained: [UInt32]
    var state: [String]
    var dmesg: [String]
    var count: Int?
    var scan: ShrinkResult?
    var purged: [Int32]
  }

  func observe(
    _ variant: Variant, _ c: MadviseCase, _ body: (PanfrostRig, [PanfrostGEMObject]) throws -> [UInt32]
  ) throws -> Observation {
    let rig = PanfrostRig(variant, c)
    let bos = try rig.makeList(c.length)
    let retained = try body(rig, bos)
    var o = Observation(
      retained: retained, state: rig.state, dmesg: [], count: try? rig.count(), scan: try? rig.scan(), purged: [])
    o.purged = bos.map(\.base.madv)
    o.dmesg = rig.machine.dmesg.lines.map(\.description)
    #expect(rig.pfdev.lists.violations(rig.pfdev.shrinkerList).isEmpty)
    let audit = try rig.teardown()
    #expect(audit.isClean, "\(variant): \(audit)")
    return o
  }

  /// DONTNEED, WILLNEED, DONTNEED takes X off the list before it goes back on, so
  /// `list_add_tail()` and `list_move_tail()` do the same thing: X ends at the tail.
  @Test("Control: DONTNEED, WILLNEED, DONTNEED behaves the same in both", arguments: MadviseCase.all)
  func dontneedWillneedDontneed(_ c: MadviseCase) throws {
    let body: (PanfrostRig, [PanfrostGEMObject]) throws -> [UInt32] = { rig, bos in
      [try rig.madvise(bos[c.x], PANFROST_MADV_WILLNEED), try rig.madvise(bos[c.x], PANFROST_MADV_DONTNEED)]
    }
    let before = try observe(.before, c, body)
    let after = try observe(.after, c, body)
    #expect(before == after)
    #expect(before.retained == [1, 1])
    let order = (0..<c.length).filter { $0 != c.x }.map { "bo\($0)" } + ["bo\(c.x)"]
    #expect(before.state == ringState(["shrinker_list"] + (0..<c.length).map { "bo\($0)" }, order: order))
    #expect(before.count == c.length && before.scan == .freed(c.length))
  }

  /// A purged BO stays purged: DONTNEED and WILLNEED return `retained == 0` and touch no
  /// list, so both variants agree.
  @Test("Control: a purged BO is left alone by both", arguments: [1, 2, 3, 4], [false, true])
  func purgedBO(length: Int, debugList: Bool) throws {
    let c = MadviseCase(position: length == 1 ? .sole : .tail, length: length, debugList: debugList)
    let body: (PanfrostRig, [PanfrostGEMObject]) throws -> [UInt32] = { rig, bos in
      #expect(try rig.scan() == .freed(length))
      return try bos.flatMap { bo in
        [
          try rig.madvise(bo, PANFROST_MADV_DONTNEED), try rig.madvise(bo, PANFROST_MADV_DONTNEED),
          try rig.madvise(bo, PANFROST_MADV_WILLNEED),
        ]
      }
    }
    let before = try observe(.before, c, body)
    let after = try observe(.after, c, body)
    #expect(before == after)
    #expect(before.retained == Array(repeating: 0, count: 3 * length))
    #expect(before.purged == Array(repeating: -1, count: length))
    #expect(before.count == 0 && before.scan == .freed(0))
  }

  // MARK: Kernel trees

  /// The tree decides, not a flag: every stack without the patch carries the buggy ioctl
  /// (the code exists since 5.4, so the patch requires nothing), every stack with it the fix.
  @Test(
    "A tree's stack decides which ioctl runs",
    arguments: [[], ["shmem-backup-v14"], ["madvise-list-move"], ["shmem-backup-v14", "madvise-list-move"]])
  func treeDecides(stack: [String]) throws {
    let tree = try KernelTree(stack: stack)
    #expect(tree.hasCode(of: MadviseListMove.self))
    let machine = Machine(MachineConfig(memoryPages: 64))
    let pfdev = PanfrostDevice(machine: machine, functions: tree.kernelFunctions.panfrost)
    let file = pfdev.open()
    let bo = try pfdev.createBO(file, size: PAGE_SIZE)
    for _ in 0..<2 { #expect(try pfdev.madvise(file, bo, PANFROST_MADV_DONTNEED) == (0, 1)) }
    if stack.contains("madvise-list-move") {
      #expect(pfdev.shrinkerListWalk() == .complete([bo.base.madvList]))
    } else {
      #expect(pfdev.shrinkerListWalk() == .cycle(visited: [bo.base.madvList], repeated: bo.base.madvList))
    }
    try pfdev.close(file)
    pfdev.fini()
    #expect(machine.audit().isClean)
  }

  // MARK: CONFIG_BUG_ON_DATA_CORRUPTION

  /// With `CONFIG_BUG_ON_DATA_CORRUPTION` the "list_add double add" report is `pr_err()` and
  /// `BUG()`: the process dies like the kernel's task. After the fix there is nothing to
  /// report and the process exits normally.
  @Test("CONFIG_BUG_ON_DATA_CORRUPTION: the before variant traps like the kernel's BUG", arguments: Variant.allCases)
  func bugOnDataCorruption(_ variant: Variant) async {
    let result = await #expect(
      processExitsWith: variant == .before ? .failure : .success, observing: [\.standardErrorContent]
    ) { [variant] in
      let config = ListDebugConfig(
        debugList: true, bugOnDataCorruption: true, messages: .withoutPointerSuffix, bugAction: .trap)
      let rig = PanfrostRig(variant, listDebug: config)
      let bo = try rig.pfdev.createBO(rig.file, size: PAGE_SIZE, name: "bo0")
      _ = try rig.pfdev.madvise(rig.file, bo, PANFROST_MADV_DONTNEED)
      _ = try rig.pfdev.madvise(rig.file, bo, PANFROST_MADV_DONTNEED)
      try rig.pfdev.close(rig.file)
      rig.pfdev.fini()
      precondition(rig.machine.audit().isClean)
    }
    let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    switch variant {
    case .before: #expect(stderr.contains("kernel BUG at lib/list_debug.c!") && stderr.contains("list_add double add"))
    case .after: #expect(!stderr.contains("kernel BUG"))
    }
  }

  /// The same configuration in process (`bugAction: .throwHalt`): the BUG is a halt, and its
  /// `pr_err()` line is in the log at `KERN_ERR`.
  @Test("CONFIG_BUG_ON_DATA_CORRUPTION in process: BUG before, nothing after", arguments: Variant.allCases)
  func bugOnDataCorruptionInProcess(_ variant: Variant) throws {
    let rig = PanfrostRig(
      variant, listDebug: ListDebugConfig(debugList: true, bugOnDataCorruption: true, messages: .withoutPointerSuffix))
    let bos = try rig.makeList(2)
    switch variant {
    case .before:
      let halt = #expect(throws: KernelHalt.self) { try rig.pfdev.madvise(rig.file, bos[1], PANFROST_MADV_DONTNEED) }
      guard case .bug(let text)? = halt else {
        Issue.record("expected BUG(), got \(String(describing: halt))")
        break
      }
      #expect(text.hasPrefix("kernel BUG at lib/list_debug.c!") && text.contains("list_add double add"))
      #expect(rig.machine.dmesg.grep("list_add double add").map(\.level) == [.err])
    case .after:
      let r = try rig.pfdev.madvise(rig.file, bos[1], PANFROST_MADV_DONTNEED)
      #expect(r.ret == 0 && r.retained == 1)
      #expect(rig.machine.dmesg.lines.isEmpty)
    }
    #expect(!rig.pfdev.shrinkerLock.locked, "the model releases the locks after the halt")
    #expect(try rig.teardown().isClean)
  }
}

/// What panfrost's madvise and shrinker do the same in both variants: `retained`, purge,
/// the ioctl's refusals, the `gpu_usecount` skip, the trylocks, `nr_to_scan`, and reclaim
/// calling the registered shrinker. Each test runs both variants with the same expectation.
@Suite(
  "panfrost madvise and shrinker: what both variants share",
  .tags(.madviseListMove),
  .bug(
    "https://git.kernel.org/torvalds/c/9fc33eaaa979d112d10fea729edcd2a2e21aa912",
    id: "9fc33eaaa979", "drm/panfrost: Fix shrinker list corruption by madvise IOCTL"))
struct PanfrostShrinkerTests {
  /// IGT vc4 `mark-unpurgeable-check-retained` and `mark-unpurgeable-purged`, on panfrost:
  /// WILLNEED after DONTNEED reports `retained` and the content is intact; after a purge it
  /// reports 0, the pages are gone, and the BO stays purged whatever userspace says.
  @Test("retained: kept content until purged; a purged BO stays purged", arguments: Variant.allCases)
  func retained(_ variant: Variant) throws {
    let rig = PanfrostRig(variant)
    let bos = try rig.makeList(2, pages: 3)
    #expect(try rig.madvise(bos[0], PANFROST_MADV_WILLNEED) == 1)
    #expect(rig.pfdev.contentIntact(bos[0], seed: 7) && bos[0].base.madv == 0)
    #expect(try rig.scan() == .freed(3))
    #expect(rig.machine.dmesg.grep("Purging 12288 bytes").count == 1)
    #expect(bos[1].base.madv == -1 && bos[1].base.pages == nil && !bos[1].base.hasSGT)
    #expect(bos[1].mappings.allSatisfy { !$0.active }, "the GPU mappings were torn down")
    #expect(try rig.madvise(bos[1], PANFROST_MADV_WILLNEED) == 0)
    #expect(try rig.madvise(bos[1], PANFROST_MADV_DONTNEED) == 0)
    #expect(bos[1].base.madv == -1)
    #expect(rig.pfdev.shrinkerListWalk() == .complete([]))
    #expect(rig.pfdev.contentIntact(bos[0], seed: 7))
    #expect(rig.machine.vmstat.nrShmem == 3, "only the kept BO's pages remain in shmem")
    #expect(try rig.teardown().isClean)
  }

  /// -ENOENT for an unknown handle; -EINVAL for DONTNEED on a BO another file also maps
  /// ("there must be only one user: the caller FD"), leaving the list alone; WILLNEED is
  /// allowed.
  @Test("The ioctl's refusals", arguments: Variant.allCases)
  func refusals(_ variant: Variant) throws {
    let rig = PanfrostRig(variant)
    let bo = try rig.pfdev.createBO(rig.file, size: PAGE_SIZE)
    let r = try rig.pfdev.madvise(rig.file, 42, PANFROST_MADV_DONTNEED)
    #expect(r.ret == Errno.ENOENT.negated && r.retained == 0)
    #expect(rig.machine.dmesg.grep("Failed to look up GEM BO 42").map(\.level) == [.debug])
    let other = rig.pfdev.open()
    try rig.pfdev.share(bo, with: other)
    let shared = try rig.pfdev.madvise(rig.file, bo, PANFROST_MADV_DONTNEED)
    #expect(shared.ret == Errno.EINVAL.negated && bo.base.madv == 0)
    #expect(rig.pfdev.shrinkerListWalk() == .complete([]))
    #expect(try rig.pfdev.madvise(other, bo, PANFROST_MADV_WILLNEED) == (0, 1))
    try rig.pfdev.close(other)
    #expect(try rig.madvise(bo, PANFROST_MADV_DONTNEED) == 1, "the sole user may mark it now")
    #expect(bo.refcount == 1, "lookups dropped their references")
    #expect(try rig.teardown().isClean)
  }

  /// `panfrost_gem_purge()` skips a BO the GPU is using; it stays on the list, counted, and
  /// is purged once the job is done.
  @Test("BOs in use by the GPU are skipped", arguments: Variant.allCases)
  func gpuUsecount(_ variant: Variant) throws {
    let rig = PanfrostRig(variant)
    let bos = try rig.makeList(3)
    rig.pfdev.jobStart(bos[1])
    #expect(try rig.count() == 3)
    #expect(try rig.scan() == .freed(2))
    #expect(bos.map(\.base.madv) == [-1, 1, -1])
    #expect(rig.pfdev.shrinkerListWalk() == .complete([bos[1].base.madvList]))
    #expect(try rig.count() == 1)
    try rig.pfdev.jobDone(bos[1])
    #expect(try rig.scan() == .freed(1))
    #expect(try rig.teardown().isClean)
  }

  /// The shrinker only trylocks: a held `shrinker_lock` makes count return 0 and scan
  /// `SHRINK_STOP`; a held `mappings.lock` or `pages_lock` makes the purge skip that BO.
  @Test("Trylocks: contention skips instead of waiting", arguments: Variant.allCases)
  func trylocks(_ variant: Variant) throws {
    let rig = PanfrostRig(variant)
    let bos = try rig.makeList(3)
    let taken = rig.pfdev.shrinkerLock.trylock()
    #expect(taken)
    #expect(try rig.count() == 0)
    #expect(try rig.scan() == .stop)
    rig.pfdev.shrinkerLock.unlock()
    let mappingsTaken = bos[0].mappingsLock.trylock()
    let pagesTaken = bos[1].base.pagesLock.trylock()
    #expect(mappingsTaken && pagesTaken)
    #expect(try rig.scan() == .freed(1))
    #expect(bos.map(\.base.madv) == [1, 1, -1])
    bos[0].mappingsLock.unlock()
    bos[1].base.pagesLock.unlock()
    #expect(try rig.scan() == .freed(2))
    #expect(try rig.teardown().isClean)
  }

  /// The scan stops once it freed `nr_to_scan` pages, checked before each BO, so a BO
  /// larger than what is left is purged whole.
  @Test("nr_to_scan bounds the scan in pages", arguments: Variant.allCases)
  func nrToScan(_ variant: Variant) throws {
    let rig = PanfrostRig(variant)
    let bos = try rig.makeList(3, pages: 4)
    #expect(try rig.scan(1) == .freed(4))
    #expect(try rig.scan(5) == .freed(8))
    #expect(bos.allSatisfy { $0.base.madv == -1 })
    #expect(try rig.scan(1) == .freed(0))
    #expect(try rig.teardown().isClean)
  }

  /// The shrinker is registered with the page allocator: an allocation under pressure gets
  /// the DONTNEED BOs' pages through direct reclaim and kills nobody. Once the device is
  /// removed, the same pressure OOM-kills the bystander.
  @Test("Reclaim calls the registered shrinker", arguments: Variant.allCases, [true, false])
  func registered(_ variant: Variant, registered: Bool) throws {
    let rig = PanfrostRig(variant)
    let bos = try rig.makeList(2, pages: 8)
    if !registered { rig.machine.unregisterShrinker(rig.pfdev.shrinker!) }
    try rig.machine.spawnTask("chrome", rssPages: rig.machine.mem.nrFreePages)
    let page = try #require(try rig.machine.allocPages(.GFP_KERNEL, order: 0, owner: .other("app")))
    if registered {
      #expect(bos.allSatisfy { $0.base.madv == -1 } && rig.machine.vmstat.oomKill == 0)
      #expect(rig.machine.dmesg.grep("Purging 65536 bytes").count == 1)
    } else {
      #expect(bos.allSatisfy { $0.base.madv == 1 } && rig.machine.vmstat.oomKill == 1)
      rig.machine.registerShrinker(rig.pfdev.shrinker!)
    }
    #expect(try rig.teardown(freeing: [page]).isClean)
  }
}
