import BOCore
import KernelTrees
import ModelTestSupport
import Patches
import Testing

/// The backup functions one at a time (`TTMBackupAPI.swift`): each tree answers with its own
/// version, or says the function does not exist there. The trees are built from stacks, so
/// the answer comes from the patches a tree carries, not from a name.
@Suite("Backup functions called one at a time, per tree", .tags(.shmemBackupV14))
struct BackupAPITests {
  /// A stack, and which of the three backup-file functions it has.
  struct Tree: CustomTestStringConvertible, Sendable {
    let stack: [String]
    let backupPage: Bool
    let insertFolio: Bool
    let additionalGFP: Bool
    var testDescription: String { stack.isEmpty ? "no patches (6.1-6.14)" : stack.joined(separator: " + ") }
  }

  static let trees = [
    Tree(stack: [], backupPage: false, insertFolio: false, additionalGFP: false),
    Tree(stack: ["shmem-backup-v14"], backupPage: true, insertFolio: false, additionalGFP: false),
    Tree(
      stack: ["shmem-backup-v14", "gfp-retry-mayfail-readback"], backupPage: true, insertFolio: false,
      additionalGFP: true),
    Tree(
      stack: ["shmem-backup-v14", "gfp-retry-mayfail-readback", "zero-copy-insert-folio"], backupPage: false,
      insertFolio: true, additionalGFP: true),
    Tree(
      stack: ["shmem-backup-v14", "gfp-retry-mayfail-readback", "native-order-backup"], backupPage: false,
      insertFolio: false, additionalGFP: true),
  ]

  @Test(
    "backup_page, copy_page, drop and insert_folio exist exactly where the tree's patches put them", arguments: trees)
  func functionsPerTree(_ t: Tree) throws {
    let rig = TTMRig(tree: try KernelTree(stack: t.stack), memory: 512, swap: 256)
    let bo = try rig.filledBO(pages: 4)
    let hasBackupFile = t.stack.contains("shmem-backup-v14")

    // ttm_backup_backup_page(): a copy into the backup file at the index, handle index + 1.
    if t.backupPage {
      let before = rig.machine.statistics
      #expect(try rig.device.ttmBackupBackupPage(bo.tt, index: 2) == 3)
      #expect(rig.machine.statistics.since(before).pagesCopied == 1)
      #expect(bo.tt.pages[2] != .null && bo.tt.isPopulated, "the page stays in the tt")
      // Overwrite the page, copy it back from the backup, drop the handle.
      rig.machine.writePage(try #require(Self.page(bo.tt.pages[2])), .poison)
      let extra: GFP? = t.additionalGFP ? [] : nil
      #expect(try rig.device.ttmBackupCopyPage(bo.tt, index: 2, handle: 3, additionalGFP: extra) == 0)
      try rig.device.ttmBackupDrop(bo.tt, handle: 3)
      #expect(rig.machine.shmemEntry(bo.tt.backup!, 2) == nil, "dropped")
    } else {
      #expect(throws: TTMAbsentFunction.self) { try rig.device.ttmBackupBackupPage(bo.tt, index: 2) }
    }
    #expect(rig.device.checkContent(bo, seed: 7).isEmpty)

    // The additional_gfp parameter is c6135f67aa37's.
    if hasBackupFile && !t.additionalGFP {
      #expect(throws: TTMAbsentFunction.self) {
        try rig.device.ttmBackupCopyPage(bo.tt, index: 0, handle: 1, additionalGFP: [.__GFP_RETRY_MAYFAIL])
      }
    }
    if !hasBackupFile {
      #expect(throws: TTMAbsentFunction.self) { try rig.device.ttmBackupDrop(bo.tt, handle: 1) }
      #expect(throws: TTMAbsentFunction.self) { try rig.device.ttmPoolRestoreAndAlloc(bo.tt) }
    }

    // ttm_backup_insert_folio(): the page goes to shmem, its slot becomes the handle.
    if t.insertFolio {
      #expect(try rig.device.ttmBackupInsertFolio(bo.tt, index: 0) == 1)
      #expect(bo.tt.pages[0] == .handle(1) && bo.tt.isBackedUp && !bo.tt.isPopulated)
      #expect(try rig.device.ttmPoolRestoreAndAlloc(bo.tt) == 0)
      #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
    } else {
      #expect(throws: TTMAbsentFunction.self) { try rig.device.ttmBackupInsertFolio(bo.tt, index: 0) }
    }
    let audit = try rig.teardown([bo])
    #expect(audit.isClean, "\(audit)")
  }

  /// With c6135f67aa37 the readback adds the caller's gfp to the mapping's: the shmem read
  /// under pressure fails (-ENOMEM) instead of OOM-killing; without the parameter it kills.
  @Test("ttm_backup_copy_page() under pressure: additional_gfp decides between -ENOMEM and a kill")
  func copyPageAdditionalGFP() throws {
    for withParameter in [false, true] {
      let stack = ["shmem-backup-v14"] + (withParameter ? ["gfp-retry-mayfail-readback"] : [])
      let rig = TTMRig(tree: try KernelTree(stack: stack), memory: 256, swap: 256)
      let bo = try rig.filledBO(pages: 2)
      #expect(try rig.device.ttmBackupBackupPage(bo.tt, index: 1, writeback: true) == 2)
      let chrome = try rig.leaveFree(0)
      let extra: GFP? = withParameter ? [.__GFP_RETRY_MAYFAIL, .__GFP_NOWARN] : nil
      let ret = try rig.device.ttmBackupCopyPage(bo.tt, index: 1, handle: 2, additionalGFP: extra)
      #expect(ret == (withParameter ? Errno.ENOMEM.negated : 0))
      #expect(rig.machine.statistics.oomVictims == (withParameter ? [] : ["chrome"]))
      if withParameter { rig.machine.exitTask(chrome) }
      #expect(rig.device.checkContent(bo, seed: 7).isEmpty)
      let audit = try rig.teardown([bo])
      #expect(audit.isClean, "\(audit)")
    }
  }

  static func page(_ p: TTMPagePointer) -> Page? { if case .page(let page) = p { page } else { nil } }
}
