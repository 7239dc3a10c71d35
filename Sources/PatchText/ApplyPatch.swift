/// Why a diff does not apply to a file version.
public struct ApplyError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The file the diff is for.
  public var path: String
  /// The hunk that failed, by its header.
  public var hunk: String
  /// The 1-based line in the target file where the mismatch is.
  public var line: Int
  /// What was expected and what was found.
  public var detail: String

  public var description: String { "\(path): hunk \(hunk) does not apply at line \(line): \(detail)" }
}

extension FileDiff {
  /// Applies the hunks to `text` exactly (no fuzz, no offset search), like
  /// `git apply` on the pre-image the `index` line names, and returns the result.
  ///
  /// - Throws: ``ApplyError`` naming the first context or removed line that does not match.
  public func apply(to text: String) throws -> String {
    var source = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let endsWithNewline = source.last == ""
    if endsWithNewline { source.removeLast() }
    if isNewFile { source = [] }
    var result: [String] = []
    var cursor = 0  // next unconsumed source line, 0-based
    for hunk in hunks {
      let header = "@@ -\(hunk.oldStart),\(hunk.oldCount) +\(hunk.newStart),\(hunk.newCount) @@"
      // oldStart is 1-based; a count of 0 means "after line oldStart".
      let start = hunk.oldCount == 0 ? hunk.oldStart : hunk.oldStart - 1
      guard start >= cursor, start <= source.count else {
        throw ApplyError(path: path, hunk: header, line: hunk.oldStart, detail: "hunks overlap or start past the end")
      }
      result += source[cursor..<start]
      cursor = start
      for line in hunk.lines {
        switch line.kind {
        case .context, .removed:
          guard cursor < source.count else {
            throw ApplyError(path: path, hunk: header, line: cursor + 1, detail: "the file ends")
          }
          guard source[cursor] == line.text else {
            throw ApplyError(
              path: path, hunk: header, line: cursor + 1,
              detail: "expected '\(line.text)', found '\(source[cursor])'")
          }
          if line.kind == .context { result.append(source[cursor]) }
          cursor += 1
        case .added:
          result.append(line.text)
        case .noNewlineMarker:
          break
        }
      }
    }
    result += source[cursor...]
    return result.joined(separator: "\n") + (result.isEmpty ? "" : "\n")
  }
}

/// How one hunk fits a file version other than its pre-image, the way `git apply --check`
/// and `patch --dry-run` would judge it (an offset search, no fuzz), plus the case those
/// tools call "reversed or previously applied".
public enum HunkFit: Hashable, Sendable {
  /// Its context and removed lines are in the file, `offset` lines from where the header
  /// says.
  case applies(offset: Int)
  /// Its context and added lines are there instead (compared with whitespace collapsed, so a
  /// condition wrapped differently still counts): the change is already in the file.
  case alreadyPresent
  /// Neither.
  case doesNotApply
}

extension Hunk {
  /// The header, `@@ -a,b +c,d @@`.
  public var header: String { "@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@" }

  /// Whether the hunk adds or removes anything.
  public var changes: Bool { lines.contains { $0.kind == .added || $0.kind == .removed } }

  /// How the hunk fits `text`: the nearest exact match of its old side, else whether its new
  /// side is already there.
  public func fit(in text: String) -> HunkFit {
    let target = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let old = lines.filter { $0.kind == .context || $0.kind == .removed }.map(\.text)
    let new = lines.filter { $0.kind == .context || $0.kind == .added }.map(\.text)
    let expected = max(oldStart - 1, 0)
    var best: Int?
    if !old.isEmpty && old.count <= target.count {
      for p in 0...(target.count - old.count) where target[p] == old[0] && Array(target[p..<(p + old.count)]) == old {
        if best.map({ abs(p - expected) < abs($0 - expected) }) ?? true { best = p }
      }
    }
    if let best { return .applies(offset: best - expected) }
    func collapse(_ lines: [String]) -> String {
      lines.map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }.filter { !$0.isEmpty }
        .joined(separator: " ")
    }
    let newText = collapse(new)
    // Padded, so that a match starts and ends at whole words.
    if !newText.isEmpty && " \(collapse(target)) ".contains(" \(newText) ") { return .alreadyPresent }
    return .doesNotApply
  }
}
