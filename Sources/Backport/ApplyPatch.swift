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
