import Foundation
import PackageTestSupport
import Testing

@testable import PatchText

/// Where a hunk lands in a tree's file, on inputs that differ from the pre-image in exactly
/// one respect: the lines above the hunk (an offset, either way), whitespace inside the hunk's
/// lines (never ignored by the exact checks), or both. The hunk is panfrost's madvise fix
/// (9fc33eaaa979), the file 5.19's `panfrost_drv.c` (blob 087e69b98d06, its `index` pre-image).
@Suite("Hunk placement: offsets and whitespace")
struct HunkPlacementTests {
  static func inputs() throws -> (FileDiff, [String]) {
    let patch = try PatchFile(contentsOf: patchesDirectory + "/madvise-list-move.patch")
    let diff = try #require(patch.files.first)
    let text = try requireKernelFile("panfrost_drv.c", "087e69b98d06")
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    lines.removeLast()
    return (diff, lines)
  }

  static func text(_ lines: [String]) -> String { lines.joined(separator: "\n") + "\n" }

  /// `n` comment lines put in after the first line (`n` > 0), or the first `-n` lines after
  /// it taken out: the hunk's own lines are untouched.
  static func shifted(_ lines: [String], by n: Int) -> [String] {
    if n >= 0 { return [lines[0]] + (0..<n).map { "/* line \($0) */" } + lines.dropFirst() }
    return [lines[0]] + lines.dropFirst(1 - n)
  }

  /// The tree's line that the hunk's first removed line stands for, re-indented with spaces
  /// (`tab` false) or given a trailing blank (`tab` true): whitespace only.
  static func rewhitespaced(_ lines: [String], diff: FileDiff, trailing: Bool) throws -> [String] {
    let removed = try #require(diff.hunks[0].lines.first { $0.kind == .removed }).text
    let at = try #require(lines.firstIndex(of: removed))
    var out = lines
    out[at] = trailing ? removed + " " : removed.replacingOccurrences(of: "\t", with: "        ")
    return out
  }

  @Test("the offset is what the lines above the hunk moved it by", arguments: [0, 27, -5])
  func offset(_ n: Int) throws {
    let (diff, lines) = try Self.inputs()
    let tree = Self.shifted(lines, by: n)
    #expect(diff.hunks[0].place(in: tree) == .applies(offset: n, fuzz: 0))
    #expect(diff.hunks[0].fit(in: Self.text(tree)) == .applies(offset: n))
    // The result is the patched pre-image, moved the same way.
    let patched = try diff.apply(to: Self.text(lines))
    var expected = patched.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    expected.removeLast()
    let check = diff.check(against: Self.text(tree), blob: nil)
    #expect(check.result == Self.text(Self.shifted(expected, by: n)))
  }

  /// Whitespace-only differences are not ignored: exact application refuses them, and the
  /// placement says "only with whitespace ignored", with the offset kept.
  @Test(
    "a whitespace-only difference is not an exact match",
    arguments: [(false, 0), (true, 0), (false, 27), (true, -5)])
  func whitespace(_ trailing: Bool, _ n: Int) throws {
    let (diff, lines) = try Self.inputs()
    let tree = Self.shifted(try Self.rewhitespaced(lines, diff: diff, trailing: trailing), by: n)
    #expect(diff.hunks[0].place(in: tree) == .appliesIgnoringWhitespace(offset: n))
    #expect(diff.hunks[0].fit(in: Self.text(tree)) == .doesNotApply)
    if n == 0 {
      #expect(throws: ApplyError.self) { try diff.apply(to: Self.text(tree)) }
    }
    let check = diff.check(against: Self.text(tree), blob: nil)
    #expect(check.hunks == [.appliesIgnoringWhitespace(offset: n)])
    #expect(check.result?.contains("\t\t\tlist_move_tail(&bo->base.madv_list,") == true)
  }

  /// A later hunk is searched from where the one before it landed, as `git apply` and
  /// `patch` do: with a copy of the second hunk's lines just below its header's line, after a
  /// first hunk that moved by 27 the real place (30 on) is nearer the carried offset than the
  /// copy, which a search from the header alone would take.
  @Test("a later hunk is searched from the offset the one before it applied at")
  func carriedOffset() throws {
    let body = (0..<60).map { "int f\($0);" }
    func hunk(at line: Int) -> Hunk {
      Hunk(
        oldStart: line - 1, oldCount: 3, newStart: line - 1, newCount: 3, section: "",
        lines: [
          HunkLine(kind: .context, text: body[line - 2]), HunkLine(kind: .removed, text: body[line - 1]),
          HunkLine(kind: .added, text: "long f\(line - 1);"), HunkLine(kind: .context, text: body[line]),
        ], headerLine: 0)
    }
    let first = hunk(at: 6)  // f4, f5, f6 at line 5
    let second = hunk(at: 41)  // f39, f40, f41 at line 40
    var tree = (0..<27).map { "/* moved \($0) */" } + body
    tree.insert(contentsOf: ["int f39;", "int f40;", "int f41;"], at: 40)
    let diff = FileDiff(oldPath: "x.c", newPath: "x.c", oldBlob: "", newBlob: "", hunks: [first, second])
    let check = diff.check(against: Self.text(tree), blob: nil)
    #expect(check.hunks == [.applies(offset: 27, fuzz: 0), .applies(offset: 30, fuzz: 0)])
    #expect(second.place(in: tree) == .applies(offset: 1, fuzz: 0))
    // The copy is left alone; the real lines are changed.
    let result = try #require(check.result).split(separator: "\n").map(String.init)
    #expect(Array(result[40..<43]) == ["int f39;", "int f40;", "int f41;"])
    #expect(result[70] == "long f40;" && result[32] == "long f5;")
  }
}
