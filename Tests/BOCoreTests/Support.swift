import Testing

@testable import BOCore

extension Tag {
  /// GFP flags, the page allocator, reclaim and the OOM killer.
  @Tag static var mm: Self
  /// shmem and swap.
  @Tag static var shmem: Self
  /// `list_head` and `CONFIG_DEBUG_LIST`.
  @Tag static var list: Self
  /// Fault injection.
  @Tag static var faultInjection: Self
  /// The teardown accounting audit.
  @Tag static var audit: Self
}

/// A machine in genuine OOM: `memory` pages, all held by a bystander task ("chrome"), no
/// swap, no reclaimable memory. Returns the machine and the bystander's pid.
func machineInOOM(memory: Int = 256, swap: Int = 0) throws -> (Machine, PID) {
  let m = Machine(MachineConfig(memoryPages: memory, swapPages: swap))
  let chrome = try m.spawnTask("chrome", rssPages: m.mem.nrFreePages)
  return (m, chrome)
}

/// A shrinker that holds `pages` order-0 pages and frees up to `nr_to_scan` of them on scan,
/// unless the reclaim gfp lacks `requires`. `accounts` makes its pages count as reclaim
/// progress (`mm_account_reclaimed_pages()`); GPU shrinkers do not.
final class PageCacheShrinker: Shrinker {
  let name = "test-cache"
  let requires: GFP
  let accountsReclaimedPages: Bool
  var pages: [Page]
  var scans = 0
  /// Called at the start of every scan, to model a shrinker with side effects.
  var onScan: (() -> Void)?

  init(machine: Machine, pages count: Int, requires: GFP = [], accounts: Bool = false) throws {
    self.requires = requires
    self.accountsReclaimedPages = accounts
    pages = []
    for _ in 0..<count {
      pages.append(try #require(try machine.allocPages(.GFP_KERNEL, order: 0, owner: .other("test-cache"))))
    }
  }

  func countObjects(_ sc: ShrinkControl, on machine: Machine) -> Int {
    sc.gfpMask.isSuperset(of: requires) ? pages.count : 0
  }

  func scanObjects(_ sc: inout ShrinkControl, on machine: Machine) -> ShrinkResult {
    scans += 1
    guard sc.gfpMask.isSuperset(of: requires) else { return .stop }
    let n = min(sc.nrToScan, pages.count)
    for _ in 0..<n { machine.freePages(pages.removeLast(), order: 0) }
    onScan?()
    return .freed(n)
  }

  func release(_ machine: Machine) {
    for page in pages { machine.freePages(page, order: 0) }
    pages = []
  }
}
