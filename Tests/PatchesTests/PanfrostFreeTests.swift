import BOCore
import MadviseListMoveModel
import ModelTestSupport
import Patches
import Testing

/// Freeing panfrost BOs (`panfrost_gem_free_object()`: `list_del_init()` under
/// `shrinker_lock`), after a double DONTNEED, and with `GEM_CLOSE` racing `MADVISE`.
@Suite("madvise-list-move: freeing BOs and a close racing madvise")
struct PanfrostFreeTests {
  /// Freeing a purgeable BO unlinks it on both variants: the list stays a sound ring of the
  /// others, and the shrinker purges what is left.
  @Test("Freeing a purgeable BO takes it off shrinker_list", arguments: Variant.allCases)
  func freePurgeable(_ variant: Variant) throws {
    let rig = PanfrostRig(variant, listDebug: .on5x)
    let bos = try rig.makeList(3)
    try rig.pfdev.gemClose(rig.file, try #require(rig.pfdev.handle(of: bos[1], in: rig.file)))
    #expect(bos[1].isFreed)
    #expect(rig.pfdev.shrinkerListWalk() == .complete([bos[0].base.madvList, bos[2].base.madvList]))
    #expect(rig.listReports.isEmpty)
    #expect(try rig.scan() == .freed(2))
    let audit = try rig.teardown()
    #expect(audit.isClean, "\(audit)")
  }

  /// After a second DONTNEED before the fix, the list head still points at the BO re-added at
  /// the tail; the free's `list_del_init()` passes DEBUG_LIST's checks (the BO's own
  /// neighbours agree) and leaves the head pointing at freed memory, which the next shrinker
  /// walk reaches. With the fix the free is clean.
  @Test("Freeing after a double DONTNEED: use-after-free before the fix, clean after", arguments: Variant.allCases)
  func freeAfterDoubleDontneed(_ variant: Variant) throws {
    let rig = PanfrostRig(variant, listDebug: .on5x)
    let bos = try rig.makeList(2)
    #expect(try rig.madvise(bos[0], PANFROST_MADV_DONTNEED) == 1)
    try rig.pfdev.gemClose(rig.file, try #require(rig.pfdev.handle(of: bos[0], in: rig.file)))
    #expect(rig.listReports.isEmpty, "DEBUG_LIST sees nothing wrong at the free")
    switch variant {
    case .before:
      #expect(throws: KernelHalt.self) { try rig.scan() }
      do {
        _ = try rig.scan()
      } catch let KernelHalt.oops(message, _) {
        #expect(message.hasPrefix("[model] use-after-free: panfrost_gem_shrinker_scan reached bo0"))
      }
    case .after:
      #expect(rig.pfdev.shrinkerListWalk() == .complete([bos[1].base.madvList]))
      #expect(try rig.scan() == .freed(1))
      let audit = try rig.teardown()
      #expect(audit.isClean, "\(audit)")
    }
  }

  /// Another thread closes the handle inside the ioctl: after the lookup DONTNEED finds no
  /// mapping (-EINVAL); after the unlock the BO is already on the list. Either way the
  /// ioctl's put is the last reference and the free unlinks the BO; both variants alike.
  @Test(
    "GEM_CLOSE racing MADVISE: the ioctl's put frees the BO, off the list",
    arguments: Variant.allCases, PanfrostDevice.PreemptionPoint.allCases)
  func closeRacingMadvise(_ variant: Variant, _ point: PanfrostDevice.PreemptionPoint) throws {
    let rig = PanfrostRig(variant, listDebug: .on5x)
    let keep = try rig.makeList(1)[0]
    let bo = try rig.pfdev.createBO(rig.file, size: PAGE_SIZE, name: "raced")
    rig.pfdev.pendingClose = (point, rig.file, try #require(rig.pfdev.handle(of: bo, in: rig.file)))
    let r = try rig.pfdev.madvise(rig.file, bo, PANFROST_MADV_DONTNEED)
    #expect(rig.pfdev.pendingClose == nil, "the close ran")
    switch point {
    case .madviseAfterLookup: #expect(r.ret == Errno.EINVAL.negated)
    case .madviseAfterUnlock: #expect(r.ret == 0 && r.retained == 1)
    }
    #expect(bo.isFreed && bo.refcount == 0)
    #expect(rig.pfdev.shrinkerListWalk() == .complete([keep.base.madvList]))
    #expect(rig.listReports.isEmpty)
    let audit = try rig.teardown()
    #expect(audit.isClean, "\(audit)")
  }
}
