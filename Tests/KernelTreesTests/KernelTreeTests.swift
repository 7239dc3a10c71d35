import BOCore
import GFPRetryMayfailReadbackModel
import KernelTrees
import Patches
import ShmemBackupV14Model
import Testing

/// Kernel trees: a base plus a stack of patches, and the seams each stack installs.
@Suite("Kernel trees", .tags(.kernelTree))
struct KernelTreeTests {
  @Test("A stack that cannot exist is refused with a clear error")
  func impossibleStacks() {
    let missing = KernelTreeError.missingPrerequisite(patch: "gfp-retry-mayfail-readback", missing: "shmem-backup-v14")
    #expect(throws: missing) { try KernelTree(stack: ["gfp-retry-mayfail-readback"]) }
    #expect(throws: missing) { try KernelTree(stack: ["gfp-retry-mayfail-readback", "shmem-backup-v14"]) }
    #expect(throws: KernelTreeError.duplicatePatch("shmem-backup-v14")) {
      try KernelTree(stack: ["shmem-backup-v14", "shmem-backup-v14"])
    }
    #expect(throws: KernelTreeError.unknownPatch("no-such-patch")) { try KernelTree(stack: ["no-such-patch"]) }
    #expect(
      throws: KernelTreeError.missingPrerequisite(patch: "zero-copy-insert-folio", missing: "shmem-backup-v14")
    ) { try KernelTree(stack: ["zero-copy-insert-folio"]) }
    #expect(
      missing.description
        == "'gfp-retry-mayfail-readback' changes code that 'shmem-backup-v14' adds, "
        + "so 'shmem-backup-v14' must come before it in the stack")
  }

  /// Which code each tree carries: the backup seams exist only with v14; the gfp patch's
  /// Before side is installed wherever v14 is and the gfp patch is not.
  @Test("Each tree carries the code its stack implies")
  func seams() throws {
    let legacy = try KernelTree(stack: [])
    #expect(legacy.functions.ttmPoolBackup == nil && legacy.functions.ttmPoolRestoreCommit == nil)
    #expect(!legacy.hasCode(of: GFPRetryMayfailReadback.self))
    let v14 = try KernelTree(base: "v6.18", stack: ["shmem-backup-v14"])
    #expect(v14.functions.ttmPoolBackup != nil && v14.functions.ttmPoolRestoreCommit != nil)
    #expect(v14.hasCode(of: GFPRetryMayfailReadback.self))
    #expect(v14.description == "v6.18 + shmem-backup-v14")
    #expect(KernelTree.pair(GFPRetryMayfailReadback.self, .before).stack == ["shmem-backup-v14"])
    #expect(
      KernelTree.pair(GFPRetryMayfailReadback.self, .after).stack == ["shmem-backup-v14", "gfp-retry-mayfail-readback"])
    #expect(KernelTree.pair(ShmemBackupV14.self, .before).stack.isEmpty)
  }

  /// The tree decides behaviour, not a flag: the same restore under the same pressure kills
  /// on the v14 tree and fails cleanly on v14 + gfp.
  @Test("The same scenario differs only by the tree it runs on", arguments: Variant.allCases)
  func treeDecides(variant: Variant) throws {
    let tree = KernelTree.pair(GFPRetryMayfailReadback.self, variant)
    let machine = Machine(MachineConfig(memoryPages: 256, swapPages: 256))
    let device = tree.makeDevice(on: machine)
    let bo = try device.createBO(numPages: 1)
    #expect(try device.populate(bo) == 0)
    device.fill(bo, seed: 1)
    #expect(try device.swapout(bo, flags: TTMBackupFlags(writeback: true)) == 1)
    let chrome = try machine.spawnTask("chrome", rssPages: machine.mem.nrFreePages - 2)
    let ret = try device.populate(bo, TTMOperationContext(gfpRetryMayfail: true))
    #expect(ret == (variant == .before ? 0 : Errno.ENOMEM.negated))
    #expect(machine.vmstat.oomKill == (variant == .before ? 1 : 0))
    if variant == .after {
      machine.exitTask(chrome)
      #expect(try device.populate(bo, TTMOperationContext(gfpRetryMayfail: true)) == 0)
    }
    #expect(device.checkContent(bo, seed: 1).isEmpty)
    try device.destroy(bo)
    device.fini()
    #expect(machine.audit().isClean, "\(machine.audit())")
  }
}
