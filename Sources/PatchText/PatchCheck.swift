import Foundation

/// Where one hunk of a patch lands in a tree's file, judged the way a stable maintainer's
/// tools judge it: `git apply` (exact lines, an offset search, no fuzz), then what
/// `git apply --ignore-whitespace` and `patch --fuzz=2` would still take, then
/// "reversed (or previously applied)".
public enum HunkPlacement: Hashable, Sendable {
  /// Its context and removed lines are in the file exactly, `offset` lines from where the
  /// header says (`patch`: "Hunk #2 succeeded at 120 (offset 27 lines)"). `fuzz` context
  /// lines at each end had to be left out (0 for `git apply`).
  case applies(offset: Int, fuzz: Int)
  /// Only with whitespace ignored (`git apply --ignore-whitespace`), `offset` lines off.
  case appliesIgnoringWhitespace(offset: Int)
  /// Its post-image is there instead, at the 1-based `line`: the change is already applied.
  case alreadyApplied(line: Int)
  /// Neither. `line` is where the hunk's pre-image fits best (1-based), `mismatches` the
  /// hunk's lines that are not there, each with what the tree has in its place.
  case conflict(line: Int, mismatches: [Mismatch])

  /// A hunk line the tree does not have where the hunk expects it.
  public struct Mismatch: Hashable, Sendable {
    /// The hunk's line (context or removed), without its marker.
    public let expected: String
    /// The tree's line in its place (`nil` past the end of the file), and its 1-based number.
    public let found: String?
    public let line: Int
  }

  /// Whether `git apply` would take it as is.
  public var appliesCleanly: Bool { if case .applies(_, 0) = self { true } else { false } }
}

/// How a file's diff fits a tree's version of the file.
public struct FileCheck: Hashable, Sendable {
  public let path: String
  /// The tree's blob id of the file, `nil` when the tree lacks it.
  public let blob: String?
  /// Per hunk, in order; empty when the file is missing (and not created by the patch).
  public let hunks: [HunkPlacement]
  /// The file after the patch, when every hunk applies (with offset, fuzz or whitespace
  /// ignored) or is already applied: what a later patch of a series sees.
  public let result: String?
  /// Why the file could not be checked, if it could not (missing, unreadable).
  public let problem: String?
}

extension FileDiff {
  /// Places every hunk in `text` (the tree's file): each hunk is searched nearest to where
  /// the header says, shifted by the offset the hunk before it applied at, as `git apply`
  /// and `patch` do.
  public func check(against text: String?, blob: String?) -> FileCheck {
    guard let text else {
      if isNewFile {
        let added = hunks.flatMap { $0.lines.filter { $0.kind == .added }.map(\.text) }
        return FileCheck(
          path: path, blob: nil, hunks: hunks.map { _ in .applies(offset: 0, fuzz: 0) },
          result: added.joined(separator: "\n") + "\n", problem: nil)
      }
      return FileCheck(path: path, blob: nil, hunks: [], result: nil, problem: "the tree has no \(path)")
    }
    var tree = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let endsWithNewline = tree.last == ""
    if endsWithNewline { tree.removeLast() }
    if isNewFile {
      // A file the patch creates already exists: applied, or a conflict.
      let added = hunks.flatMap { $0.lines.filter { $0.kind == .added }.map(\.text) }
      let same = added == tree
      return FileCheck(
        path: path, blob: blob,
        hunks: hunks.map { _ in
          same ? .alreadyApplied(line: 1) : .conflict(line: 1, mismatches: [])
        }, result: same ? text : nil, problem: same ? nil : "the patch creates \(path), which the tree already has")
    }
    var placements: [HunkPlacement] = []
    // Replacements to make, by position in `tree`: (start, count of old lines, new lines).
    var edits: [(start: Int, count: Int, lines: [String])] = []
    var delta = 0
    var complete = true
    for hunk in hunks {
      let placement = hunk.place(in: tree, shift: delta)
      placements.append(placement)
      switch placement {
      case .applies(let offset, let fuzz):
        delta = offset
        let start = max(hunk.oldStart - 1, 0) + offset
        let old = hunk.lines.filter { $0.kind != .added && $0.kind != .noNewlineMarker }
        let new = hunk.lines.filter { $0.kind != .removed && $0.kind != .noNewlineMarker }
        let lead = min(fuzz, hunk.lines.prefix { $0.kind == .context }.count)
        let trail = min(fuzz, hunk.lines.reversed().prefix { $0.kind == .context }.count)
        edits.append(
          (start + lead, old.count - lead - trail, Array(new.dropFirst(lead).dropLast(trail).map(\.text))))
      case .appliesIgnoringWhitespace(let offset):
        delta = offset
        let start = max(hunk.oldStart - 1, 0) + offset
        let old = hunk.lines.filter { $0.kind != .added && $0.kind != .noNewlineMarker }
        let new = hunk.lines.filter { $0.kind != .removed && $0.kind != .noNewlineMarker }
        edits.append((start, old.count, new.map(\.text)))
      case .alreadyApplied:
        break
      case .conflict:
        complete = false
      }
    }
    var result: String?
    if complete {
      var out: [String] = []
      var cursor = 0
      for e in edits.sorted(by: { $0.start < $1.start }) where e.start >= cursor && e.start <= tree.count {
        out += tree[cursor..<e.start]
        out += e.lines
        cursor = min(e.start + e.count, tree.count)
      }
      out += tree[cursor...]
      result = out.joined(separator: "\n") + (out.isEmpty ? "" : "\n")
    }
    return FileCheck(path: path, blob: blob, hunks: placements, result: result, problem: nil)
  }
}

extension Hunk {
  /// Where this hunk lands in `tree` (the file's lines), searched nearest to its header's
  /// line moved by `shift` (the offset the previous hunk applied at).
  public func place(in tree: [String], shift: Int = 0) -> HunkPlacement {
    let old = lines.filter { $0.kind == .context || $0.kind == .removed }.map(\.text)
    let new = lines.filter { $0.kind == .context || $0.kind == .added }.map(\.text)
    let header = max(oldStart - 1, 0)
    let expected = header + shift
    if let p = Self.nearest(old, in: tree, to: expected, equal: ==) {
      return .applies(offset: p - header, fuzz: 0)
    }
    let changes = lines.contains { $0.kind == .removed || $0.kind == .added }
    if changes, lines.contains(where: { $0.kind == .added }) || old.count != new.count,
      let p = Self.nearest(new, in: tree, to: expected, equal: ==)
    {
      return .alreadyApplied(line: p + 1)
    }
    let squeeze = { (a: String, b: String) in
      a.split(whereSeparator: \.isWhitespace) == b.split(whereSeparator: \.isWhitespace)
    }
    if let p = Self.nearest(old, in: tree, to: expected, equal: squeeze) {
      return .appliesIgnoringWhitespace(offset: p - header)
    }
    if changes, let p = Self.nearest(new, in: tree, to: expected, equal: squeeze) {
      return .alreadyApplied(line: p + 1)
    }
    // patch(1)'s fuzz: leave out up to two context lines at each end.
    let leading = lines.prefix { $0.kind == .context }.count
    let trailing = lines.reversed().prefix { $0.kind == .context }.count
    for fuzz in 1...2 where leading >= 1 || trailing >= 1 {
      let lead = min(fuzz, leading)
      let trail = min(fuzz, trailing)
      guard old.count > lead + trail else { break }
      let core = Array(old[lead..<(old.count - trail)])
      if let p = Self.nearest(core, in: tree, to: expected + lead, equal: ==) {
        return .applies(offset: p - lead - header, fuzz: fuzz)
      }
    }
    return conflict(old: old, in: tree, expected: expected)
  }

  /// The hunk's context and removed lines that differ from `tree` when the hunk starts at
  /// the 0-based line `start`: what fuzz left out.
  public func mismatches(in tree: [String], at start: Int) -> [HunkPlacement.Mismatch] {
    let old = lines.filter { $0.kind == .context || $0.kind == .removed }.map(\.text)
    var out: [HunkPlacement.Mismatch] = []
    for (i, line) in old.enumerated() {
      let n = start + i
      let found = n >= 0 && n < tree.count ? tree[n] : nil
      if found != line { out.append(HunkPlacement.Mismatch(expected: line, found: found, line: n + 1)) }
    }
    return out
  }

  /// The conflict report: the alignment of the pre-image that matches most of its lines
  /// (nearest the expected line on a tie), and the lines that differ there.
  func conflict(old: [String], in tree: [String], expected: Int) -> HunkPlacement {
    func key(_ s: String) -> String { s.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
    var positions: [String: [Int]] = [:]
    for (n, line) in tree.enumerated() { positions[key(line), default: []].append(n) }
    var votes: [Int: Int] = [:]
    for (i, line) in old.enumerated() where !key(line).isEmpty {
      for p in positions[key(line)] ?? [] where abs(p - i - expected) <= 5_000 { votes[p - i, default: 0] += 1 }
    }
    let best =
      votes.max { a, b in
        a.value != b.value ? a.value < b.value : abs(a.key - expected) > abs(b.key - expected)
      }?.key ?? expected
    let start = min(max(best, 0), tree.count)
    var mismatches: [HunkPlacement.Mismatch] = []
    for (i, line) in old.enumerated() {
      let n = start + i
      let found = n < tree.count ? tree[n] : nil
      if found.map(key) != key(line) {
        mismatches.append(HunkPlacement.Mismatch(expected: line, found: found, line: n + 1))
      }
    }
    return .conflict(line: start + 1, mismatches: mismatches)
  }

  /// The start of `image` in `tree` nearest to `expected`, comparing lines with `equal`.
  static func nearest(
    _ image: [String], in tree: [String], to expected: Int, equal: (String, String) -> Bool
  ) -> Int? {
    guard !image.isEmpty, image.count <= tree.count else {
      return image.isEmpty ? max(0, min(expected, tree.count)) : nil
    }
    let last = tree.count - image.count
    let center = min(max(expected, 0), last)
    func matches(_ p: Int) -> Bool {
      for i in 0..<image.count where !equal(tree[p + i], image[i]) { return false }
      return true
    }
    var d = 0
    while center - d >= 0 || center + d <= last {
      if center - d >= 0 && matches(center - d) { return center - d }
      if d > 0 && center + d <= last && matches(center + d) { return center + d }
      d += 1
    }
    return nil
  }
}
