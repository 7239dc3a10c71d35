import BOCore
import KernelTrees
import ModelTestSupport
import Patches
import Testing

extension StableTrees.Branch: CustomTestStringConvertible {
  public var testDescription: String { name }
}

/// The stable branches' trees carry the combinations of backup fixes the branches really
/// carry, and each tree shows it by behaviour, not by flag.
@Suite("Stable branch trees", .tags(.stableTrees))
struct StableTreesTests {
  @Test("6.18.y, 7.1.y, 7.2.y and mainline carry their patches")
  func stacks() {
    let stacks = Dictionary(uniqueKeysWithValues: StableTrees.branches.map { ($0.name, Set($0.stack)) })
    #expect(stacks["6.18.y"] == ["shmem-backup-v14", "null-handle-pages-backup"])
    #expect(
      stacks["7.1.y"] == [
        "shmem-backup-v14", "gfp-retry-mayfail-readback", "null-handle-pages-backup", "native-order-backup",
      ])
    #expect(stacks["7.2.y"] == stacks["7.1.y"]!.union(["drop-restore-after-restore"]))
    #expect(
      stacks["mainline"]
        == Set(PatchCatalog.all.map(\.slug)).subtracting(["zero-copy-insert-folio", "madvise-list-move"]))
  }

  /// Each branch's tree, run: a readback under pressure OOM-kills unless the gfp fix is
  /// there; an interrupted and resumed restore leaks its state unless "Drop tt->restore" is;
  /// a backed-up order-4 block comes back whole only with native order.
  @Test("Each branch's tree behaves as its stack says", arguments: StableTrees.branches)
  func behaviour(branch: StableTrees.Branch) throws {
    let has = Set(branch.stack)

    // Readback under pressure with ctx->gfp_retry_mayfail.
    do {
      let rig = TTMRig(tree: branch.tree, memory: 512, swap: 512)
      let bo = try rig.filledBO(pages: 1)
      #expect(try rig.device.swapout(bo, flags: TTMBackupFlags(writeback: true)) == 1)
      try rig.leaveFree(2)
      let ret = try rig.device.populate(bo, TTMOperationContext(gfpRetryMayfail: true))
      let fixed = has.contains("gfp-retry-mayfail-readback")
      #expect(ret == (fixed ? Errno.ENOMEM.negated : 0))
      #expect((rig.machine.vmstat.oomKill == 1) == !fixed)
    }

    // A resumed restore that completes.
    do {
      let rig = TTMRig(tree: branch.tree, memory: 512, swap: 512, poolOrder: 1)
      let bo = try rig.filledBO(pages: 4)
      _ = try rig.interruptAndResumeRestore(bo)
      let audit = try rig.teardown([bo])
      if has.contains("drop-restore-after-restore") {
        #expect(audit.isClean, "\(audit)")
      } else {
        #expect(audit.leakedPages == ["kmalloc: ttm_pool_tt_restore": 1], "\(audit)")
      }
    }

    // Backup of an order-4 block in memory fragmented everywhere else.
    do {
      let rig = TTMRig(tree: branch.tree, memory: 2048, swap: 2048, poolOrder: 4)
      let bo = try rig.filledBO(pages: 16)
      for frame in 0..<rig.machine.mem.totalPages where frame % 2 == 1 {
        rig.machine.takePageOffBuddy(Page(pfn: frame), owner: .other("pinned"))
      }
      #expect(try rig.device.swapout(bo) == 16)
      #expect((rig.machine.mem.largestFreeOrder ?? 0 >= 4) == has.contains("native-order-backup"))
    }
  }
}
