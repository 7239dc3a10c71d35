import BOCore
import KernelTrees
import Patches
import Testing

extension Tag {
  /// Tests of the shmem-backup-v14 pair.
  @Tag static var shmemBackupV14: Self
  /// Tests of the gfp-retry-mayfail-readback pair.
  @Tag static var gfpRetryMayfailReadback: Self
  /// Tests of the zero-copy-insert-folio pair.
  @Tag static var zeroCopyInsertFolio: Self
  /// Tests of the drop-restore-after-restore pair.
  @Tag static var dropRestoreAfterRestore: Self
  /// Tests of the null-handle-pages-backup pair.
  @Tag static var nullHandlePagesBackup: Self
  /// Tests of the native-order-backup pair.
  @Tag static var nativeOrderBackup: Self
  /// Tests of the stable branches' trees.
  @Tag static var stableTrees: Self
  /// Tests that compose kernel trees.
  @Tag static var kernelTree: Self
  /// Tests of the xe-style BO shrinker of the v14 tree.
  @Tag static var boShrinker: Self
}

/// A machine and a TTM device running one variant of a patch, with helpers to build the
/// memory situation a test needs.
struct TTMRig {
  let machine: Machine
  let device: TTMDevice
  let tree: KernelTree

  /// A machine of `memory` pages and `swap` swap slots, no watermarks unless given, shmem
  /// files that take folios up to `shmemLargeFolioOrder`, and a device whose pool allocates
  /// at most `poolOrder`.
  init(
    _ model: any PatchModel.Type, _ variant: Variant, memory: Int = 4096, swap: Int = 4096,
    watermarks: Watermarks = .none, poolOrder: Int = 0, shmemLargeFolioOrder: Int = 0
  ) {
    self.init(
      tree: KernelTree.pair(model, variant), memory: memory, swap: swap, watermarks: watermarks,
      poolOrder: poolOrder, shmemLargeFolioOrder: shmemLargeFolioOrder)
  }

  /// The same on any tree, e.g. a stable branch's.
  init(
    tree: KernelTree, memory: Int = 4096, swap: Int = 4096, watermarks: Watermarks = .none, poolOrder: Int = 0,
    shmemLargeFolioOrder: Int = 0
  ) {
    self.tree = tree
    machine = Machine(MachineConfig(memoryPages: memory, swapPages: swap, watermarks: watermarks))
    machine.shmemLargeFolioOrder = shmemLargeFolioOrder
    device = tree.makeDevice(on: machine, pool: TTMPool(maxOrder: poolOrder))
  }

  /// Creates, populates and fills a BO of `pages` pages.
  @discardableResult
  func filledBO(pages: Int, seed: UInt64 = 7, name: String? = nil, caching: TTMCaching = .cached) throws
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
  func leaveFree(_ free: Int, comm: String = "chrome") throws -> PID {
    try machine.spawnTask(comm, rssPages: max(0, machine.mem.nrFreePages - free))
  }

  /// Runs `body` as kswapd (a kernel thread named `kswapd0`), which waits for the GPU and
  /// asks for writeback in the BO shrinker.
  func asKswapd<T>(_ body: () throws -> T) rethrows -> T {
    let kswapd = machine.tasks.first { $0.comm == "kswapd0" }?.pid ?? machine.spawnKernelThread("kswapd0")
    return try machine.run(as: kswapd) { try machine.memallocNoreclaim(body) }
  }

  /// Leaves `bo` with a stale `tt->restore`, the state "Drop tt->restore after successful
  /// restore" fixes, by real calls: back up its `2 * blocks` pages (order-1 blocks), restore
  /// with `backup_fault_inject` interrupting the last block half-way (-EINTR), then resume;
  /// the resumed restore finishes with nothing left to allocate. Returns the two populate
  /// results.
  func interruptAndResumeRestore(_ bo: TTMBufferObject) throws -> (first: Int, resumed: Int) {
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
  func teardown(_ bos: [TTMBufferObject]) throws -> AccountingAudit {
    for bo in bos { try device.destroy(bo) }
    device.fini()
    for task in machine.tasks where task.pid != machine.currentPID { machine.exitTask(task.pid) }
    return machine.audit()
  }
}
