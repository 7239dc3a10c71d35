import Foundation
import PatchText

/// One line of `git patch-id` output: a patch's id and the commit it was found under.
///
/// Computed as git's builtin/patch-id.c does (gitgitgadget/git @1edf3276, which git 2.39.5
/// agrees with except on malformed `@@` counts, see `scanHunkHeader`), reading its input
/// byte for byte: the same patch, whatever its line numbers, `index` blob ids, whitespace or
/// (with `--stable`) file order, gets the same id, so a backport can be matched to its
/// upstream commit. b4 uses `git patch-id --stable` on a mail's diff.
public struct PatchID: Hashable, Sendable, CustomStringConvertible {
  /// The patch id: 40 lowercase hex digits.
  public let id: String
  /// The commit the patch came under (the last `From <id>`, `commit <id>` or bare `<id>`
  /// line before it, message bodies included), 40 lowercase hex digits; 40 zeros when none.
  public let commit: String
  /// `<id> <commit>`, as `git patch-id` prints it (without the newline).
  public var description: String { "\(id) \(commit)" }

  /// Every patch in `text` (a patch file, a mail body, an mbox's worth of concatenated
  /// patches), as `git patch-id` prints them: `generate_id_list`, one `get_one_patchid` call
  /// per patch, a patch printed only if it hashed something (`flush_current_id`).
  ///
  /// - Parameters:
  ///   - stable: `--stable`: each file is hashed on its own and the digests are added
  ///     (`flush_one_hunk`), so file order does not matter. `false` is `--unstable`, git's
  ///     default: one SHA-1 over the whole patch.
  ///   - verbatim: `--verbatim`: whitespace is hashed too, and so are `\ No newline…` lines.
  ///     git's command line makes `--verbatim` imply `--stable`; here the two are separate,
  ///     so git's `--verbatim` is `stable: true, verbatim: true`.
  /// - Returns: nothing for text without a `diff ` line (a quilt patch without
  ///   `diff --git`, a plain mail).
  public static func compute(_ text: String, stable: Bool = true, verbatim: Bool = false) -> [PatchID] {
    var reader = LineReader(Array(text.utf8))
    var found: [PatchID] = []
    var commit = zeroID
    var blobIDs = BlobIDs()
    // generate_id_list: `while (!feof(stdin))`; a call that reads nothing hashes nothing.
    while !reader.atEnd {
      let patch = getOnePatchID(&reader, &blobIDs, stable: stable, verbatim: verbatim)
      if patch.length > 0 {
        found.append(PatchID(id: hex(patch.result), commit: hex(commit)))
      }
      commit = patch.next ?? zeroID
    }
    return found
  }

  /// The all-zero object id (`oidclr`).
  private static let zeroID = [UInt8](repeating: 0, count: 20)

  /// `get_one_patchid`'s `pre_oid_str` and `post_oid_str`: the blob ids of the last `index`
  /// line, which a binary diff hashes. git leaves them uninitialised until an `index` line is
  /// read; in practice (git 2.39.5, x86-64 Linux) they start empty and keep the previous
  /// patch's ids, its stack frame being reused, so a binary diff without an `index` line
  /// hashes those. This does the same.
  private struct BlobIDs {
    var pre: [UInt8] = []
    var post: [UInt8] = []
  }

  /// What `get_one_patchid` returns: the bytes hashed (`patchlen`; 0 means nothing is
  /// printed), the id, and the commit id of the new-patch line that ended it, if one did.
  private struct OnePatch {
    var length: Int
    var result: [UInt8]
    var next: [UInt8]?
  }

  /// git's `get_one_patchid`: reads lines until a new-patch line (its commit id is returned
  /// as `next`) or the end of the text, and hashes the patch in between.
  ///
  /// The state is git's: `before`/`after` are the lines still expected in the current hunk,
  /// -1/-1 while in a file header, 0/0 between hunks. They are C `int`s that wrong counts can
  /// drive negative (`@@ -1,0 +1,2 @@` then a context line puts `before` back at -1, in the
  /// header state again); decrements wrap as C's do on every machine git runs on, so no
  /// count can trap here.
  private static func getOnePatchID(
    _ reader: inout LineReader, _ blobIDs: inout BlobIDs, stable: Bool, verbatim: Bool
  ) -> OnePatch {
    var patchLength = 0
    var before: Int32 = -1
    var after: Int32 = -1
    var diffIsBinary = false
    var hunk = HunkHash()
    var next: [UInt8]?

    while let line = reader.nextLine() {
      // Possibly skip over the prefix added by "log" or "format-patch".
      var p = 0
      if line.hasPrefix("commit ") {
        p = 7
      } else if line.hasPrefix("From ") {
        p = 5
      } else if line.hasPrefix("\\ ") && line.count > 12 {
        // `\ No newline at end of file` (the length counts the newline).
        if verbatim { hunk.update(line.bytes) }
        continue
      }
      if let id = line.objectID(at: p) {
        next = id
        break
      }

      // Ignore commit comments.
      if patchLength == 0 && !line.hasPrefix("diff ") { continue }

      // Parsing diff header?
      if before == -1 {
        if line.hasPrefix("GIT binary patch") || line.hasPrefix("Binary files") {
          // The blob ids stand for the file's content. In --stable mode the file is
          // flushed here, so a patch that ends in a binary file adds, at its last flush,
          // the SHA-1 of nothing (as git's does).
          diffIsBinary = true
          before = 0
          hunk.update(blobIDs.pre)
          hunk.update(blobIDs.post)
          if stable { hunk.flush() }
          continue
        } else if line.hasPrefix("index ") {
          if let ids = line.indexBlobIDs() { (blobIDs.pre, blobIDs.post) = ids }
          continue
        } else if line.hasPrefix("--- ") {
          before = 1
          after = 1
        } else if !isAlpha(line[0]) {
          break
        }
      }

      if diffIsBinary {
        // The next file's `diff ` line is read here, not hashed, as in git.
        if line.hasPrefix("diff ") {
          diffIsBinary = false
          before = -1
        }
        continue
      }

      // Looking for a valid hunk header?
      if before == 0 && after == 0 {
        if line.hasPrefix("@@ -") {
          // Parse next hunk, but ignore line numbers.
          scanHunkHeader(line, before: &before, after: &after)
          continue
        }
        // Split at the end of the patch.
        if !line.hasPrefix("diff ") { break }
        // Else we're parsing another header.
        if stable { hunk.flush() }
        before = -1
        after = -1
      }

      // If we get here, we're inside a hunk.
      if line[0] == UInt8(ascii: "-") || line[0] == UInt8(ascii: " ") { before &-= 1 }
      if line[0] == UInt8(ascii: "+") || line[0] == UInt8(ascii: " ") { after &-= 1 }

      // Add line to hash algo (possibly removing whitespace).
      let hashed = verbatim ? Array(line.bytes) : removeSpace(line.bytes)
      patchLength += hashed.count
      hunk.update(hashed)
    }

    hunk.flush()
    return OnePatch(length: patchLength, result: hunk.result, next: next)
  }

  /// git's `scan_hunk_header` on `@@ -a,b +c,d @@`: sets `before` to `b` and `after` to `d`
  /// (1 when the `,count` is absent); line numbers and function context are ignored.
  ///
  /// Like git it sets what it has read before giving up on a malformed header, and git
  /// ignores its result: `@@ -x +1 @@` sets only `before` (to 1). A count is read as
  /// git-new's `strtoi_with_tail` reads it (`strtol`: leading whitespace and a sign are
  /// taken, and a value outside `int` stops the scan with the counts as they were). Older
  /// git (2.39.5 here) read counts with `atoi` after checking only for digits, and so gives
  /// other ids for `@@ -1, 1 +1,1 @@`, `@@ -1,+1 +1,1 @@` or a count beyond `int`
  /// (`@@ -1,4294967297 +1,1 @@`); on well-formed headers the two agree.
  private static func scanHunkHeader(_ line: CLine, before: inout Int32, after: inout Int32) {
    var q = 4
    var n = line.digitSpan(at: q)
    if line[q + n] == UInt8(ascii: ",") {
      q += n + 1
      guard let count = line.strtoi(at: q) else { return }
      before = count.value
      n = count.end - q
    } else {
      before = 1
    }
    if n == 0 || line[q + n] != UInt8(ascii: " ") || line[q + n + 1] != UInt8(ascii: "+") { return }

    var r = q + n + 2
    n = line.digitSpan(at: r)
    if line[r + n] == UInt8(ascii: ",") {
      r += n + 1
      guard let count = line.strtoi(at: r) else { return }
      after = count.value
    } else {
      after = 1
    }
  }

  /// git's `remove_space`: the line without the bytes git's `isspace` matches (git's own
  /// ctype table: space, tab, LF and CR; not `\v` or `\f`, which C's `isspace` would match).
  private static func removeSpace(_ line: ArraySlice<UInt8>) -> [UInt8] {
    line.filter { !isSpace($0) }
  }

  /// git's `isspace` (`sane_ctype`, GIT_SPACE): space, `\t`, `\n`, `\r`.
  private static func isSpace(_ c: UInt8) -> Bool {
    c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D
  }

  /// git's `isalpha` (`sane_ctype`, GIT_ALPHA): ASCII letters only.
  private static func isAlpha(_ c: UInt8) -> Bool {
    (c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z")
  }

  /// `oid_to_hex`: lowercase hex, first byte first.
  private static func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
      out.append(digits[Int(b >> 4)])
      out.append(digits[Int(b & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
  }
}

/// The SHA-1 context of `get_one_patchid` and the 20-byte sum it is flushed into.
///
/// The bytes fed since the last flush are kept and digested at the flush, which is the same
/// SHA-1 as git's incremental one.
private struct HunkHash {
  /// `ctx`: the bytes hashed since the last flush.
  var pending: [UInt8] = []
  /// `result`: the sum of the flushed digests.
  var result = [UInt8](repeating: 0, count: 20)

  /// `the_hash_algo->update_fn`.
  mutating func update<S: Sequence<UInt8>>(_ bytes: S) {
    pending.append(contentsOf: bytes)
  }

  /// git's `flush_one_hunk` (diff.c): finishes the SHA-1 of the pending bytes, starts a new
  /// one, and adds the digest to `result` as a 160-bit little-endian number (byte 0 lowest),
  /// the last carry dropped. In `--unstable` mode it runs once, on a zero sum, so the sum is
  /// the digest; in `--stable` mode the order of the files does not matter.
  mutating func flush() {
    let digest = GitBlob.sha1Digest(pending)
    pending.removeAll(keepingCapacity: true)
    var carry: UInt16 = 0
    for i in 0..<20 {
      carry += UInt16(result[i]) + UInt16(digest[i])
      result[i] = UInt8(truncatingIfNeeded: carry)
      carry >>= 8
    }
  }
}

/// A line as git's C code sees it: the bytes up to and including the `\n` (none on a last
/// line without one), cut at the first NUL, since every C string function stops there.
/// Reading past the end gives 0, the terminator.
private struct CLine {
  /// The line's bytes.
  let bytes: ArraySlice<UInt8>

  /// `strlen(line)`.
  var count: Int { bytes.count }

  /// The byte at `offset`, or 0 (the NUL terminator) past the end.
  subscript(offset: Int) -> UInt8 {
    offset >= 0 && offset < bytes.count ? bytes[bytes.startIndex + offset] : 0
  }

  /// `starts_with`.
  func hasPrefix(_ prefix: String) -> Bool {
    bytes.starts(with: prefix.utf8)
  }

  /// `get_oid_hex(line + offset)`: the object id spelled by the 40 hex digits (either case)
  /// at `offset`, whatever follows them.
  func objectID(at offset: Int) -> [UInt8]? {
    var id: [UInt8] = []
    id.reserveCapacity(20)
    for i in stride(from: offset, to: offset + 40, by: 2) {
      guard let high = Self.hexValue(self[i]), let low = Self.hexValue(self[i + 1]) else { return nil }
      id.append(high << 4 | low)
    }
    return id
  }

  /// The blob ids of an `index <pre>..<post>[ <mode>]` line, as `get_one_patchid` cuts them:
  /// `<pre>` from after `index ` to the first `..` of the line, `<post>` from after it to the
  /// next space, or else to the line's last byte (its newline; on a last line without one
  /// the final character is lost, as in git), each kept to `GIT_MAX_HEXSZ` (64) bytes. No
  /// `..`: nothing (git keeps the previous ids).
  func indexBlobIDs() -> (pre: [UInt8], post: [UInt8])? {
    let b = Array(bytes)
    guard
      let dots = (0..<max(b.count - 1, 0)).first(where: { b[$0] == UInt8(ascii: ".") && b[$0 + 1] == UInt8(ascii: ".") }
      )
    else { return nil }
    let end = (dots..<b.count).first { b[$0] == UInt8(ascii: " ") } ?? (b.count - 1)
    let pre = b[min(6, dots)..<dots]
    let post = dots + 2 < end ? b[(dots + 2)..<end] : []
    return (Array(pre.prefix(64)), Array(post.prefix(64)))
  }

  /// `strspn(line + offset, "0123456789")`.
  func digitSpan(at offset: Int) -> Int {
    var n = 0
    while Self.isDigit(self[offset + n]) { n += 1 }
    return n
  }

  /// `strtoi_with_tail(line + offset, 10, &value, &end)` as git uses it: `strtol` (leading
  /// C-locale whitespace, an optional sign, decimal digits), failing when there are no
  /// digits or the value is outside `int`; on success the value and the offset after the
  /// digits.
  func strtoi(at offset: Int) -> (value: Int32, end: Int)? {
    var i = offset
    while self[i] == 0x20 || (0x09...0x0D).contains(self[i]) { i += 1 }
    var negative = false
    if self[i] == UInt8(ascii: "+") || self[i] == UInt8(ascii: "-") {
      negative = self[i] == UInt8(ascii: "-")
      i += 1
    }
    let digits = i
    var magnitude: Int64 = 0
    while Self.isDigit(self[i]) {
      // Past 2^31 the value is out of range whatever follows; stop growing it.
      if magnitude <= Int64(Int32.max) + 1 { magnitude = magnitude * 10 + Int64(self[i] - UInt8(ascii: "0")) }
      i += 1
    }
    guard i > digits else { return nil }
    let value = negative ? -magnitude : magnitude
    guard let int = Int32(exactly: value) else { return nil }
    return (int, i)
  }

  private static func isDigit(_ c: UInt8) -> Bool {
    c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")
  }

  /// `hexval`: a hex digit's value, either case.
  private static func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
    default: nil
    }
  }
}

/// `strbuf_getwholeline(…, '\n')` over the text: each line with its newline.
private struct LineReader {
  /// The whole text.
  let text: [UInt8]
  /// Where the next line starts.
  var position = 0

  init(_ text: [UInt8]) { self.text = text }

  /// Whether every line has been read (`feof`).
  var atEnd: Bool { position >= text.count }

  /// The next line, as C sees it, or nil at the end.
  mutating func nextLine() -> CLine? {
    guard position < text.count else { return nil }
    let start = position
    var end = start
    var nul: Int?
    while end < text.count {
      let c = text[end]
      end += 1
      if c == 0 && nul == nil { nul = end - 1 }
      if c == 0x0A { break }
    }
    position = end
    return CLine(bytes: text[start..<(nul ?? end)])
  }
}
