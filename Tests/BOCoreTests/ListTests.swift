import Testing

@testable import BOCore

/// Where the re-added node sits in the list.
enum ListPosition: String, CaseIterable, Codable, Sendable {
  case sole, head, middle, tail
}

/// The second operation on a node already on the list.
enum ReAdd: String, CaseIterable, Codable, Sendable {
  /// The panfrost bug: `list_add_tail()` again.
  case listAddTail = "list_add_tail"
  /// The fix: `list_move_tail()`.
  case listMoveTail = "list_move_tail"
}

struct ListCase: Codable, Sendable, CustomTestStringConvertible {
  let position: ListPosition
  let length: Int
  let debugList: Bool
  let op: ReAdd

  var testDescription: String {
    "\(op) of the \(position) node of \(length), DEBUG_LIST \(debugList ? "on" : "off")"
  }

  /// Every valid combination: a sole node needs length 1, head and tail at least 2, middle 3.
  static let all: [ListCase] = ListPosition.allCases.flatMap { position in
    (1...4).filter { length in
      switch position {
      case .sole: length == 1
      case .head, .tail: length >= 2
      case .middle: length >= 3
      }
    }.flatMap { length in
      [false, true].flatMap { debug in
        ReAdd.allCases.map { ListCase(position: position, length: length, debugList: debug, op: $0) }
      }
    }
  }

  var xIndex: Int {
    switch position {
    case .sole, .head: 0
    case .middle: 1
    case .tail: length - 1
    }
  }
  var xIsLast: Bool { xIndex == length - 1 }
}

/// A list `H -> N0 -> ... -> N(length-1) -> H` built with `list_add_tail()`.
func makeList(_ length: Int, config: ListDebugConfig) throws -> (ListHeads, ListNodeID, [ListNodeID]) {
  var l = ListHeads(config: config)
  let h = l.makeNode("H")
  var nodes: [ListNodeID] = []
  for i in 0..<length {
    let n = l.makeNode("N\(i)")
    try l.listAddTail(n, h)
    nodes.append(n)
  }
  return (l, h, nodes)
}

/// The pointer state of a well-formed ring `H -> order... -> H`, with some fields overridden.
func expectedState(
  _ names: [String], order: [String], overriding: [String: (next: String?, prev: String?)] = [:]
) -> [String] {
  let ring = ["H"] + order
  var next: [String: String] = [:]
  var prev: [String: String] = [:]
  for (i, n) in ring.enumerated() {
    next[n] = ring[(i + 1) % ring.count]
    prev[n] = ring[(i + ring.count - 1) % ring.count]
  }
  for (n, o) in overriding {
    if let v = o.next { next[n] = v }
    if let v = o.prev { prev[n] = v }
  }
  return names.map { "\($0): next=\(next[$0]!) prev=\(prev[$0]!)" }
}

@Suite("list_head and CONFIG_DEBUG_LIST", .tags(.list))
struct ListTests {
  /// The exact pointer state after re-adding a node, derived from the kernel's code:
  /// `list_add_tail(X, H)` is `__list_add(X, H->prev, H)`, which stores `H->prev = X`,
  /// `X->next = H`, `X->prev = T`, `T->next = X` (T = the old tail). DEBUG_LIST refuses the
  /// add only when `X == prev || X == next`, i.e. when X is already the tail.
  @Test("pointer state after a second add versus a move", arguments: ListCase.all)
  func pointerState(_ c: ListCase) throws {
    var (l, h, nodes) = try makeList(c.length, config: c.debugList ? .on : .off)
    let x = nodes[c.xIndex]
    let order = nodes.map { l.names[$0.index] }
    let xName = l.names[x.index]
    let tName = order.last!
    let all = l.names

    switch c.op {
    case .listMoveTail:
      try l.listMoveTail(x, h)
      #expect(l.pointerState() == expectedState(all, order: order.filter { $0 != xName } + [xName]))
      #expect(l.reports.isEmpty)
      #expect(l.violations(h, members: Set(nodes)).isEmpty)

    case .listAddTail:
      try l.listAddTail(x, h)
      if c.xIsLast && c.debugList {
        // prev == X: "list_add double add", and __list_add() returns without writing.
        #expect(l.pointerState() == expectedState(all, order: order))
        #expect(
          l.reports == [
            "------------[ cut here ]------------",
            "list_add double add: new=\(l.px(.node(x))), prev=\(l.px(.node(x))), next=\(l.px(.node(h))).",
          ])
        #expect(l.violations(h, members: Set(nodes)).isEmpty)
      } else if c.xIsLast {
        // H->prev = X and X->next = H rewrite what was there; X->prev = X and X->next = X
        // (prev->next = new with prev == X) make X point to itself.
        #expect(l.pointerState() == expectedState(all, order: order, overriding: [xName: ("\(xName)", "\(xName)")]))
        #expect(l.reports.isEmpty)
        // A forward walk reaches X and spins there.
        #expect(l.walk(h) == .cycle(visited: nodes, repeated: x))
      } else {
        // Middle or head: every DEBUG_LIST add check passes (H->prev == T, T->next == H,
        // X != T, X != H), so both configs corrupt silently.
        #expect(
          l.pointerState()
            == expectedState(
              all, order: order,
              overriding: ["H": (nil, xName), xName: ("H", tName), tName: (xName, nil)]))
        #expect(l.reports.isEmpty)
        // Forward: H -> ... -> X -> H, the successors of X are lost.
        #expect(l.walk(h) == .complete(Array(nodes[...c.xIndex])))
        let lost = l.violations(h, members: Set(nodes)).compactMap {
          if case .lost(let n) = $0 { n } else { nil }
        }
        #expect(lost == Array(nodes[(c.xIndex + 1)...]))
        // Backward: H -> X -> T -> ... -> successor of X -> X again: an endless cycle.
        guard case .cycle(_, let repeated) = l.walk(h, backward: true) else {
          Issue.record("backward walk should cycle")
          return
        }
        #expect(repeated == x)
      }
    }
  }

  /// What happens later, once the list is corrupted: the next `list_del()` of X's successor
  /// B is what DEBUG_LIST catches for a head or middle node. Without it the unlink writes
  /// through the stale pointers (`__list_del(B->prev, B->next)` with B->prev == X).
  @Test(
    "a later list_del of the successor reports the corruption only with DEBUG_LIST",
    arguments: [ListPosition.head, .middle], [false, true])
  func laterListDel(_ position: ListPosition, _ debug: Bool) throws {
    var (l, h, nodes) = try makeList(3, config: debug ? .on : .off)
    let x = nodes[position == .head ? 0 : 1]
    let b = nodes[position == .head ? 1 : 2]
    try l.listAddTail(x, h)
    let before = l.pointerState()
    try l.listDel(b)
    // list_del() poisons the entry even when the check refused the unlink.
    #expect(l.nextOf(b) == .poison1 && l.prevOf(b) == .poison2)
    let all = l.names
    let bName = l.names[b.index]
    if debug {
      // b->prev is still X, but X->next is now H; nothing else was written.
      #expect(
        l.reports.last
          == "list_del corruption. prev->next should be \(l.px(.node(b))), but was \(l.px(.node(h))). (prev=\(l.px(.node(x))))"
      )
      #expect(
        l.pointerState().filter { !$0.hasPrefix("\(bName):") } == before.filter { !$0.hasPrefix("\(bName):") })
    } else if position == .head {
      // After the re-add: H->N0 (X), N0->H, N0->prev = N2, N2->next = N0, N1->prev = N0.
      // __list_del(N0, N2) stores N2->prev = N0 and N0->next = N2: H -> N0 -> N2 -> N0 ...
      #expect(l.reports.isEmpty)
      #expect(
        l.pointerState().filter { !$0.hasPrefix("\(bName):") }
          == expectedState(
            all.filter { $0 != bName }, order: ["N0", "N2"],
            overriding: ["H": (nil, "N0"), "N0": (nil, "N2"), "N2": ("N0", nil)]))
      #expect(l.walk(h) == .cycle(visited: [nodes[0], nodes[2]], repeated: nodes[0]))
    } else {
      // After the re-add: N1 (X) -> H, N1->prev = N2, N2->next = N1, H->prev = N1.
      // __list_del(N2->prev = N1, N2->next = N1) makes N1 point to itself.
      #expect(l.reports.isEmpty)
      #expect(
        l.pointerState().filter { !$0.hasPrefix("\(bName):") }
          == expectedState(all.filter { $0 != bName }, order: ["N0", "N1"], overriding: ["N1": ("N1", "N1")]))
      #expect(l.walk(h) == .cycle(visited: [nodes[0], nodes[1]], repeated: nodes[1]))
    }
  }

  @Test("the older wording has no (prev=...) suffix")
  func v5Wording() throws {
    var (l, h, nodes) = try makeList(3, config: ListDebugConfig(debugList: true, messages: .withoutPointerSuffix))
    try l.listAddTail(nodes[1], h)
    try l.listDel(nodes[2])
    #expect(
      l.reports.last
        == "list_del corruption. prev->next should be \(l.px(.node(nodes[2]))), but was \(l.px(.node(h)))")
  }

  /// Without DEBUG_LIST, a tail node re-added points to itself; a walk over the list (the
  /// shrinker's count or scan) never ends.
  @Test("a safe walk over the self-linked tail is reported as a lockup, not a hang")
  func walkLockup() throws {
    var (l, h, nodes) = try makeList(2, config: .off)
    try l.listAddTail(nodes[1], h)
    var visits = 0
    let error = #expect(throws: KernelHalt.self) {
      try l.forEachSafe(h, "panfrost_gem_shrinker_count") { _, _ in
        visits += 1
        return true
      }
    }
    guard case .lockup(let why)? = error else {
      Issue.record("expected a lockup")
      return
    }
    #expect(why.contains("panfrost_gem_shrinker_count") && why.contains("soft lockup"))
    #expect(visits > nodes.count)
  }

  /// After a self-linked tail is `list_del()`ed, its predecessor still points to it and the
  /// next walk dereferences `LIST_POISON1`: a general protection fault on x86_64.
  @Test("a walk that reaches a poisoned entry oopses")
  func poisonFault() throws {
    var (l, h, nodes) = try makeList(2, config: .off)
    try l.listAddTail(nodes[1], h)
    try l.listDel(nodes[1])
    #expect(l.walk(h) == .fault(visited: nodes, at: .poison1))
    let error = #expect(throws: KernelHalt.self) {
      try l.forEachSafe(h, "panfrost_gem_shrinker_scan") { _, _ in true }
    }
    #expect(
      error
        == .oops(
          message:
            "general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI",
          callChain: []))
  }

  @Test("CONFIG_BUG_ON_DATA_CORRUPTION turns the report into BUG()")
  func bugOnDataCorruption() throws {
    var (l, h, nodes) = try makeList(1, config: ListDebugConfig(debugList: true, bugOnDataCorruption: true))
    let error = #expect(throws: KernelHalt.self) { try l.listAddTail(nodes[0], h) }
    guard case .bug(let text)? = error else {
      Issue.record("expected BUG()")
      return
    }
    #expect(text.hasPrefix("kernel BUG at lib/list_debug.c!") && text.contains("list_add double add"))
    // pr_err() and BUG(), no WARN "cut here" line.
    #expect(l.reports.count == 1)
  }

  @Test("list_move_tail of a self-linked node is list_add_tail; list_del_init makes it self-linked")
  func moveAndDelInit() throws {
    var (l, h, nodes) = try makeList(2, config: .on)
    let x = l.makeNode("X")
    try l.listMoveTail(x, h)
    #expect(l.walk(h) == .complete(nodes + [x]))
    try l.listDelInit(nodes[0])
    #expect(l.nextOf(nodes[0]) == .node(nodes[0]) && l.prevOf(nodes[0]) == .node(nodes[0]))
    try l.listDelInit(nodes[0])  // deleting a self-linked entry is harmless
    #expect(l.walk(h) == .complete([nodes[1], x]))
    #expect(l.reports.isEmpty && l.violations(h).isEmpty)
    #expect(l.listIsSingular(h) == false)
  }

  @Test("an uninitialised (zeroed) list_head is caught by DEBUG_LIST and oopses without it")
  func uninitialised() throws {
    var on = ListHeads(config: .on)
    let h = on.makeNode("H", initialized: false)
    let n = on.makeNode("N")
    try on.listAddTail(n, h)
    #expect(on.reports.last == "list_add corruption. prev is NULL.")
    var off = ListHeads(config: .off)
    let h2 = off.makeNode("H", initialized: false)
    let n2 = off.makeNode("N")
    // __list_add(N, H->prev == NULL, H): the stores to H->prev, N->next and N->prev succeed;
    // the last one, prev->next, writes to NULL + offsetof(next) = 0.
    #expect(
      throws: KernelHalt.oops(message: "BUG: kernel NULL pointer dereference, address: 0000000000000000", callChain: [])
    ) { try off.listAddTail(n2, h2) }
  }
}
