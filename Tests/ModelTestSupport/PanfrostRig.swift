import BOCore
import KernelTrees
import MadviseListMoveModel
import Patches
import Testing

/// A machine with a panfrost device running one variant, one open file, and helpers.
public struct PanfrostRig {
  public let machine: Machine
  public let pfdev: PanfrostDevice
  public let file: PanfrostFile

  public init(_ variant: Variant, listDebug: ListDebugConfig = .off, memory: Int = 256) {
    let tree = KernelTree.pair(MadviseListMove.self, variant)
    machine = Machine(MachineConfig(memoryPages: memory, swapPages: 0))
    pfdev = PanfrostDevice(machine: machine, functions: tree.kernelFunctions.panfrost, listDebug: listDebug)
    file = pfdev.open()
  }

  /// Creates `length` BOs of `pages` pages, fills them, and marks each DONTNEED in order, so
  /// `shrinker_list` is `bo0 ... bo(length-1)`.
  public func makeList(_ length: Int, pages: Int = 1) throws -> [PanfrostGEMObject] {
    var bos: [PanfrostGEMObject] = []
    for i in 0..<length {
      let bo = try pfdev.createBO(file, size: pages * PAGE_SIZE, name: "bo\(i)")
      pfdev.fill(bo, seed: 7)
      bos.append(bo)
    }
    for bo in bos { #expect(try madvise(bo, PANFROST_MADV_DONTNEED) == 1) }
    return bos
  }

  /// The madvise ioctl, which must succeed; returns `retained`.
  public func madvise(_ bo: PanfrostGEMObject, _ madv: UInt32) throws -> UInt32 {
    let r = try pfdev.madvise(file, bo, madv)
    #expect(r.ret == 0)
    return r.retained
  }

  /// `panfrost_gem_shrinker_count()`.
  public func count() throws -> Int {
    try pfdev.shrinker!.countObjects(ShrinkControl(gfpMask: .GFP_KERNEL, nrToScan: 0), on: machine)
  }

  /// `panfrost_gem_shrinker_scan()` with `nr_to_scan`.
  public func scan(_ nrToScan: Int = SHRINK_BATCH) throws -> ShrinkResult {
    var sc = ShrinkControl(gfpMask: .GFP_KERNEL, nrToScan: nrToScan, nrScanned: nrToScan)
    return try pfdev.shrinker!.scanObjects(&sc, on: machine)
  }

  /// `next`/`prev` of every `list_head`.
  public var state: [String] { pfdev.lists.pointerState() }

  /// What the list checks printed to the kernel log.
  public var listReports: [String] {
    machine.dmesg.lines.filter { $0.text.hasPrefix("list_") || $0.text.contains("cut here") }.map(\.text)
  }

  /// `%px` of a BO's `madv_list` or of the list head.
  public func px(_ bo: PanfrostGEMObject?) -> String {
    pfdev.lists.px(.node(bo?.base.madvList ?? pfdev.shrinkerList))
  }

  /// Closes the file (frees every BO), removes the device, exits every task but `current`,
  /// frees `extra` pages, and audits.
  public func teardown(freeing extra: [Page] = []) throws -> AccountingAudit {
    try pfdev.close(file)
    pfdev.fini()
    for page in extra { machine.freePages(page, order: 0) }
    for task in machine.tasks where task.pid != machine.currentPID { machine.exitTask(task.pid) }
    return machine.audit()
  }
}

/// The pointer state of a well-formed ring `shrinker_list -> order... -> shrinker_list`, with
/// some fields overridden; `names` in list-memory order.
public func ringState(
  _ names: [String], order: [String], overriding: [String: (next: String?, prev: String?)] = [:]
) -> [String] {
  let ring = ["shrinker_list"] + order
  var next: [String: String] = [:]
  var prev: [String: String] = [:]
  for name in names {
    next[name] = name
    prev[name] = name
  }
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

/// Whether `body` stops with a lockup whose note names `function`.
public func isLockup(in function: String, _ body: () throws -> Void) -> Bool {
  do {
    try body()
    return false
  } catch KernelHalt.lockup(let why) {
    return why.contains(function)
  } catch {
    return false
  }
}
