import Testing

@testable import BOCore

/// One condition of `lib/list_debug.c`: how to reach it from `H -> A -> B -> H`, the
/// operation that trips it, and the kernel's message (with `%px` filled in).
struct ListCheckCase: Sendable, CustomTestStringConvertible {
  let name: String
  /// Corrupts the list (or leaves it), then returns the operation that must be refused. The
  /// `list_del` cases all delete A.
  let setup:
    @Sendable (inout ListHeads, _ h: ListNodeID, _ a: ListNodeID, _ b: ListNodeID, _ n: ListNodeID) throws ->
      @Sendable (inout ListHeads) throws -> Void
  /// The report, given the list (for `%px`) and the nodes.
  let message: @Sendable (ListHeads, _ h: ListNodeID, _ a: ListNodeID, _ b: ListNodeID, _ n: ListNodeID) -> String

  var testDescription: String { name }

  /// Every condition of `__list_add_valid_or_report()` and `__list_del_entry_valid_or_report()`
  /// (`lib/list_debug.c`, v6.18, read from the stable tree), in the kernel's order.
  static let all: [ListCheckCase] = [
    // __list_add_valid_or_report()
    ListCheckCase(
      name: "list_add: prev is NULL",
      setup: { l, h, _, _, n in
        l.corrupt(h, prev: .null)
        return { try $0.listAddTail(n, h) }
      },
      message: { _, _, _, _, _ in "list_add corruption. prev is NULL." }),
    ListCheckCase(
      name: "list_add: next is NULL",
      setup: { l, h, _, _, n in
        l.corrupt(h, next: .null)
        return { try $0.listAdd(n, h) }
      },
      message: { _, _, _, _, _ in "list_add corruption. next is NULL." }),
    ListCheckCase(
      name: "list_add: next->prev != prev",
      setup: { l, h, a, b, n in
        // list_add(N, H) is __list_add(N, H, A): A->prev should be H.
        l.corrupt(a, prev: .node(b))
        return { try $0.listAdd(n, h) }
      },
      message: { l, h, a, b, _ in
        "list_add corruption. next->prev should be prev (\(l.px(.node(h)))), but was \(l.px(.node(b))). (next=\(l.px(.node(a))))."
      }),
    ListCheckCase(
      name: "list_add: prev->next != next",
      setup: { l, h, a, b, n in
        // list_add_tail(N, H) is __list_add(N, B, H): B->next should be H.
        l.corrupt(b, next: .node(a))
        return { try $0.listAddTail(n, h) }
      },
      message: { l, h, a, b, _ in
        "list_add corruption. prev->next should be next (\(l.px(.node(h)))), but was \(l.px(.node(a))). (prev=\(l.px(.node(b))))."
      }),
    ListCheckCase(
      name: "list_add: double add, new == prev",
      setup: { _, h, _, b, _ in { try $0.listAddTail(b, h) } },
      message: { l, h, _, b, _ in
        "list_add double add: new=\(l.px(.node(b))), prev=\(l.px(.node(b))), next=\(l.px(.node(h)))."
      }),
    ListCheckCase(
      name: "list_add: double add, new == next",
      setup: { _, h, a, _, _ in { try $0.listAdd(a, h) } },
      message: { l, h, a, _, _ in
        "list_add double add: new=\(l.px(.node(a))), prev=\(l.px(.node(h))), next=\(l.px(.node(a)))."
      }),
    // __list_del_entry_valid_or_report()
    ListCheckCase(
      name: "list_del: next is NULL",
      setup: { l, _, a, _, _ in
        l.corrupt(a, next: .null)
        return { try $0.listDel(a) }
      },
      message: { l, _, a, _, _ in "list_del corruption, \(l.px(.node(a)))->next is NULL" }),
    ListCheckCase(
      name: "list_del: prev is NULL",
      setup: { l, _, a, _, _ in
        l.corrupt(a, prev: .null)
        return { try $0.listDel(a) }
      },
      message: { l, _, a, _, _ in "list_del corruption, \(l.px(.node(a)))->prev is NULL" }),
    ListCheckCase(
      name: "list_del twice: next is LIST_POISON1",
      setup: { l, _, a, _, _ in
        try l.listDel(a)
        return { try $0.listDel(a) }
      },
      message: { l, _, a, _, _ in
        "list_del corruption, \(l.px(.node(a)))->next is LIST_POISON1 (dead000000000100)"
      }),
    ListCheckCase(
      name: "list_del: prev is LIST_POISON2",
      setup: { l, h, a, _, _ in
        // Deleted, then a stray store to next: only prev still holds the poison.
        try l.listDel(a)
        l.corrupt(a, next: .node(h))
        return { try $0.listDel(a) }
      },
      message: { l, _, a, _, _ in
        "list_del corruption, \(l.px(.node(a)))->prev is LIST_POISON2 (dead000000000122)"
      }),
    ListCheckCase(
      name: "list_del: prev->next != entry",
      setup: { l, h, a, b, _ in
        l.corrupt(h, next: .node(b))
        return { try $0.listDel(a) }
      },
      message: { l, h, a, b, _ in
        "list_del corruption. prev->next should be \(l.px(.node(a))), but was \(l.px(.node(b))). (prev=\(l.px(.node(h))))"
      }),
    ListCheckCase(
      name: "list_del: next->prev != entry",
      setup: { l, h, a, b, _ in
        l.corrupt(b, prev: .node(h))
        return { try $0.listDel(a) }
      },
      message: { l, h, a, b, _ in
        "list_del corruption. next->prev should be \(l.px(.node(a))), but was \(l.px(.node(h))). (next=\(l.px(.node(b))))"
      }),
  ]
}

/// Every `CONFIG_DEBUG_LIST` check, each reached on its own: the report is the kernel's
/// message, preceded by the WARN's cut line, and the operation is refused, as `__list_add()`
/// and `__list_del_entry()` return early (`list_del()` still poisons the entry itself).
@Suite("lib/list_debug.c: every check", .tags(.list))
struct ListDebugChecksTests {
  func start(_ config: ListDebugConfig) throws -> (ListHeads, ListNodeID, ListNodeID, ListNodeID, ListNodeID) {
    var l = ListHeads(config: config)
    let h = l.makeNode("H")
    let a = l.makeNode("A")
    let b = l.makeNode("B")
    let n = l.makeNode("N")
    try l.listAddTail(a, h)
    try l.listAddTail(b, h)
    return (l, h, a, b, n)
  }

  @Test("the check fires with the kernel's message and refuses the operation", arguments: ListCheckCase.all)
  func check(_ c: ListCheckCase) throws {
    var (l, h, a, b, n) = try start(.on)
    let op = try c.setup(&l, h, a, b, n)
    #expect(l.reports.isEmpty)
    var expected = l
    // list_del() poisons the entry even when __list_del_entry() refused to unlink it; the
    // neighbours are not written.
    if c.name.hasPrefix("list_del") { expected.corrupt(a, next: .poison1, prev: .poison2) }
    try op(&l)
    #expect(l.reports == ["------------[ cut here ]------------", c.message(l, h, a, b, n)])
    #expect(l == expected, "pointers other than the refused operation's were written")
  }

  /// Only the first failing condition is reported: an entry whose next is `NULL` and whose
  /// prev is `LIST_POISON2` reports the `NULL`.
  @Test("the checks run in the kernel's order")
  func order() throws {
    var (l, _, a, _, _) = try start(.on)
    l.corrupt(a, next: .null, prev: .poison2)
    try l.listDel(a)
    #expect(l.reports.last == "list_del corruption, \(l.px(.node(a)))->next is NULL")
    l.corrupt(a, next: .poison1, prev: .null)
    try l.listDel(a)
    #expect(l.reports.last == "list_del corruption, \(l.px(.node(a)))->prev is NULL")
  }

  /// Without DEBUG_LIST a second `list_del()` writes through `LIST_POISON1`: `next->prev =
  /// prev` stores to 0xdead000000000100 + 8, a general protection fault.
  @Test("a double list_del without DEBUG_LIST faults on the poison")
  func doubleDelWithoutDebug() throws {
    var (l, _, a, _, _) = try start(.off)
    try l.listDel(a)
    #expect(l.nextOf(a) == .poison1 && l.prevOf(a) == .poison2)
    #expect(
      throws: KernelHalt.oops(
        message:
          "general protection fault, probably for non-canonical address 0xdead000000000108: 0000 [#1] PREEMPT SMP NOPTI",
        callChain: [])
    ) { try l.listDel(a) }
    #expect(l.reports.isEmpty)
  }

  /// The 5.x wording of the two pointer checks of `list_del` has no `(prev=...)` /
  /// `(next=...)` suffix.
  @Test("5.x wording of the list_del pointer checks", arguments: [true, false])
  func oldWording(_ prevSide: Bool) throws {
    var (l, h, a, b, _) = try start(ListDebugConfig(debugList: true, messages: .withoutPointerSuffix))
    if prevSide { l.corrupt(h, next: .node(b)) } else { l.corrupt(b, prev: .node(h)) }
    try l.listDel(a)
    let found = l.px(.node(prevSide ? b : h))
    #expect(
      l.reports.last
        == "list_del corruption. \(prevSide ? "prev->next" : "next->prev") should be \(l.px(.node(a))), but was \(found)"
    )
  }
}
