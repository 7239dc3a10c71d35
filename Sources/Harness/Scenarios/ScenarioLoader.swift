import BOCore
import JSONText
import KernelTrees
import Patches

/// The fields of one JSON object under `path`, read with the checks every key gets: unknown
/// keys, types and ranges, each failure one ``ScenarioError`` naming the file and key path.
struct ScenarioFields {
  let file: String
  let path: String
  let members: [JSONMember]

  /// Reads `value` as an object whose keys must all be in `known`.
  init(_ value: JSONValue, file: String, path: String, known: [String]) throws(ScenarioError) {
    self.file = file
    self.path = path
    guard case .object(let members) = value else {
      throw ScenarioError(
        "\(file): \(path.isEmpty ? "top level" : path): expected an object, got \(value.kindDescription)")
    }
    self.members = members
    for m in members where !known.contains(m.key) {
      throw ScenarioError(
        "\(file): \(at(m.key)): unknown key \"\(m.key)\" (known here: \(known.joined(separator: ", ")))")
    }
  }

  /// The key path of `key` in this object.
  func at(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

  func fail(_ key: String, _ problem: String) -> ScenarioError {
    ScenarioError("\(file): \(at(key)): \(problem)")
  }

  func has(_ key: String) -> Bool { members.contains { $0.key == key } }

  func value(_ key: String) -> JSONValue? { members.first { $0.key == key }?.value }

  func required(_ key: String) throws(ScenarioError) -> JSONValue {
    guard let v = value(key) else { throw ScenarioError("\(file): \(at(key)): missing (required)") }
    return v
  }

  func int(_ key: String, default d: Int? = nil, in range: ClosedRange<Int>) throws(ScenarioError) -> Int {
    guard let v = value(key) else {
      if let d { return d }
      throw ScenarioError("\(file): \(at(key)): missing (required)")
    }
    guard case .int(let n) = v else { throw fail(key, "expected an integer, got \(v.kindDescription)") }
    guard range.contains(n) else {
      throw fail(key, "must be from \(range.lowerBound) to \(range.upperBound), got \(n)")
    }
    return n
  }

  func optionalInt(_ key: String, in range: ClosedRange<Int>) throws(ScenarioError) -> Int? {
    has(key) ? try int(key, in: range) : nil
  }

  func bool(_ key: String, default d: Bool) throws(ScenarioError) -> Bool {
    guard let v = value(key) else { return d }
    guard case .bool(let b) = v else { throw fail(key, "expected true or false, got \(v.kindDescription)") }
    return b
  }

  func optionalBool(_ key: String) throws(ScenarioError) -> Bool? {
    has(key) ? try bool(key, default: false) : nil
  }

  func string(_ key: String, default d: String? = nil) throws(ScenarioError) -> String {
    guard let v = value(key) else {
      if let d { return d }
      throw ScenarioError("\(file): \(at(key)): missing (required)")
    }
    guard case .string(let s) = v else { throw fail(key, "expected a string, got \(v.kindDescription)") }
    try Self.checkText(s) { problem throws(ScenarioError) in throw fail(key, problem) }
    return s
  }

  /// Refuses a control character (a terminal escape among them) in text the tool prints.
  static func checkText(_ s: String, _ fail: (String) throws(ScenarioError) -> Void) throws(ScenarioError) {
    if let c = s.unicodeScalars.first(where: { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) }) {
      try fail(
        "contains the control character U+\(String(c.value, radix: 16, uppercase: true)) (text is printed to a terminal)"
      )
    }
  }

  /// A string from `choices`.
  func choice(_ key: String, _ choices: [String], default d: String? = nil) throws(ScenarioError) -> String {
    let s = try string(key, default: d)
    guard choices.contains(s) else {
      throw fail(key, "unknown value \"\(s)\" (expected one of: \(choices.joined(separator: ", ")))")
    }
    return s
  }

  /// A name of a BO, task or result: 1 to 32 letters, digits, `_` or `-`.
  func name(_ key: String) throws(ScenarioError) -> String {
    let s = try string(key)
    try Self.checkName(s) { problem throws(ScenarioError) in throw fail(key, problem) }
    return s
  }

  static func checkName(_ s: String, _ fail: (String) throws(ScenarioError) -> Void) throws(ScenarioError) {
    let ok =
      !s.isEmpty && s.count <= 32
      && s.unicodeScalars.allSatisfy { c in
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "-"
      }
    if !ok { try fail("\"\(s)\" is not a valid name (1 to 32 letters, digits, '_' or '-')") }
  }

  func optionalName(_ key: String) throws(ScenarioError) -> String? {
    has(key) ? try name(key) : nil
  }

  func strings(_ key: String) throws(ScenarioError) -> [String] {
    let v = try required(key)
    guard case .array(let items) = v else { throw fail(key, "expected an array of strings, got \(v.kindDescription)") }
    var out: [String] = []
    for (i, item) in items.enumerated() {
      guard case .string(let s) = item else {
        throw ScenarioError("\(file): \(at(key))[\(i)]: expected a string, got \(item.kindDescription)")
      }
      try Self.checkText(s) { problem throws(ScenarioError) in
        throw ScenarioError("\(file): \(at(key))[\(i)]: \(problem)")
      }
      out.append(s)
    }
    return out
  }

  /// A gfp mask spelled with the kernel's names, e.g. `GFP_KERNEL|__GFP_NOWARN`.
  func gfp(_ key: String, default d: GFP) throws(ScenarioError) -> GFP {
    guard has(key) else { return d }
    let text = try string(key)
    var mask: GFP = []
    for part in text.split(separator: "|", omittingEmptySubsequences: false) {
      let name = part.trimmingCharacters(in: " ")
      guard let entry = GFP.nameTable.first(where: { $0.name == name }) else {
        throw fail(key, "unknown gfp flag \"\(name)\" (use the kernel's names, e.g. GFP_KERNEL|__GFP_NOWARN)")
      }
      mask.formUnion(entry.mask)
    }
    return mask
  }
}

extension Substring {
  fileprivate func trimmingCharacters(in c: Character) -> String {
    String(drop { $0 == c }.reversed().drop { $0 == c }.reversed())
  }
}

/// Turns a file's text into a ``Scenario``.
enum ScenarioLoader {
  static let maxPages = 1 << 20

  static func parse(_ text: String, file: String) throws(ScenarioError) -> Scenario {
    let root: JSONValue
    do {
      root = try JSONParser.parse(text)
    } catch {
      throw ScenarioError("\(file): \(error.description)")
    }
    let top = try ScenarioFields(root, file: file, path: "", known: ScenarioVocabulary.topKeys)
    let slug = try top.string("patch")
    guard let model = PatchModels.model(slug) else {
      throw top.fail(
        "patch", "unknown patch \"\(slug)\" (known: \(PatchModels.all.map { $0.patch.slug }.joined(separator: ", ")))")
    }
    let driver: ScenarioDriver = model.patch.slug == "madvise-list-move" ? .panfrost : .ttm
    let title = try top.string("title")
    let kind = ScenarioKind(rawValue: try top.choice("kind", ["delta", "no-change"]))!
    if top.has("notes") { _ = try top.string("notes") }
    let headline = try ScenarioFields(
      top.required("headline"), file: file, path: "headline", known: ["before", "after"])
    let beforeHeadline = try headline.string("before")
    let afterHeadline = try headline.string("after")

    let s = try ScenarioFields(top.required("setup"), file: file, path: "setup", known: ScenarioVocabulary.setupKeys)
    let memory = try s.int("memoryPages", in: 1...maxPages)
    var setup = ScenarioSetup(
      memoryPages: memory,
      swapPages: try s.int("swapPages", in: 0...maxPages),
      watermarkMin: try s.int("watermarkMin", default: 0, in: 0...memory),
      poolOrder: try s.int("poolOrder", default: 0, in: 0...MAX_PAGE_ORDER),
      shmemLargeFolioOrder: try s.int("shmemLargeFolioOrder", default: 0, in: 0...MAX_PAGE_ORDER),
      debugList: try s.bool("debugList", default: false),
      bugOnDataCorruption: try s.bool("bugOnDataCorruption", default: false),
      faultInjection: try s.bool("faultInjection", default: true))
    for key in ["ttmDriver", "poolDMAAlloc", "poolDMA32", "vramPages", "ttmPagesLimit"]
    where driver == .panfrost && s.has(key) {
      throw s.fail(key, "is a TTM setting, and \(slug) runs on panfrost")
    }
    setup.ttmDriver = TTMDriverStyle(
      rawValue: try s.choice("ttmDriver", TTMDriverStyle.allCases.map(\.rawValue), default: "xe"))!
    setup.poolDMAAlloc = try s.bool("poolDMAAlloc", default: false)
    setup.poolDMA32 = try s.bool("poolDMA32", default: false)
    setup.vramPages = try s.int("vramPages", default: 0, in: 0...maxPages)
    setup.ttmPagesLimit = try s.optionalInt("ttmPagesLimit", in: 0...maxPages)

    var names = Names()
    var tasks: [ScenarioTask] = []
    if let v = top.value("tasks") {
      guard case .array(let items) = v else {
        throw top.fail("tasks", "expected an array of tasks, got \(v.kindDescription)")
      }
      for (i, item) in items.enumerated() {
        let task = try parseTask(
          item, file: file, path: "tasks[\(i)]", known: ["comm", "rssPages", "leaveFree", "oomScoreAdj"])
        try names.spawn(task.comm, file: file, path: "tasks[\(i)].comm")
        tasks.append(task)
      }
    }

    let stepsValue = try top.required("steps")
    guard case .array(let stepItems) = stepsValue else {
      throw top.fail("steps", "expected an array of steps, got \(stepsValue.kindDescription)")
    }
    var steps: [ScenarioOp] = []
    for (i, item) in stepItems.enumerated() {
      steps.append(try parseStep(item, index: i, file: file, driver: driver, slug: slug, names: &names))
    }

    let e = try ScenarioFields(top.required("expect"), file: file, path: "expect", known: ["before", "after", "both"])
    let before: ScenarioExpectation
    let after: ScenarioExpectation
    switch kind {
    case .delta:
      if e.has("both") { throw e.fail("both", "a delta scenario states \"before\" and \"after\", not \"both\"") }
      before = try parseExpectation(
        e.required("before"), file: file, path: "expect.before", driver: driver, names: names)
      after = try parseExpectation(e.required("after"), file: file, path: "expect.after", driver: driver, names: names)
      if Set(before.items) == Set(after.items) {
        throw ScenarioError(
          "\(file): expect: before and after are the same, so this is not a delta (use kind \"no-change\" with \"both\")"
        )
      }
    case .noChange:
      for key in ["before", "after"] where e.has(key) {
        throw e.fail(key, "a no-change scenario states one outcome under \"both\"")
      }
      before = try parseExpectation(e.required("both"), file: file, path: "expect.both", driver: driver, names: names)
      after = before
    }
    for (label, exp) in [("before", before), ("after", after)] where exp.items.isEmpty {
      throw ScenarioError("\(file): expect.\(kind == .delta ? label : "both"): states no observation")
    }
    func slugs(_ key: String) throws(ScenarioError) -> [String] {
      guard let v = top.value(key) else { return [] }
      guard case .array(let items) = v else {
        throw top.fail(key, "expected an array of patch slugs, got \(v.kindDescription)")
      }
      var slugs: [String] = []
      for (i, item) in items.enumerated() {
        guard case .string(let other) = item, PatchModels.model(other) != nil, other != slug else {
          throw top.fail("\(key)[\(i)]", "expected the slug of another patch")
        }
        slugs.append(other)
      }
      return slugs
    }
    let unreachableWith = try slugs("unreachableWith")
    let supersededBy = try slugs("supersededBy")
    var scenario = Scenario(
      file: file, patch: slug, title: title, kind: kind, beforeHeadline: beforeHeadline, afterHeadline: afterHeadline,
      driver: driver, setup: setup, tasks: tasks, steps: steps, expectBefore: before, expectAfter: after)
    scenario.unreachableWith = unreachableWith
    scenario.supersededBy = supersededBy
    if top.has("primary") { scenario.primary = try top.bool("primary", default: false) }
    return scenario
  }

  /// The names a scenario defines as it goes, to refuse references to things that do not
  /// exist at that step.
  struct Names {
    var liveBOs: [String] = []
    var everBOs: [String] = []
    var tasks: [String] = []
    var results: [String: String] = [:]
    /// Results that hold backup handles (recorded by `backupPage`).
    var handles: Set<String> = []

    mutating func spawn(_ comm: String, file: String, path: String) throws(ScenarioError) {
      if comm == "bo-repro" || comm == "kswapd0" {
        throw ScenarioError("\(file): \(path): \"\(comm)\" is a task the machine has already")
      }
      if tasks.contains(comm) { throw ScenarioError("\(file): \(path): a task named \"\(comm)\" already exists") }
      tasks.append(comm)
    }

    mutating func result(_ name: String?, file: String, path: String) throws(ScenarioError) {
      guard let name else { return }
      if let earlier = results[name] {
        throw ScenarioError("\(file): \(path): result \"\(name)\" is already recorded by \(earlier)")
      }
      results[name] = path.replacingSuffix(".result")
    }
  }

  static func parseTask(_ v: JSONValue, file: String, path: String, known: [String]) throws(ScenarioError)
    -> ScenarioTask
  {
    let f = try ScenarioFields(v, file: file, path: path, known: known)
    let comm = try f.name("comm")
    if comm.count > 15 { throw f.fail("comm", "\"\(comm)\" is longer than 15 characters (TASK_COMM_LEN)") }
    let size: ScenarioTask.Size
    switch (f.has("rssPages"), f.has("leaveFree")) {
    case (true, false): size = .rssPages(try f.int("rssPages", in: 0...maxPages))
    case (false, true): size = .leaveFree(try f.int("leaveFree", in: 0...maxPages))
    default: throw ScenarioError("\(file): \(path): give exactly one of \"rssPages\" and \"leaveFree\"")
    }
    return ScenarioTask(comm: comm, size: size, oomScoreAdj: try f.int("oomScoreAdj", default: 0, in: -1000...1000))
  }

  static let stepKeys: [String: [String]] = [
    "create": ["bo", "pages", "caching", "filled", "seed", "placement"],
    "populate": ["bo", "interruptible", "gfpRetryMayfail", "noWaitGPU", "result"],
    "fill": ["bo", "seed"],
    "check": ["bo", "result"],
    "swapout": ["bo", "purge", "writeback", "asKswapd", "via", "allowMove", "result"],
    "globalSwapout": ["noWaitGPU", "result"],
    "place": ["bo", "placement", "result"],
    "evict": ["bo", "result"],
    "backupPage": ["bo", "index", "writeback", "result"],
    "copyPage": ["bo", "index", "handle", "interruptible", "additionalGFP", "result"],
    "dropHandle": ["bo", "handle"],
    "insertFolio": ["bo", "index", "writeback", "clearPrivate", "result"],
    "restoreAndAlloc": ["bo", "interruptible", "gfpRetryMayfail", "noWaitGPU", "result"],
    "destroy": ["bo"],
    "set": ["bo", "purgeable", "busy", "pinCount"],
    "spawn": ["comm", "rssPages", "leaveFree", "oomScoreAdj"],
    "exit": ["task"],
    "arm": ["fault", "nth", "space", "times", "filter"],
    "disarm": ["fault"],
    "shrink": ["gfp", "nrToScan", "asKswapd", "result"],
    "count": ["gfp", "result"],
    "alloc": ["gfp", "order", "count", "result"],
    "fragment": [],
    "resetCounters": [],
    "madvise": ["bo", "advice", "closeDuring", "result"],
    "job": ["bo", "event"],
  ]

  static func parseStep(
    _ v: JSONValue, index i: Int, file: String, driver: ScenarioDriver, slug: String, names: inout Names
  ) throws(ScenarioError) -> ScenarioOp {
    let path = "steps[\(i)]"
    guard case .object(let members) = v else {
      throw ScenarioError("\(file): \(path): expected an object, got \(v.kindDescription)")
    }
    guard let opValue = members.first(where: { $0.key == "op" })?.value else {
      throw ScenarioError("\(file): \(path).op: missing (required)")
    }
    guard case .string(let op) = opValue else {
      throw ScenarioError("\(file): \(path).op: expected a string, got \(opValue.kindDescription)")
    }
    guard let keys = stepKeys[op] else {
      throw ScenarioError(
        "\(file): \(path).op: unknown op \"\(op)\" (known: \(ScenarioVocabulary.ops.joined(separator: ", ")))")
    }
    if driver == .panfrost && ScenarioVocabulary.ttmOnly.contains(op) {
      throw ScenarioError("\(file): \(path).op: \"\(op)\" is a TTM op, and \(slug) runs on panfrost")
    }
    if driver == .ttm && ScenarioVocabulary.panfrostOnly.contains(op) {
      throw ScenarioError("\(file): \(path).op: \"\(op)\" is a panfrost op, and \(slug) runs on TTM")
    }
    let f = try ScenarioFields(v, file: file, path: path, known: ["op", "note"] + keys)
    if f.has("note") { _ = try f.string("note") }

    func bo() throws(ScenarioError) -> String {
      let name = try f.name("bo")
      guard names.liveBOs.contains(name) else {
        throw f.fail(
          "bo",
          names.everBOs.contains(name)
            ? "BO \"\(name)\" was destroyed earlier" : "no BO named \"\(name)\" exists at this step")
      }
      return name
    }
    func result() throws(ScenarioError) -> String? {
      let r = try f.optionalName("result")
      try names.result(r, file: file, path: f.at("result"))
      return r
    }
    func fault() throws(ScenarioError) -> String {
      try f.choice("fault", ScenarioVocabulary.faultPoints.map(\.name))
    }
    func placement(default d: String? = nil) throws(ScenarioError) -> TTMMemType {
      let name = try f.choice("placement", ScenarioVocabulary.placements.map(\.name), default: d)
      return ScenarioVocabulary.placements.first { $0.name == name }!.memType
    }
    func index() throws(ScenarioError) -> Int {
      try f.int("index", in: 0...(maxPages - 1))
    }
    func handle() throws(ScenarioError) -> String {
      let h = try f.name("handle")
      guard names.handles.contains(h) else {
        throw f.fail("handle", "no earlier backupPage step records a result named \"\(h)\"")
      }
      return h
    }
    func ctx() throws(ScenarioError) -> ScenarioContext {
      ScenarioContext(
        interruptible: try f.bool("interruptible", default: false),
        gfpRetryMayfail: try f.bool("gfpRetryMayfail", default: false),
        noWaitGPU: try f.bool("noWaitGPU", default: false))
    }

    switch op {
    case "create":
      let name = try f.name("bo")
      if names.liveBOs.contains(name) { throw f.fail("bo", "a BO named \"\(name)\" already exists") }
      names.liveBOs.append(name)
      if !names.everBOs.contains(name) { names.everBOs.append(name) }
      let caching = try f.choice("caching", TTMCaching.allCases.map(\.rawValue), default: "cached")
      if driver == .panfrost && f.has("caching") { throw f.fail("caching", "panfrost BOs have no TTM caching") }
      if driver == .panfrost && f.has("placement") { throw f.fail("placement", "panfrost BOs have no TTM placement") }
      return .create(
        bo: name, pages: try f.int("pages", in: 1...maxPages), caching: TTMCaching(rawValue: caching)!,
        filled: try f.bool("filled", default: true), seed: UInt64(try f.int("seed", default: 7, in: 0...Int.max)),
        placement: try placement(default: "system"))
    case "populate":
      let b = try bo()
      return .populate(bo: b, ctx: try ctx(), result: try result())
    case "restoreAndAlloc":
      let b = try bo()
      return .restoreAndAlloc(bo: b, ctx: try ctx(), result: try result())
    case "globalSwapout":
      return .globalSwapout(noWaitGPU: try f.bool("noWaitGPU", default: false), result: try result())
    case "place":
      let b = try bo()
      return .place(bo: b, placement: try placement(), result: try result())
    case "evict":
      return .evict(bo: try bo(), result: try result())
    case "backupPage":
      let b = try bo()
      let i = try index()
      let w = try f.bool("writeback", default: false)
      let r = try result()
      if let r { names.handles.insert(r) }
      return .backupPage(bo: b, index: i, writeback: w, result: r)
    case "copyPage":
      let b = try bo()
      let i = try index()
      let h = try handle()
      var extra: GFP?
      if f.has("additionalGFP") { extra = try f.gfp("additionalGFP", default: []) }
      return .copyPage(
        bo: b, index: i, handle: h, interruptible: try f.bool("interruptible", default: false), additionalGFP: extra,
        result: try result())
    case "dropHandle":
      let b = try bo()
      return .dropHandle(bo: b, handle: try handle())
    case "insertFolio":
      let b = try bo()
      return .insertFolio(
        bo: b, index: try index(), writeback: try f.bool("writeback", default: false),
        clearPrivate: try f.bool("clearPrivate", default: true), result: try result())
    case "fill":
      return .fill(bo: try bo(), seed: UInt64(try f.int("seed", default: 7, in: 0...Int.max)))
    case "check":
      return .check(bo: try bo(), result: try result())
    case "swapout":
      let b = try bo()
      var via: TTMDevice.SwapoutPath?
      if f.has("via") { via = TTMDevice.SwapoutPath(rawValue: try f.choice("via", ["shrink", "swapout"]))! }
      return .swapout(
        bo: b, purge: try f.bool("purge", default: false), writeback: try f.bool("writeback", default: false),
        asKswapd: try f.bool("asKswapd", default: false), via: via, allowMove: try f.bool("allowMove", default: true),
        result: try result())
    case "destroy":
      let b = try bo()
      names.liveBOs.removeAll { $0 == b }
      return .destroy(bo: b)
    case "set":
      let b = try bo()
      let op = ScenarioOp.set(
        bo: b, purgeable: try f.optionalBool("purgeable"), busy: try f.optionalBool("busy"),
        pinCount: try f.optionalInt("pinCount", in: 0...1000))
      if !f.has("purgeable") && !f.has("busy") && !f.has("pinCount") {
        throw ScenarioError("\(file): \(path): \"set\" needs at least one of purgeable, busy, pinCount")
      }
      return op
    case "spawn":
      let task = try parseTask(v, file: file, path: path, known: ["op", "note"] + keys)
      try names.spawn(task.comm, file: file, path: f.at("comm"))
      return .spawn(task)
    case "exit":
      let comm = try f.name("task")
      guard names.tasks.contains(comm) else { throw f.fail("task", "no task named \"\(comm)\" was started") }
      return .exit(task: comm)
    case "arm":
      let point = try fault()
      let nth = try f.optionalInt("nth", in: 1...maxPages)
      let space = try f.optionalInt("space", in: 0...Int.max)
      if (nth == nil) == (space == nil) {
        throw ScenarioError("\(file): \(path): give exactly one of \"nth\" and \"space\"")
      }
      var filterNone: Bool?
      if f.has("filter") {
        if point != FaultPoint.failPageAlloc.name {
          throw f.fail("filter", "only fail_page_alloc has filters")
        }
        filterNone = try f.choice("filter", ["none", "kernel-default"]) == "none"
      }
      return .arm(
        point: point, nth: nth, space: space, times: try f.int("times", default: -1, in: -1...Int.max),
        filterNone: filterNone)
    case "disarm":
      return .disarm(point: try fault())
    case "shrink":
      return .shrink(
        gfp: try f.gfp("gfp", default: .GFP_KERNEL),
        nrToScan: try f.int("nrToScan", default: SHRINK_BATCH, in: 0...maxPages),
        asKswapd: try f.bool("asKswapd", default: false), result: try result())
    case "count":
      return .count(gfp: try f.gfp("gfp", default: .GFP_KERNEL), result: try result())
    case "alloc":
      return .alloc(
        gfp: try f.gfp("gfp", default: .GFP_KERNEL), order: try f.int("order", default: 0, in: 0...MAX_PAGE_ORDER),
        count: try f.int("count", default: 1, in: 1...maxPages), result: try result())
    case "fragment":
      return .fragment
    case "resetCounters":
      return .resetCounters
    case "madvise":
      let b = try bo()
      let advice = try f.choice("advice", ["DONTNEED", "WILLNEED"])
      var closeDuring: PanfrostDevice.PreemptionPoint?
      if f.has("closeDuring") {
        closeDuring = PanfrostDevice.PreemptionPoint(
          rawValue: try f.choice("closeDuring", PanfrostDevice.PreemptionPoint.allCases.map(\.rawValue)))!
        // The handle is gone after this step: later steps cannot use the BO.
        names.liveBOs.removeAll { $0 == b }
      }
      return .madvise(
        bo: b, advice: advice == "DONTNEED" ? PANFROST_MADV_DONTNEED : PANFROST_MADV_WILLNEED,
        closeDuring: closeDuring, result: try result())
    default:  // "job"
      let b = try bo()
      return .job(bo: b, running: try f.choice("event", ["start", "done"]) == "start")
    }
  }

  static func parseExpectation(
    _ v: JSONValue, file: String, path: String, driver: ScenarioDriver, names: Names
  ) throws(ScenarioError) -> ScenarioExpectation {
    let f = try ScenarioFields(v, file: file, path: path, known: ScenarioVocabulary.expectKeys)
    var items: [ScenarioExpectedItem] = []
    func add(_ key: String, _ value: String, _ c: ScenarioComparison = .equal) {
      items.append(ScenarioExpectedItem(key: key, value: value, comparison: c))
    }
    func count(_ key: String) throws(ScenarioError) {
      if f.has(key) { add(key, "\(try f.int(key, in: 0...Int.max))") }
    }
    func flag(_ key: String) throws(ScenarioError) {
      if f.has(key) { add(key, "\(try f.bool(key, default: false))") }
    }
    func list(_ key: String, sorted: Bool = false) throws(ScenarioError) {
      if f.has(key) {
        let l = try f.strings(key)
        add(key, renderList(sorted ? Array(Set(l)).sorted() : l))
      }
    }
    func panfrostOnly(_ key: String) throws(ScenarioError) {
      if f.has(key) && driver != .panfrost { throw f.fail(key, "is a panfrost observation") }
    }
    func boName(_ sub: ScenarioFields, _ key: String) throws(ScenarioError) {
      try ScenarioFields.checkName(key) { p throws(ScenarioError) in throw sub.fail(key, p) }
      guard names.everBOs.contains(key) else { throw sub.fail(key, "no step creates a BO named \"\(key)\"") }
    }
    for m in f.members {
      switch m.key {
      case "results":
        let sub = try ScenarioFields(m.value, file: file, path: f.at("results"), known: names.results.keys.sorted())
        for r in sub.members {
          switch r.value {
          case .int(let n): add("results.\(r.key)", "\(n)")
          case .string(let s): add("results.\(r.key)", s)
          default: throw sub.fail(r.key, "expected an integer or a string, got \(r.value.kindDescription)")
          }
        }
      case "oomKills", "allocationFailureWarnings", "swapSlotsInUse", "lockViolations", "freePages", "bytesCopied",
        "allocations", "peakExtraPages", "ttmPagesAllocated", "poolTypePages":
        if (m.key == "ttmPagesAllocated" || m.key == "poolTypePages") && driver != .ttm {
          throw f.fail(m.key, "is a TTM observation")
        }
        try count(m.key)
      case "stats":
        let sub = try ScenarioFields(
          m.value, file: file, path: f.at("stats"), known: ModelStatistics.fieldNames + ["allocationsPerOrder"])
        for st in sub.members {
          switch st.key {
          case "oomVictims":
            add("stats.oomVictims", renderList(try sub.strings(st.key)))
          case "allocationsPerOrder":
            let orders = try ScenarioFields(
              st.value, file: file, path: sub.at(st.key), known: (0...MAX_PAGE_ORDER).map { "\($0)" })
            for o in orders.members {
              add("stats.allocationsPerOrder.\(o.key)", "\(try orders.int(o.key, in: 0...Int.max))")
            }
          default:
            add("stats.\(st.key)", "\(try sub.int(st.key, in: Int.min...Int.max))")
          }
        }
      case "largestFreeOrder":
        if case .null = m.value {
          add(m.key, "none")
        } else {
          add(m.key, "\(try f.int(m.key, in: 0...MAX_PAGE_ORDER))")
        }
      case "killed", "haltCallChain":
        if m.key == "haltCallChain" {
          add(m.key, renderList(try f.strings(m.key)), .listPrefix)
        } else {
          try list(m.key)
        }
      case "shmemGFP":
        try list(m.key, sorted: true)
      case "contentIntact":
        let sub = try ScenarioFields(m.value, file: file, path: f.at(m.key), known: names.everBOs)
        for b in sub.members { add("contentIntact.\(b.key)", "\(try sub.bool(b.key, default: false))") }
      case "halt":
        add("halt", try f.choice("halt", ScenarioVocabulary.halts))
      case "haltMessage":
        add("haltMessage", try f.string("haltMessage"), .prefix)
      case "dmesgContains":
        for s in try f.strings(m.key) { add("dmesg", s, .contains) }
      case "dmesgLacks":
        for s in try f.strings(m.key) { add("dmesg", s, .lacks) }
      case "auditClean", "listSound":
        if m.key == "listSound" { try panfrostOnly(m.key) }
        try flag(m.key)
      case "leaks":
        guard case .object(let owners) = m.value else {
          throw f.fail(m.key, "expected an object of owner: pages, got \(m.value.kindDescription)")
        }
        var parts: [(String, Int)] = []
        for o in owners {
          guard case .int(let n) = o.value, n > 0 else {
            throw ScenarioError("\(file): \(f.at(m.key)).\(o.key): expected a positive integer of pages")
          }
          parts.append((o.key, n))
        }
        add("leaks", renderLeaks(parts))
      case "kernelCounters":
        let sub = try ScenarioFields(
          m.value, file: file, path: f.at(m.key), known: ["nr_gpu_active", "nr_gpu_reclaim"])
        var parts: [(String, Int)] = []
        for c in sub.members {
          let n = try sub.int(c.key, in: Int.min...Int.max)
          if n == 0 { throw sub.fail(c.key, "list only the counters that are not zero") }
          parts.append((c.key, n))
        }
        add("kernelCounters", renderLeaks(parts))
      case "faultsInjected", "faultCalls":
        let sub = try ScenarioFields(
          m.value, file: file, path: f.at(m.key), known: ScenarioVocabulary.faultPoints.map(\.name))
        for p in sub.members { add("\(m.key).\(p.key)", "\(try sub.int(p.key, in: 0...Int.max))") }
      case "bos":
        let sub = try ScenarioFields(m.value, file: file, path: f.at("bos"), known: names.everBOs)
        let keys = driver == .ttm ? ScenarioVocabulary.ttmBOKeys : ScenarioVocabulary.panfrostBOKeys
        for b in sub.members {
          try boName(sub, b.key)
          let bf = try ScenarioFields(b.value, file: file, path: sub.at(b.key), known: keys)
          for k in bf.members {
            switch k.key {
            case "pages", "handles", "nullSlots": add("bos.\(b.key).\(k.key)", "\(try bf.int(k.key, in: 0...maxPages))")
            case "placement":
              add(
                "bos.\(b.key).placement",
                try bf.choice(k.key, ScenarioVocabulary.placements.map(\.name) + ["destroyed"]))
            case "madv": add("bos.\(b.key).\(k.key)", "\(try bf.int(k.key, in: -1...1))")
            default: add("bos.\(b.key).\(k.key)", "\(try bf.bool(k.key, default: false))")
            }
          }
        }
      case "listViolation":
        try panfrostOnly(m.key)
        add(m.key, try f.string(m.key), .prefix)
      case "listWalk":
        try panfrostOnly(m.key)
        add(m.key, try f.choice(m.key, ScenarioVocabulary.listWalks))
      case "shrinkerList":
        try panfrostOnly(m.key)
        try list(m.key)
      default:  // "purged"
        try panfrostOnly(m.key)
        for name in try f.strings(m.key) where !names.everBOs.contains(name) {
          throw f.fail(m.key, "no step creates a BO named \"\(name)\"")
        }
        try list(m.key, sorted: true)
      }
    }
    return ScenarioExpectation(items: items)
  }

  static func renderList(_ l: [String]) -> String { "[" + l.joined(separator: ", ") + "]" }

  static func renderLeaks(_ parts: [(String, Int)]) -> String {
    parts.isEmpty ? "none" : parts.sorted { $0.0 < $1.0 }.map { "\($0.0): \($0.1)" }.joined(separator: "; ")
  }
}

extension String {
  fileprivate func replacingSuffix(_ suffix: String) -> String {
    hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
  }
}
