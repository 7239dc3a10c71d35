import Testing

@testable import BOCore

/// One named mask and what the kernel says about it.
struct GFPCase: Sendable, CustomTestStringConvertible {
  let name: String
  let mask: GFP
  let value: UInt32
  /// What `%pGg` prints: the name, unless an earlier table entry has the same mask.
  var printed: String

  init(name: String, mask: GFP, value: UInt32, printed: String? = nil) {
    self.name = name
    self.mask = mask
    self.value = value
    self.printed = printed ?? name
  }

  var testDescription: String { name }
}

@Suite("GFP flags", .tags(.mm))
struct GFPTests {
  static let bits: [GFPCase] = [
    // GFP_DMA and GFP_DMA32 are the same bits and come first in the table.
    .init(name: "__GFP_DMA", mask: .__GFP_DMA, value: 0x1, printed: "GFP_DMA"),
    .init(name: "__GFP_HIGHMEM", mask: .__GFP_HIGHMEM, value: 0x2),
    .init(name: "__GFP_DMA32", mask: .__GFP_DMA32, value: 0x4, printed: "GFP_DMA32"),
    .init(name: "__GFP_MOVABLE", mask: .__GFP_MOVABLE, value: 0x8),
    .init(name: "__GFP_RECLAIMABLE", mask: .__GFP_RECLAIMABLE, value: 0x10),
    .init(name: "__GFP_HIGH", mask: .__GFP_HIGH, value: 0x20),
    .init(name: "__GFP_IO", mask: .__GFP_IO, value: 0x40),
    .init(name: "__GFP_FS", mask: .__GFP_FS, value: 0x80),
    .init(name: "__GFP_ZERO", mask: .__GFP_ZERO, value: 0x100),
    .init(name: "__GFP_DIRECT_RECLAIM", mask: .__GFP_DIRECT_RECLAIM, value: 0x400),
    .init(name: "__GFP_KSWAPD_RECLAIM", mask: .__GFP_KSWAPD_RECLAIM, value: 0x800),
    .init(name: "__GFP_WRITE", mask: .__GFP_WRITE, value: 0x1000),
    .init(name: "__GFP_NOWARN", mask: .__GFP_NOWARN, value: 0x2000),
    .init(name: "__GFP_RETRY_MAYFAIL", mask: .__GFP_RETRY_MAYFAIL, value: 0x4000),
    .init(name: "__GFP_NOFAIL", mask: .__GFP_NOFAIL, value: 0x8000),
    .init(name: "__GFP_NORETRY", mask: .__GFP_NORETRY, value: 0x10000),
    .init(name: "__GFP_MEMALLOC", mask: .__GFP_MEMALLOC, value: 0x20000),
    .init(name: "__GFP_COMP", mask: .__GFP_COMP, value: 0x40000),
    .init(name: "__GFP_NOMEMALLOC", mask: .__GFP_NOMEMALLOC, value: 0x80000),
    .init(name: "__GFP_HARDWALL", mask: .__GFP_HARDWALL, value: 0x100000),
    .init(name: "__GFP_THISNODE", mask: .__GFP_THISNODE, value: 0x200000),
    .init(name: "__GFP_ACCOUNT", mask: .__GFP_ACCOUNT, value: 0x400000),
    .init(name: "__GFP_ZEROTAGS", mask: .__GFP_ZEROTAGS, value: 0x800000),
  ]

  static let composites: [GFPCase] = [
    // GFP_NOIO is the same mask and precedes __GFP_RECLAIM in the table.
    .init(name: "__GFP_RECLAIM", mask: .__GFP_RECLAIM, value: 0xc00, printed: "GFP_NOIO"),
    .init(name: "GFP_ATOMIC", mask: .GFP_ATOMIC, value: 0x820),
    .init(name: "GFP_KERNEL", mask: .GFP_KERNEL, value: 0xcc0),
    .init(name: "GFP_KERNEL_ACCOUNT", mask: .GFP_KERNEL_ACCOUNT, value: 0x400cc0),
    .init(name: "GFP_NOWAIT", mask: .GFP_NOWAIT, value: 0x2800),
    .init(name: "GFP_NOIO", mask: .GFP_NOIO, value: 0xc00),
    .init(name: "GFP_NOFS", mask: .GFP_NOFS, value: 0xc40),
    .init(name: "GFP_USER", mask: .GFP_USER, value: 0x100cc0),
    .init(name: "GFP_HIGHUSER", mask: .GFP_HIGHUSER, value: 0x100cc2),
    .init(name: "GFP_HIGHUSER_MOVABLE", mask: .GFP_HIGHUSER_MOVABLE, value: 0x100cca),
    .init(name: "GFP_TRANSHUGE_LIGHT", mask: .GFP_TRANSHUGE_LIGHT, value: 0x1c20ca),
    .init(name: "GFP_TRANSHUGE", mask: .GFP_TRANSHUGE, value: 0x1c24ca),
  ]

  @Test("single bits have the values of include/linux/gfp_types.h", arguments: bits)
  func bitValue(_ c: GFPCase) {
    #expect(c.mask.rawValue == c.value)
    #expect(c.mask.description == c.printed)
  }

  @Test("composite masks have the kernel's values and print as one name", arguments: composites)
  func compositeValue(_ c: GFPCase) {
    #expect(c.mask.rawValue == c.value)
    #expect(c.mask.description == c.printed)
  }

  /// `%pGg` of the masks the patches use, with their `%#x` form.
  @Test(
    "%pGg prints the masks the patches use as the kernel does",
    arguments: [
      // mapping_gfp_mask() of a shmem file: the readback gfp before c6135f67.
      (GFP.GFP_HIGHUSER_MOVABLE, "0x100cca", "GFP_HIGHUSER_MOVABLE"),
      // c6135f67 with ctx->gfp_retry_mayfail: single bits follow in bit order, so NOWARN
      // (bit 13) prints before RETRY_MAYFAIL (bit 14).
      (
        GFP.GFP_HIGHUSER_MOVABLE.union([.__GFP_RETRY_MAYFAIL, .__GFP_NOWARN]), "0x106cca",
        "GFP_HIGHUSER_MOVABLE|__GFP_NOWARN|__GFP_RETRY_MAYFAIL"
      ),
      // ttm_pool_backup()'s alloc_gfp.
      (
        GFP.GFP_KERNEL.union([.__GFP_HIGH, .__GFP_NOWARN, .__GFP_RETRY_MAYFAIL]), "0x6ce0",
        "GFP_KERNEL|__GFP_HIGH|__GFP_NOWARN|__GFP_RETRY_MAYFAIL"
      ),
      (GFP.GFP_KERNEL, "0xcc0", "GFP_KERNEL"),
      // lib/test_printf.c: gfp = GFP_ATOMIC|__GFP_DMA prints "GFP_ATOMIC|GFP_DMA".
      (GFP.GFP_ATOMIC.union(.__GFP_DMA), "0x821", "GFP_ATOMIC|GFP_DMA"),
      // A GFP_NOFS caller that silences the warning.
      (GFP.GFP_NOFS.union(.__GFP_NOWARN), "0x2c40", "GFP_NOFS|__GFP_NOWARN"),
      // Nothing: the empty string. (The "0x0" is the model's %#x; the kernel's number() for
      // zero is UNVERIFIED.)
      (GFP([]), "0x0", ""),
      // Bits no table entry names come last as hex.
      (GFP(rawValue: 0x200).union(.__GFP_HIGH), "0x220", "__GFP_HIGH|0x200"),
    ])
  func pGg(_ mask: GFP, _ hex: String, _ printed: String) {
    #expect(mask.hexString == hex)
    #expect(mask.description == printed)
  }

  /// `format_flags()` is greedy in table order, so a mask must come before every mask it
  /// strictly contains, or the larger one could never be printed.
  @Test("the name table lists supersets before subsets, and single bits in bit order")
  func tableOrder() {
    let table = GFP.nameTable
    for (i, a) in table.enumerated() {
      for b in table[(i + 1)...] {
        #expect(!(a.mask.isStrictSubset(of: b.mask)), "\(a.name) comes before its superset \(b.name)")
      }
    }
    let singles = table.filter { $0.name.hasPrefix("__GFP_") && $0.mask.rawValue.nonzeroBitCount == 1 }
    #expect(singles.map(\.mask.rawValue) == singles.map(\.mask.rawValue).sorted())
    #expect(singles.count == 23)
  }
}
