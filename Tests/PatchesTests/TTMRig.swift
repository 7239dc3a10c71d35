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
    tree = KernelTree.pair(model, variant)
    machine = Machine(MachineConfig(memoryPages: memory, swapPages: swap, watermarks: watermarks))
    machine.shmemLargeFolioOrder = shmemLargeFolioOrder
    device = tree.makeDevice(on: machine, pool: TTMPool(maxOrder: poolOrder))
  }

  /// Creates, populates and fills a BO of `pages` pages.
  @discardableResult
  func filledBO(pages: Int, seed: UInt64 = 7, name: String? = nil) throws -> TTMBufferObject {
    let bo = try device.createBO(numPages: pages, name: name)
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

  /// Destroys `bos`, exits every task but `current`, unregisters the device, and audits.
  func teardown(_ bos: [TTMBufferObject]) throws -> AccountingAudit {
    for bo in bos { try device.destroy(bo) }
    device.fini()
    for task in machine.tasks where task.pid != machine.currentPID { machine.exitTask(task.pid) }
    return machine.audit()
  }
}
