// ModelTestSupport: the rigs the model tests share.
// Holds: a machine with a TTM device (TTMRig) or a panfrost device (PanfrostRig) running one
// tree, with helpers to build the memory situation a test needs and to audit at teardown.
// May import: BOCore, Patches, KernelTrees, MadviseListMoveModel, Testing
// Must not: import the harness or a product, or hold a test.

import BOCore
import KernelTrees
import Patches
import Testing

/// A machine and a TTM device running one variant of a patch, with helpers to build the
/// memory situation a test needs.
public struct TTMRig {
  public let machine: Machine
  public let device: TTMDevice
  public let tree: KernelTree

  /// A machine of `memory` pages and `swap` swap slots, no watermarks unless given, shmem
  /// files that take folios up to `shmemLargeFolioOrder`, and a device of `driverStyle`
  /// whose pool allocates at most `poolOrder` (through `dma_alloc_attrs()` with `dmaAlloc`).
  public init(
    _ model: any PatchModel.Type, _ variant: Variant, memory: Int = 4096, swap: Int = 4096,
    watermarks: Watermarks = .none, poolOrder: Int = 0, shmemLargeFolioOrder: Int = 0, dmaAlloc: Bool = false,
    driverStyle: TTMDriverStyle = .xe
  ) {
    self.init(
      tree: KernelTree.pair(model, variant), memory: memory, swap: swap, watermarks: watermarks,
      poolOrder: poolOrder, shmemLargeFolioOrder: shmemLargeFolioOrder, dmaAlloc: dmaAlloc,
      driverStyle: driverStyle)
  }

  /// The same on any tree, e.g. a stable branch's.
  public init(
    tree: KernelTree, memory: Int = 4096, swap: Int = 4096, watermarks: Watermarks = .none, poolOrder: Int = 0,
    shmemLargeFolioOrder: Int = 0, dmaAlloc: Bool = false, driverStyle: TTMDriverStyle = .xe
  ) {
    self.tree = tree
    machine = Machine(MachineConfig(memoryPages: memory, swapPages: swap, watermarks: watermarks))
    machine.shmemLargeFolioOrder = shmemLargeFolioOrder
    device = tree.makeDevice(
      on: machine, pool: TTMPool(usesDMAAlloc: dmaAlloc, maxOrder: poolOrder), driverStyle: driverStyle)
  }

  /// Creates, populates and fills a BO of `pages` pages.
  @discardableResult
  public func filledBO(pages: Int, seed: UInt64 = 7, name: String? = nil, caching: TTMCaching = .cached) throws
    -> TTMBufferObject
  {
    let bo = try device.createBO(numPages: pages, caching: caching, name: name)
    let ret = try device.populate(bo)
    try #require(ret == 0, "populate: \(kernelReturnDescription(ret))")
    device.fill(bo, seed: seed)
    return bo
  }

  /// Starts a bystander task holding every free page but `free`, and returns its pid.
  @discardableResult
  public func leaveFree(_ free: Int, comm: String = "chrome") throws -> PID {
    try machine.spawnTask(comm, rssPages: max(0, machine.mem.nrFreePages - free))
  }

  /// Runs `body` as kswapd (a kernel thread named `kswapd0`), which waits for the GPU and
  /// asks for writeback in the BO shrinker.
  public func asKswapd<T>(_ body: () throws -> T) rethrows -> T {
    let kswapd = machine.tasks.first { $0.comm == "kswapd0" }?.pid ?? machine.spawnKernelThread("kswapd0")
    return try machine.run(as: kswapd) { try machine.memallocNoreclaim(body) }
  }

  /// Leaves `bo` with a stale `tt->restore`, the state "Drop tt->restore after successful
  /// restore" fixes, by real calls: back up its `2 * blocks` pages (order-1 blocks), restore
  /// with `backup_fault_inject` interrupting the last block half-way (-EINTR), then resume;
  /// the resumed restore finishes with nothing left to allocate. Returns the two populate
  /// results.
  public func interruptAndResumeRestore(_ bo: TTMBufferObject) throws -> (first: Int, resumed: Int) {
    let ctx = TTMOperationContext(interruptible: true)
    #expect(try device.swapout(bo) == bo.tt.numPages)
    // restore_commit consults the fault point once per handle slot: the last one fails.
    machine.faults.arm(.backupFaultInject, .nth(bo.tt.numPages))
    let first = try device.populate(bo, ctx)
    machine.faults.disarm(.backupFaultInject)
    let resumed = try device.populate(bo, ctx)
    return (first, resumed)
  }

  /// Destroys `bos`, exits every task but `current`, unregisters the device, and audits.
  public func teardown(_ bos: [TTMBufferObject]) throws -> AccountingAudit {
    for bo in bos { try device.destroy(bo) }
    device.fini()
    for task in machine.tasks where task.pid != machine.currentPID { machine.exitTask(task.pid) }
    return machine.audit()
  }
}
