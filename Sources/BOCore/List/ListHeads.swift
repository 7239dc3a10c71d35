/// A `struct list_head` in the model's memory.
public struct ListNodeID: Hashable, Comparable, Codable, Sendable {
  /// The slot in ``ListHeads``.
  public let index: Int

  public static func < (a: ListNodeID, b: ListNodeID) -> Bool { a.index < b.index }
}

/// What a `list_head` field (`next` or `prev`) holds.
public enum ListPointer: Hashable, Codable, Sendable {
  /// `NULL`, e.g. a zeroed, never initialised `list_head`.
  case null
  /// A pointer to a `list_head`.
  case node(ListNodeID)
  /// `LIST_POISON1`, which `list_del()` stores in `next`.
  case poison1
  /// `LIST_POISON2`, which `list_del()` stores in `prev`.
  case poison2

  /// The node pointed to, if this is a valid pointer.
  public var node: ListNodeID? {
    if case .node(let n) = self { return n }
    return nil
  }
}

/// `POISON_POINTER_DELTA` on x86_64 (`CONFIG_ILLEGAL_POINTER_VALUE`).
public let POISON_POINTER_DELTA: UInt64 = 0xdead_0000_0000_0000
/// `LIST_POISON1` on x86_64: `0x100 + POISON_POINTER_DELTA`.
public let LIST_POISON1: UInt64 = 0x100 + POISON_POINTER_DELTA
/// `LIST_POISON2` on x86_64: `0x122 + POISON_POINTER_DELTA`.
public let LIST_POISON2: UInt64 = 0x122 + POISON_POINTER_DELTA

/// The list-debugging options of a kernel build.
public struct ListDebugConfig: Hashable, Codable, Sendable {
  /// Which wording of `lib/list_debug.c` the reports use.
  public enum Messages: String, Hashable, Codable, Sendable {
    /// The `__list_*_valid_or_report()` wording (6.6 and later): the last two `list_del`
    /// messages end with `. (prev=%px)` / `. (next=%px)`.
    case withPointerSuffix
    /// The older wording without that suffix (5.x). Which release added the suffix is
    /// UNVERIFIED; the model keeps the NULL checks and `%px` of late 5.x trees (an Android
    /// 5.15 tree has them), while 4.x and early 5.x printed `%p` and had no NULL checks. The
    /// NULL checks only fire on never-initialised nodes.
    case withoutPointerSuffix
  }

  /// What `BUG()` does in the model.
  public enum BugAction: String, Hashable, Codable, Sendable {
    /// Throw ``KernelHalt/bug(_:)`` so the caller can inspect it in process.
    case throwHalt
    /// Trap the process (`fatalError`), as the kernel's `BUG()` kills the task; for exit tests.
    case trap
  }

  /// `CONFIG_DEBUG_LIST`: check every add and delete. `CONFIG_LIST_HARDENED` without
  /// DEBUG_LIST is not modelled: its inline check dereferences `prev->next`/`next->prev`
  /// before reporting, so it can fault where DEBUG_LIST reports.
  public let debugList: Bool
  /// `CONFIG_BUG_ON_DATA_CORRUPTION`: a failed check is `pr_err()` plus `BUG()` instead of
  /// `WARN()`. It selects DEBUG_LIST in the kernel, so it requires ``debugList``.
  public let bugOnDataCorruption: Bool
  /// Message wording.
  public var messages: Messages
  /// What `BUG()` does.
  public var bugAction: BugAction

  /// - Precondition: `bugOnDataCorruption` implies `debugList`, as in Kconfig.
  public init(
    debugList: Bool, bugOnDataCorruption: Bool = false, messages: Messages = .withPointerSuffix,
    bugAction: BugAction = .throwHalt
  ) {
    precondition(debugList || !bugOnDataCorruption, "BUG_ON_DATA_CORRUPTION selects DEBUG_LIST")
    self.debugList = debugList
    self.bugOnDataCorruption = bugOnDataCorruption
    self.messages = messages
    self.bugAction = bugAction
  }

  /// A production kernel without list debugging.
  public static let off = ListDebugConfig(debugList: false)
  /// `CONFIG_DEBUG_LIST=y`.
  public static let on = ListDebugConfig(debugList: true)
}

/// The memory that a set of `struct list_head`s live in, with the kernel's list operations.
///
/// Every node has a `next` and a `prev` field holding a ``ListPointer``. The operations are
/// transliterated from `include/linux/list.h` and perform exactly the kernel's pointer writes,
/// in the kernel's order, so misuse leaves exactly the broken pointers the kernel would:
/// `list_add_tail()` of a node already at the tail makes it point to itself; in the middle it
/// cuts its successors off the forward chain.
///
/// With ``ListDebugConfig/debugList`` the adds and deletes first run the checks of
/// `lib/list_debug.c` and, when one fails, report it (`WARN`, or `BUG` with
/// `CONFIG_BUG_ON_DATA_CORRUPTION`) and return without writing, as `__list_add()` and
/// `__list_del_entry()` do. Dereferencing `NULL` or a poison value throws the oops the kernel
/// would take. Walks stop and report a cycle instead of spinning.
///
/// Equality and hashing cover the pointer graph only, not the report log, so explorations
/// can deduplicate states.
public struct ListHeads: Hashable, Sendable {
  private var next: [ListPointer] = []
  private var prev: [ListPointer] = []
  /// A name per node, for messages and test output.
  public private(set) var names: [String] = []
  /// The build options.
  public var config: ListDebugConfig
  /// Everything the checks reported (`WARN` text), oldest first.
  public private(set) var reports: [String] = []

  public init(config: ListDebugConfig = .off) { self.config = config }

  public static func == (a: ListHeads, b: ListHeads) -> Bool {
    a.next == b.next && a.prev == b.prev
  }
  public func hash(into h: inout Hasher) {
    h.combine(next)
    h.combine(prev)
  }

  // MARK: Nodes

  /// Allocates a `list_head`. An initialised one points to itself (`INIT_LIST_HEAD()`); an
  /// uninitialised one is zeroed (`NULL`, as from `kzalloc()`).
  public mutating func makeNode(_ name: String, initialized: Bool = true) -> ListNodeID {
    let id = ListNodeID(index: next.count)
    next.append(initialized ? .node(id) : .null)
    prev.append(initialized ? .node(id) : .null)
    names.append(name)
    return id
  }

  /// All nodes.
  public var nodes: [ListNodeID] { (0..<next.count).map { ListNodeID(index: $0) } }

  /// `entry->next`.
  public func nextOf(_ node: ListNodeID) -> ListPointer { next[node.index] }
  /// `entry->prev`.
  public func prevOf(_ node: ListNodeID) -> ListPointer { prev[node.index] }

  /// The address `%px` prints for a node: a plausible direct-map kernel address, one per node.
  public func address(_ node: ListNodeID) -> UInt64 {
    0xffff_8881_0420_0000 + UInt64(node.index) * 0x100
  }

  /// `%px` of a pointer value (16 lowercase hex digits, no `0x`).
  public func px(_ p: ListPointer) -> String {
    let value: UInt64
    switch p {
    case .null: value = 0
    case .node(let n): value = address(n)
    case .poison1: value = LIST_POISON1
    case .poison2: value = LIST_POISON2
    }
    let hex = String(value, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
  }

  /// A readable form of a pointer: the node's name, or `NULL` / `LIST_POISON1` / ...
  public func name(_ p: ListPointer) -> String {
    switch p {
    case .null: "NULL"
    case .node(let n): names[n.index]
    case .poison1: "LIST_POISON1"
    case .poison2: "LIST_POISON2"
    }
  }

  // MARK: Memory access

  private enum Field: Int {
    case next = 0
    case prev = 8
  }

  /// Reads `p->next` or `p->prev`, faulting on NULL or a poison value like the CPU would.
  ///
  /// The oops lines are x86_64's first lines for these faults; the `PREEMPT SMP NOPTI` tail
  /// depends on the kernel's config and is illustrative.
  private func load(_ p: ListPointer, _ field: Field) throws -> ListPointer {
    let n = try deref(p, field)
    return field == .next ? next[n.index] : prev[n.index]
  }

  /// Writes `p->next` or `p->prev`.
  private mutating func store(_ p: ListPointer, _ field: Field, _ value: ListPointer) throws {
    let n = try deref(p, field)
    if field == .next { next[n.index] = value } else { prev[n.index] = value }
  }

  private func deref(_ p: ListPointer, _ field: Field) throws -> ListNodeID {
    switch p {
    case .node(let n):
      return n
    case .null:
      let address = String(field.rawValue, radix: 16)
      throw KernelHalt.oops(
        message:
          "BUG: kernel NULL pointer dereference, address: \(String(repeating: "0", count: 16 - address.count) + address)",
        callChain: [])
    case .poison1, .poison2:
      let base = p == .poison1 ? LIST_POISON1 : LIST_POISON2
      throw KernelHalt.oops(
        message:
          "general protection fault, probably for non-canonical address 0x\(String(base + UInt64(field.rawValue), radix: 16)): 0000 [#1] PREEMPT SMP NOPTI",
        callChain: [])
    }
  }

  /// A stray store from elsewhere in the kernel: overwrites `node->next` and/or `node->prev`
  /// directly, with no check, so that tests reach every `lib/list_debug.c` condition
  /// (including the ones no sequence of list operations alone produces).
  mutating func corrupt(_ node: ListNodeID, next: ListPointer? = nil, prev: ListPointer? = nil) {
    if let next { self.next[node.index] = next }
    if let prev { self.prev[node.index] = prev }
  }

  // MARK: Debug checks (lib/list_debug.c)

  /// `CHECK_DATA_CORRUPTION()` once its condition held: `WARN(1, fmt)`, or with
  /// `CONFIG_BUG_ON_DATA_CORRUPTION` `pr_err(fmt)` and `BUG()`. The BUG line omits the source
  /// line number the kernel prints (`kernel BUG at lib/list_debug.c:NN!`), which the model
  /// cannot know.
  private mutating func dataCorruption(_ text: String) throws {
    if config.bugOnDataCorruption {
      reports.append(text)
      let bug = "kernel BUG at lib/list_debug.c! (\(text))"
      switch config.bugAction {
      case .throwHalt: throw KernelHalt.bug(bug)
      case .trap: fatalError(bug)
      }
    }
    reports.append("------------[ cut here ]------------")
    reports.append(text)
  }

  /// `__list_add_valid_or_report()` (`__list_add_valid()` in 5.x): the checks in the
  /// kernel's order; the first that fails is reported and the add is refused.
  private mutating func listAddValid(
    _ new: ListPointer, _ prev: ListPointer, _ next: ListPointer
  ) throws -> Bool {
    if prev == .null {
      try dataCorruption("list_add corruption. prev is NULL.")
      return false
    }
    if next == .null {
      try dataCorruption("list_add corruption. next is NULL.")
      return false
    }
    let nextPrev = try load(next, .prev)
    if nextPrev != prev {
      try dataCorruption(
        "list_add corruption. next->prev should be prev (\(px(prev))), but was \(px(nextPrev)). (next=\(px(next))).")
      return false
    }
    let prevNext = try load(prev, .next)
    if prevNext != next {
      try dataCorruption(
        "list_add corruption. prev->next should be next (\(px(next))), but was \(px(prevNext)). (prev=\(px(prev))).")
      return false
    }
    if new == prev || new == next {
      try dataCorruption("list_add double add: new=\(px(new)), prev=\(px(prev)), next=\(px(next)).")
      return false
    }
    return true
  }

  /// `__list_del_entry_valid_or_report()` (`__list_del_entry_valid()` in 5.x).
  private mutating func listDelEntryValid(_ entry: ListNodeID) throws -> Bool {
    let e = ListPointer.node(entry)
    let prev = self.prev[entry.index]
    let next = self.next[entry.index]
    if next == .null {
      try dataCorruption("list_del corruption, \(px(e))->next is NULL")
      return false
    }
    if prev == .null {
      try dataCorruption("list_del corruption, \(px(e))->prev is NULL")
      return false
    }
    if next == .poison1 {
      try dataCorruption("list_del corruption, \(px(e))->next is LIST_POISON1 (\(px(.poison1)))")
      return false
    }
    if prev == .poison2 {
      try dataCorruption("list_del corruption, \(px(e))->prev is LIST_POISON2 (\(px(.poison2)))")
      return false
    }
    let suffix = config.messages == .withPointerSuffix
    let prevNext = try load(prev, .next)
    if prevNext != e {
      try dataCorruption(
        "list_del corruption. prev->next should be \(px(e)), but was \(px(prevNext))"
          + (suffix ? ". (prev=\(px(prev)))" : ""))
      return false
    }
    let nextPrev = try load(next, .prev)
    if nextPrev != e {
      try dataCorruption(
        "list_del corruption. next->prev should be \(px(e)), but was \(px(nextPrev))"
          + (suffix ? ". (next=\(px(next)))" : ""))
      return false
    }
    return true
  }

  // MARK: include/linux/list.h

  /// `INIT_LIST_HEAD(list)`: `list->next = list; list->prev = list`.
  public mutating func initListHead(_ list: ListNodeID) {
    next[list.index] = .node(list)
    prev[list.index] = .node(list)
  }

  /// `__list_add(new, prev, next)`: `next->prev = new; new->next = next; new->prev = prev;
  /// prev->next = new`, after the debug check (which returns early on failure).
  private mutating func __list_add(
    _ new: ListNodeID, _ prevP: ListPointer, _ nextP: ListPointer
  ) throws {
    let newP = ListPointer.node(new)
    if config.debugList, try !listAddValid(newP, prevP, nextP) { return }
    try store(nextP, .prev, newP)
    try store(newP, .next, nextP)
    try store(newP, .prev, prevP)
    try store(prevP, .next, newP)
  }

  /// `list_add(new, head)`: `__list_add(new, head, head->next)`.
  public mutating func listAdd(_ new: ListNodeID, _ head: ListNodeID) throws {
    try __list_add(new, .node(head), next[head.index])
  }

  /// `list_add_tail(new, head)`: `__list_add(new, head->prev, head)`.
  public mutating func listAddTail(_ new: ListNodeID, _ head: ListNodeID) throws {
    try __list_add(new, prev[head.index], .node(head))
  }

  /// `__list_del(prev, next)`: `next->prev = prev; prev->next = next`.
  private mutating func __list_del(_ prevP: ListPointer, _ nextP: ListPointer) throws {
    try store(nextP, .prev, prevP)
    try store(prevP, .next, nextP)
  }

  /// `__list_del_entry(entry)`: the debug check (returning early on failure), then
  /// `__list_del(entry->prev, entry->next)`. A self-linked entry unlinks to itself: a no-op.
  private mutating func __list_del_entry(_ entry: ListNodeID) throws {
    if config.debugList, try !listDelEntryValid(entry) { return }
    try __list_del(prev[entry.index], next[entry.index])
  }

  /// `list_del(entry)`: unlink and poison (`next = LIST_POISON1`, `prev = LIST_POISON2`).
  public mutating func listDel(_ entry: ListNodeID) throws {
    try __list_del_entry(entry)
    next[entry.index] = .poison1
    prev[entry.index] = .poison2
  }

  /// `list_del_init(entry)`: unlink and point the entry to itself.
  public mutating func listDelInit(_ entry: ListNodeID) throws {
    try __list_del_entry(entry)
    initListHead(entry)
  }

  /// `list_move(list, head)`: `__list_del_entry(list); list_add(list, head)`.
  public mutating func listMove(_ list: ListNodeID, _ head: ListNodeID) throws {
    try __list_del_entry(list)
    try listAdd(list, head)
  }

  /// `list_move_tail(list, head)`: `__list_del_entry(list); list_add_tail(list, head)`.
  /// Idempotent whether `list` is self-linked or already on the list.
  public mutating func listMoveTail(_ list: ListNodeID, _ head: ListNodeID) throws {
    try __list_del_entry(list)
    try listAddTail(list, head)
  }

  /// `list_empty(head)`: `head->next == head`.
  public func listEmpty(_ head: ListNodeID) -> Bool { next[head.index] == .node(head) }

  /// `list_is_singular(head)`: not empty and `head->next == head->prev`.
  public func listIsSingular(_ head: ListNodeID) -> Bool {
    !listEmpty(head) && next[head.index] == prev[head.index]
  }

  // MARK: Walks

  /// The outcome of following pointers from a list head.
  public enum Walk: Hashable, Sendable {
    /// The walk came back to the head; the nodes in order.
    case complete([ListNodeID])
    /// The walk revisits `repeated` without reaching the head: in the kernel this loop never
    /// ends (a soft lockup, with the list lock held).
    case cycle(visited: [ListNodeID], repeated: ListNodeID)
    /// The walk reached a pointer it cannot follow (`NULL` or poison): an oops in the kernel.
    case fault(visited: [ListNodeID], at: ListPointer)

    /// The nodes visited before the walk ended, in order.
    public var visited: [ListNodeID] {
      switch self {
      case .complete(let v), .cycle(let v, _), .fault(let v, _): v
      }
    }
  }

  /// Follows `next` (forward, `list_for_each()`) or `prev` (backward,
  /// `list_for_each_prev()`) from `head` until it returns to `head`, revisits a node, or
  /// reaches an invalid pointer.
  public func walk(_ head: ListNodeID, backward: Bool = false) -> Walk {
    var seen = Set<ListNodeID>()
    var visited: [ListNodeID] = []
    var p = backward ? prev[head.index] : next[head.index]
    while true {
      guard let n = p.node else { return .fault(visited: visited, at: p) }
      if n == head { return .complete(visited) }
      if !seen.insert(n).inserted { return .cycle(visited: visited, repeated: n) }
      visited.append(n)
      p = backward ? prev[n.index] : next[n.index]
    }
  }

  /// `list_for_each_entry_safe(pos, n, head, member)`: calls `body` for each node, reading
  /// the successor before the body runs so the body may unlink the current node. `body`
  /// returns `false` to `break`.
  ///
  /// - Throws: the oops of following a bad pointer, or ``KernelHalt/lockup(_:)`` when the walk
  ///   takes more steps than a well-formed list could have (it would spin forever), named by
  ///   `what` (e.g. `"panfrost_gem_shrinker_scan"`).
  public mutating func forEachSafe(
    _ head: ListNodeID, _ what: String,
    _ body: (inout ListHeads, ListNodeID) throws -> Bool
  ) throws {
    let limit = 2 * next.count + 2
    var steps = 0
    var pos = next[head.index]
    var n = try load(pos, .next)
    while pos != .node(head) {
      steps += 1
      if steps > limit {
        throw KernelHalt.lockup(
          "[model] \(what): list walk does not terminate (\(steps) steps over \(next.count) list_heads); "
            + "the kernel spins here until the soft-lockup watchdog reports \"watchdog: BUG: soft lockup\"")
      }
      let node = try deref(pos, .next)
      guard try body(&self, node) else { return }
      pos = n
      n = try load(pos, .next)
    }
  }

  // MARK: Invariants

  /// A broken property of a list.
  public enum Violation: Hashable, Sendable, CustomStringConvertible {
    /// Following `next` (or `prev`) from the head does not return to it.
    case forwardWalk(Walk)
    case backwardWalk(Walk)
    /// `a->next == b` but `b->prev != a`.
    case brokenLink(from: ListNodeID, to: ListNodeID)
    /// The backward walk is not the forward walk reversed.
    case asymmetric
    /// A node that should be on the list is not reachable from the head.
    case lost(ListNodeID)
    /// A node on the list that should not be.
    case unexpected(ListNodeID)

    public var description: String {
      switch self {
      case .forwardWalk(let w): "forward walk does not return to the head: \(w)"
      case .backwardWalk(let w): "backward walk does not return to the head: \(w)"
      case .brokenLink(let a, let b): "node \(a.index)->next is node \(b.index) but its prev is not"
      case .asymmetric: "backward walk is not the forward walk reversed"
      case .lost(let n): "node \(n.index) should be on the list but is not reachable"
      case .unexpected(let n): "node \(n.index) is on the list but should not be"
      }
    }
  }

  /// Checks the structural invariant of the list at `head`: the forward walk returns to the
  /// head, every `a->next == b` has `b->prev == a`, the backward walk is the forward walk
  /// reversed; and, if `members` is given, the list holds exactly those nodes.
  public func violations(_ head: ListNodeID, members: Set<ListNodeID>? = nil) -> [Violation] {
    var out: [Violation] = []
    let forward = walk(head)
    let backward = walk(head, backward: true)
    guard case .complete(let fwd) = forward else {
      out.append(.forwardWalk(forward))
      if case .complete = backward {} else { out.append(.backwardWalk(backward)) }
      if let members {
        let reachable = Set(forward.visited)
        out += members.subtracting(reachable).sorted().map(Violation.lost)
      }
      return out
    }
    var prevNode = head
    for n in fwd + [head] {
      if prev[n.index] != .node(prevNode) { out.append(.brokenLink(from: prevNode, to: n)) }
      prevNode = n
    }
    if case .complete(let bwd) = backward {
      if bwd != fwd.reversed() { out.append(.asymmetric) }
    } else {
      out.append(.backwardWalk(backward))
    }
    if let members {
      let onList = Set(fwd)
      out += members.subtracting(onList).sorted().map(Violation.lost)
      out += onList.subtracting(members).sorted().map(Violation.unexpected)
    }
    return out
  }

  /// `next`/`prev` of every node by name, e.g. `"A: next=B prev=H"`, for exact comparisons.
  public func pointerState() -> [String] {
    nodes.map { "\(names[$0.index]): next=\(name(next[$0.index])) prev=\(name(prev[$0.index]))" }
  }
}
