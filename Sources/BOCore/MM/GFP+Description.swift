extension GFP: CustomStringConvertible {
  /// The names `%pGg` matches a mask against, in table order: the `__def_gfpflag_names`
  /// table of `include/trace/events/mmflags.h` as in current kernels, where the composite
  /// masks come first and every single bit follows in bit order (`TRACE_GFP_FLAGS`).
  ///
  /// Older kernels (5.x to 6.x before the `TRACE_GFP_FLAGS` rework) listed the single bits in
  /// a hand-written order; for the masks this package prints, both orders put `__GFP_NOWARN`
  /// before `__GFP_RETRY_MAYFAIL`. Source: torvalds/linux `include/trace/events/mmflags.h`
  /// @ 01c69ef56dfa. The `__GFP_SKIP_*` and `__GFP_NOLOCKDEP` entries exist only with
  /// `CONFIG_KASAN_HW_TAGS` / `CONFIG_LOCKDEP`, which the model leaves off.
  public static let nameTable: [(mask: GFP, name: String)] = [
    (.GFP_TRANSHUGE, "GFP_TRANSHUGE"),
    (.GFP_TRANSHUGE_LIGHT, "GFP_TRANSHUGE_LIGHT"),
    (.GFP_HIGHUSER_MOVABLE, "GFP_HIGHUSER_MOVABLE"),
    (.GFP_HIGHUSER, "GFP_HIGHUSER"),
    (.GFP_USER, "GFP_USER"),
    (.GFP_KERNEL_ACCOUNT, "GFP_KERNEL_ACCOUNT"),
    (.GFP_KERNEL, "GFP_KERNEL"),
    (.GFP_NOFS, "GFP_NOFS"),
    (.GFP_ATOMIC, "GFP_ATOMIC"),
    (.GFP_NOIO, "GFP_NOIO"),
    (.GFP_NOWAIT, "GFP_NOWAIT"),
    (.GFP_DMA, "GFP_DMA"),
    (.GFP_DMA32, "GFP_DMA32"),
    (.__GFP_RECLAIM, "__GFP_RECLAIM"),
    (.__GFP_DMA, "__GFP_DMA"),
    (.__GFP_HIGHMEM, "__GFP_HIGHMEM"),
    (.__GFP_DMA32, "__GFP_DMA32"),
    (.__GFP_MOVABLE, "__GFP_MOVABLE"),
    (.__GFP_RECLAIMABLE, "__GFP_RECLAIMABLE"),
    (.__GFP_HIGH, "__GFP_HIGH"),
    (.__GFP_IO, "__GFP_IO"),
    (.__GFP_FS, "__GFP_FS"),
    (.__GFP_ZERO, "__GFP_ZERO"),
    (.__GFP_DIRECT_RECLAIM, "__GFP_DIRECT_RECLAIM"),
    (.__GFP_KSWAPD_RECLAIM, "__GFP_KSWAPD_RECLAIM"),
    (.__GFP_WRITE, "__GFP_WRITE"),
    (.__GFP_NOWARN, "__GFP_NOWARN"),
    (.__GFP_RETRY_MAYFAIL, "__GFP_RETRY_MAYFAIL"),
    (.__GFP_NOFAIL, "__GFP_NOFAIL"),
    (.__GFP_NORETRY, "__GFP_NORETRY"),
    (.__GFP_MEMALLOC, "__GFP_MEMALLOC"),
    (.__GFP_COMP, "__GFP_COMP"),
    (.__GFP_NOMEMALLOC, "__GFP_NOMEMALLOC"),
    (.__GFP_HARDWALL, "__GFP_HARDWALL"),
    (.__GFP_THISNODE, "__GFP_THISNODE"),
    (.__GFP_ACCOUNT, "__GFP_ACCOUNT"),
    (.__GFP_ZEROTAGS, "__GFP_ZEROTAGS"),
  ]

  /// The mask as the kernel's `%pGg` prints it (`format_flags()` in `lib/vsprintf.c`).
  ///
  /// The table is walked in order; an entry whose bits are all still set is printed and its
  /// bits cleared, with `|` between names; bits no entry names are printed last as `0x...`.
  /// An empty mask prints as the empty string (there is no "none", which only the
  /// tracepoint macro prints).
  public var description: String {
    var flags = rawValue
    var out = ""
    for entry in GFP.nameTable where flags != 0 {
      let mask = entry.mask.rawValue
      guard flags & mask == mask else { continue }
      out += entry.name
      flags &= ~mask
      if flags != 0 { out += "|" }
    }
    if flags != 0 { out += "0x" + String(flags, radix: 16) }
    return out
  }

  /// The mask as `%#x` prints it in the kernel (`0xcc0`). For 0 the model prints `0x0`;
  /// whether the kernel's `number()` prefixes zero like that is UNVERIFIED (glibc prints `0`).
  public var hexString: String { "0x" + String(rawValue, radix: 16) }
}
