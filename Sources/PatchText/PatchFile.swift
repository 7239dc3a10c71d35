import Foundation

/// A patch in `git format-patch` form, parsed.
///
/// Holds what a backport reviewer reads off a patch: who and when, the subject, the commit
/// message with its trailers (`Fixes:`, `Cc:`, `Link:`, ...), the upstream commit where the
/// patch states one, and per file the old and new paths, the `index` blob ids and the hunks
/// with their `@@` ranges and function context.
public struct PatchFile: Hashable, Sendable {
  /// Where the patch was read from, for messages.
  public var path: String
  /// The commit on the `From <sha> Mon Sep 17 00:00:00 2001` line; `nil` for the all-zero id
  /// `git format-patch` uses for patches that are not commits.
  public var commit: String?
  /// The `From:` header, decoded.
  public var author: Person
  /// The `Date:` header as written.
  public var date: String
  /// The subject without its `[PATCH ...]` prefix, unfolded and decoded.
  public var subject: String
  /// The bracketed prefix, e.g. `PATCH` or `PATCH v14 2/8`.
  public var subjectPrefix: String
  /// The commit message without the trailer block.
  public var body: String
  /// The trailers of the last paragraph, in order.
  public var trailers: [Trailer]
  /// Text between `---` and the diffstat, which `git am` ignores (reviewer notes).
  public var notes: String
  /// The per-file diffs.
  public var files: [FileDiff]
  /// The git version in the `-- ` signature.
  public var gitVersion: String?

  /// The file name without `.patch`: the patch's slug in this package.
  public var slug: String {
    let name = (path as NSString).lastPathComponent
    return name.hasSuffix(".patch") ? String(name.dropLast(6)) : name
  }

  /// The upstream commit: a stable-style `[ Upstream commit X ]` or `commit X upstream` line
  /// in the body (in a stable backport the `From` line holds the stable commit), else the
  /// `From` line's id, else an `Upstream: X` note below `---`.
  public var upstreamCommit: String? {
    if let m = body.firstMatch(of: #/\[ ?[Uu]pstream commit ([0-9a-f]{12,40}) ?\]/#) {
      return String(m.1)
    }
    if let m = body.firstMatch(of: #/(?m)^commit ([0-9a-f]{12,40}) upstream\.?$/#) {
      return String(m.1)
    }
    // `git cherry-pick -x` (a trailer-like line `git interpret-trailers` does not list).
    if let m = (body + "\n" + trailers.map { "\($0.key): \($0.value)" }.joined(separator: "\n")).firstMatch(
      of: #/\(cherry picked from commit ([0-9a-f]{40})\)/#)
    {
      return String(m.1)
    }
    if let commit { return commit }
    if let m = notes.firstMatch(of: #/(?m)^Upstream: ([0-9a-f]{12,40})/#) { return String(m.1) }
    return nil
  }

  /// The values of every trailer with `key` (case-insensitive), in order.
  public func trailers(_ key: String) -> [String] {
    trailers.filter { $0.key.caseInsensitiveCompare(key) == .orderedSame }.map(\.value)
  }

  /// Lines added over all files.
  public var insertions: Int { files.reduce(0) { $0 + $1.insertions } }
  /// Lines removed over all files.
  public var deletions: Int { files.reduce(0) { $0 + $1.deletions } }
}

/// A name and mail address.
public struct Person: Hashable, Sendable, CustomStringConvertible {
  public var name: String
  public var email: String
  public var description: String { email.isEmpty ? name : "\(name) <\(email)>" }
}

/// One `Key: value` trailer line.
public struct Trailer: Hashable, Sendable {
  public var key: String
  public var value: String
}

/// The diff of one file.
public struct FileDiff: Hashable, Sendable {
  /// The old path, `nil` for a new file (`--- /dev/null`).
  public var oldPath: String?
  /// The new path, `nil` for a deleted file.
  public var newPath: String?
  /// The pre-image blob id from the `index` line (`000000000000` for a new file; empty for a
  /// pure rename, which has no `index` line).
  public var oldBlob: String
  /// The post-image blob id.
  public var newBlob: String
  /// The hunks in order.
  public var hunks: [Hunk]

  /// The path this diff is about (new path, or old path of a deleted file).
  public var path: String { newPath ?? oldPath ?? "" }
  /// Whether the patch creates the file.
  public var isNewFile: Bool { oldPath == nil }
  /// Lines added.
  public var insertions: Int { count(.added) }
  /// Lines removed.
  public var deletions: Int { count(.removed) }

  /// Lines of `kind`, counted without building a list of them.
  func count(_ kind: HunkLine.Kind) -> Int {
    var n = 0
    for hunk in hunks { for line in hunk.lines where line.kind == kind { n += 1 } }
    return n
  }
}

/// One `@@ -a,b +c,d @@ context` hunk.
public struct Hunk: Hashable, Sendable {
  public var oldStart: Int
  public var oldCount: Int
  public var newStart: Int
  public var newCount: Int
  /// The function context after the second `@@` (`static int ttm_pool_restore_commit(...`).
  public var section: String
  /// The hunk's lines.
  public var lines: [HunkLine]
  /// The 1-based line of the `@@` header in the patch file.
  public var headerLine: Int
}

/// A line of a hunk.
public struct HunkLine: Hashable, Sendable {
  public enum Kind: Hashable, Sendable { case context, added, removed, noNewlineMarker }
  public var kind: Kind
  /// The text, as a slice of the patch text it was parsed from: a patch's lines share the one
  /// copy of its text instead of each holding its own.
  private var slice: Substring

  /// The text without the leading marker.
  public var text: String {
    get { String(slice) }
    set { slice = Substring(newValue) }
  }

  public init(kind: Kind, text: String) {
    self.kind = kind
    self.slice = Substring(text)
  }

  init(kind: Kind, slice: Substring) {
    self.kind = kind
    self.slice = slice
  }
}

/// Why a patch file could not be parsed: the file, the 1-based line (0 when the problem is
/// the file as a whole) and the problem.
public struct PatchParseError: Error, Hashable, Sendable, CustomStringConvertible {
  public var path: String
  public var line: Int
  public var message: String
  public var description: String { line > 0 ? "\(path):\(line): \(message)" : "\(path): \(message)" }
}

/// The limits every patch read from input is held to, so that no input can trap, hang or
/// exhaust memory: a larger input is refused with one line before it is parsed. They are far
/// above any real kernel patch (the largest, generated register headers, run to a few MB and
/// a few thousand hunks).
public enum PatchLimits {
  /// The largest patch file, in bytes: 32 MiB.
  public static let maxBytes = 32 << 20
  /// The most hunks in one patch.
  public static let maxHunks = 20_000
  /// The longest line, in bytes: 64 KiB.
  public static let maxLineBytes = 64 << 10
  /// The largest line number or line count a hunk header may give.
  public static let maxLineNumber = 100_000_000
}

extension PatchFile {
  /// Reads and parses the patch at `path`, refusing a file over ``PatchLimits/maxBytes``
  /// before reading it.
  public init(contentsOf path: String) throws {
    let text = try PatchFile.readText(path)
    try self.init(parsing: text, path: path)
  }

  /// The text of the file at `path`: one clear error for a file that is missing, not a
  /// regular file, larger than ``PatchLimits/maxBytes``, or not UTF-8.
  public static func readText(_ path: String, limit: Int = PatchLimits.maxBytes) throws -> String {
    func fail(_ message: String) -> PatchParseError { PatchParseError(path: path, line: 0, message: message) }
    let attributes = try? FileManager.default.attributesOfItem(atPath: path)
    guard let attributes else { throw fail("cannot read the file") }
    if let type = attributes[.type] as? FileAttributeType, type == .typeDirectory {
      throw fail("is a directory, not a patch file")
    }
    if let size = attributes[.size] as? NSNumber, size.intValue > limit {
      throw fail("\(size.intValue) bytes: larger than the \(limit >> 20) MiB a patch may be")
    }
    guard let handle = FileHandle(forReadingAtPath: path) else { throw fail("cannot read the file") }
    defer { try? handle.close() }
    // Read at most one byte past the limit: a file that grew, or a pipe, is refused too.
    let data = (try? handle.read(upToCount: limit + 1)) ?? Data()
    guard data.count <= limit else { throw fail("larger than the \(limit >> 20) MiB a patch may be") }
    guard let text = String(data: data, encoding: .utf8) else { throw fail("not UTF-8 text") }
    return text
  }

  /// Parses `text`; `path` names it in errors.
  ///
  /// - Parameter leniency: ``PatchLeniency/strict`` for the package's own patch files (the
  ///   diffstat must match the hunks, nothing may follow the signature);
  ///   ``PatchLeniency/mail`` for a patch taken out of a mail, read as `git am` reads it:
  ///   text after the last hunk is ignored (a list footer, a reply's quote) and a stale
  ///   diffstat is not an error, since `git apply` ignores both.
  public init(parsing text: String, path: String, leniency: PatchLeniency = .strict) throws {
    guard text.utf8.count <= PatchLimits.maxBytes else {
      throw PatchParseError(
        path: path, line: 0, message: "larger than the \(PatchLimits.maxBytes >> 20) MiB a patch may be")
    }
    var p = try PatchParser(text: text, path: path)
    p.leniency = leniency
    self = try p.parse()
  }
}

/// How strictly a patch text is read.
public enum PatchLeniency: Sendable {
  /// The package's own files: every line accounted for, the diffstat checked.
  case strict
  /// A patch out of a mail, as `git am` takes it: what follows the last hunk and the diffstat
  /// are not checked.
  case mail
}

/// The parser's state: the lines and the current position.
private struct PatchParser {
  let lines: [Substring]
  let path: String
  var leniency = PatchLeniency.strict
  var i = 0
  /// Hunks parsed so far, over all files.
  var hunkCount = 0

  init(text: String, path: String) throws {
    // Split at every LF byte, each line a slice of `text` (no copy), with the array sized once:
    // a large patch costs its text, one slice per line and one entry per hunk line.
    let bytes = text.utf8
    var count = 1
    for b in bytes where b == 0x0A { count += 1 }
    var lines: [Substring] = []
    lines.reserveCapacity(count)
    var start = bytes.startIndex
    var index = start
    while index != bytes.endIndex {
      if bytes[index] == 0x0A {
        lines.append(Substring(bytes[start..<index]))
        start = bytes.index(after: index)
      }
      index = bytes.index(after: index)
    }
    lines.append(Substring(bytes[start..<bytes.endIndex]))
    if lines.last == "" { lines.removeLast() }
    for (n, line) in lines.enumerated() {
      if line.utf8.count > PatchLimits.maxLineBytes {
        throw PatchParseError(
          path: path, line: n + 1,
          message:
            "a line of \(line.utf8.count) bytes: longer than the \(PatchLimits.maxLineBytes >> 10) KiB a patch line may be"
        )
      }
      if line.utf8.contains(0) {
        throw PatchParseError(path: path, line: n + 1, message: "a NUL byte: binary data, not a text patch")
      }
    }
    self.lines = lines
    self.path = path
  }

  func error(_ message: String, at line: Int? = nil) -> PatchParseError {
    PatchParseError(path: path, line: (line ?? i) + 1, message: message)
  }

  var atEnd: Bool { i >= lines.count }
  var current: Substring { lines[i] }

  mutating func parse() throws -> PatchFile {
    // From <sha> Mon Sep 17 00:00:00 2001
    guard !atEnd, let from = current.wholeMatch(of: #/From ([0-9a-f]{40}) Mon Sep 17 00:00:00 2001/#)
    else {
      throw error("expected 'From <40-hex commit> Mon Sep 17 00:00:00 2001' as the first line")
    }
    let commit = from.1.allSatisfy { $0 == "0" } ? nil : String(from.1)
    i += 1

    let headers = try parseHeaders()
    guard let fromHeader = headers["from"] else { throw error("missing 'From:' header", at: 1) }
    guard let date = headers["date"] else { throw error("missing 'Date:' header", at: 1) }
    guard let rawSubject = headers["subject"] else { throw error("missing 'Subject:' header", at: 1) }
    let author = parsePerson(decodeEncodedWords(fromHeader))
    let subjectLine = decodeEncodedWords(rawSubject)
    var subject = subjectLine
    var prefix = ""
    if let m = subjectLine.wholeMatch(of: #/\[([^\]]*)\] (.*)/#) {
      prefix = String(m.1)
      subject = String(m.2)
    }

    // The commit message runs to the "---" line.
    let messageStart = i
    while !atEnd && current != "---" { i += 1 }
    guard !atEnd else { throw error("no '---' line after the commit message", at: messageStart) }
    let (body, trailers) = splitTrailers(Array(lines[messageStart..<i]))
    i += 1

    // Notes, then the diffstat, up to the first "diff --git".
    let afterSeparator = i
    while !atEnd && !current.hasPrefix("diff --git ") { i += 1 }
    guard !atEnd else { throw error("no 'diff --git' section", at: afterSeparator) }
    let between = Array(lines[afterSeparator..<i])
    let statStart =
      between.firstIndex { $0.wholeMatch(of: #/ .* \| +(\d+ [+-]*|Bin.*)/#) != nil } ?? between.count
    let notes = between[..<statStart].joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    let statLines = between[statStart...]

    var files: [FileDiff] = []
    while !atEnd && current.hasPrefix("diff --git ") {
      files.append(try parseFileDiff())
    }

    // The "-- " signature and the git version.
    var gitVersion: String?
    if !atEnd {
      if current == "-- " {
        i += 1
        if !atEnd { gitVersion = String(current) }
      } else if leniency == .strict {
        throw error("unexpected line after the last hunk: '\(current.prefix(60))'")
      }
    }

    let patch = PatchFile(
      path: path, commit: commit, author: author, date: date, subject: subject,
      subjectPrefix: prefix, body: body, trailers: trailers, notes: notes, files: files,
      gitVersion: gitVersion)
    if leniency == .strict { try checkDiffstat(statLines, against: patch, at: afterSeparator + statStart) }
    return patch
  }

  /// Headers up to the blank line, unfolding continuation lines; keys lowercased.
  mutating func parseHeaders() throws -> [String: String] {
    var headers: [String: String] = [:]
    var lastKey: String?
    while !atEnd && current != "" {
      let line = current
      if line.first == " " || line.first == "\t", let key = lastKey {
        headers[key, default: ""] += " " + line.trimmingCharacters(in: .whitespaces)
      } else if let colon = line.firstIndex(of: ":") {
        let key = line[..<colon].lowercased()
        headers[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        lastKey = key
      } else {
        throw error("malformed header line '\(line.prefix(60))'")
      }
      i += 1
    }
    guard !atEnd else { throw error("headers are not followed by a blank line") }
    i += 1
    return headers
  }

  /// Splits the commit message into its body and the trailer block, following git's rule
  /// (`git interpret-trailers`): the last paragraph is the trailer block if all its lines are
  /// trailers, or if at least a quarter are and one of them is `Signed-off-by` (stable
  /// backports put `[ name: note ]` and `(cherry picked from ...)` lines among the trailers).
  /// Lines that are not `Key: value` are skipped; an indented line continues the trailer
  /// above it.
  func splitTrailers(_ message: [Substring]) -> (String, [Trailer]) {
    var end = message.count
    while end > 0 && message[end - 1].trimmingCharacters(in: .whitespaces).isEmpty { end -= 1 }
    var start = end
    while start > 0 && !message[start - 1].trimmingCharacters(in: .whitespaces).isEmpty { start -= 1 }
    let paragraph = message[start..<end]
    let trailerPattern = #/([A-Za-z][A-Za-z0-9-]*): (.+)/#
    var trailers: [Trailer] = []
    var others = 0
    for line in paragraph {
      if let m = line.wholeMatch(of: trailerPattern) {
        trailers.append(Trailer(key: String(m.1), value: String(m.2)))
      } else if let first = line.first, first == " " || first == "\t", !trailers.isEmpty {
        trailers[trailers.count - 1].value += " " + line.trimmingCharacters(in: .whitespaces)
      } else {
        others += 1
      }
    }
    let isBlock =
      !trailers.isEmpty
      && (others == 0
        || (trailers.count * 4 >= paragraph.count && trailers.contains { $0.key == "Signed-off-by" }))
    guard isBlock else {
      return (message[..<end].joined(separator: "\n").trimmingCharacters(in: .newlines), [])
    }
    let body = message[..<start].joined(separator: "\n").trimmingCharacters(in: .newlines)
    return (body, trailers)
  }

  /// Parses one `diff --git` section. Renames, mode changes and binary diffs may have no
  /// hunks; any other diff must have `---`/`+++` lines and at least one hunk. Quoted paths
  /// (file names with spaces) are not supported.
  mutating func parseFileDiff() throws -> FileDiff {
    let diffLine = i
    guard let m = current.wholeMatch(of: #/diff --git a\/(\S+) b\/(\S+)/#) else {
      throw error("malformed 'diff --git' line (quoted paths are not supported)")
    }
    let name = String(m.2)
    for path in [m.1, m.2] { try checkPath(path) }
    var oldPath: String? = String(m.1)
    var newPath: String? = String(m.2)
    var oldBlob: String?
    var newBlob: String?
    var mayHaveNoHunks = false
    i += 1
    // Extended headers up to "--- ", the next file, or the signature.
    while !atEnd && !current.hasPrefix("--- ") && !current.hasPrefix("diff --git ") && current != "-- " {
      if let idx = current.wholeMatch(of: #/index ([0-9a-f]{7,40})\.\.([0-9a-f]{7,40})( [0-7]{6})?/#) {
        oldBlob = String(idx.1)
        newBlob = String(idx.2)
      } else if current.hasPrefix("new file mode") {
        oldPath = nil
        mayHaveNoHunks = true
      } else if current.hasPrefix("deleted file mode") {
        newPath = nil
        mayHaveNoHunks = true
      } else if let prefix = ["rename from ", "rename to ", "copy from ", "copy to "].first(where: {
        current.hasPrefix($0)
      }) {
        try checkPath(current.dropFirst(prefix.count))
        mayHaveNoHunks = true
      } else if ["old mode", "new mode", "similarity index", "dissimilarity index"].contains(where: {
        current.hasPrefix($0)
      }) {
        mayHaveNoHunks = true
      } else if current.hasPrefix("Binary files ") && current.hasSuffix(" differ") {
        mayHaveNoHunks = true
      } else if current == "GIT binary patch" {
        mayHaveNoHunks = true
        while !atEnd && !current.hasPrefix("diff --git ") && current != "-- " { i += 1 }
        break
      } else {
        throw error("unexpected line in the header of the diff of \(name): '\(current.prefix(60))'")
      }
      i += 1
    }
    if atEnd || !current.hasPrefix("--- ") {
      guard mayHaveNoHunks else { throw error("diff of \(name) has no '--- ' line", at: diffLine) }
      return FileDiff(
        oldPath: oldPath, newPath: newPath, oldBlob: oldBlob ?? "", newBlob: newBlob ?? "", hunks: [])
    }
    guard let oldBlob, let newBlob else {
      throw error("diff of \(name) has no 'index <old>..<new>' line", at: diffLine)
    }
    if current == "--- /dev/null" { oldPath = nil } else { try checkPath(current.dropFirst(4), prefixed: true) }
    i += 1
    guard !atEnd, current.hasPrefix("+++ ") else { throw error("expected '+++ ' after '--- '") }
    if current == "+++ /dev/null" { newPath = nil } else { try checkPath(current.dropFirst(4), prefixed: true) }
    i += 1

    var hunks: [Hunk] = []
    while !atEnd && current.hasPrefix("@@ ") {
      hunkCount += 1
      if hunkCount > PatchLimits.maxHunks {
        throw error("more than the \(PatchLimits.maxHunks) hunks a patch may have")
      }
      hunks.append(try parseHunk(file: name))
    }
    guard !hunks.isEmpty else { throw error("diff of \(name) has no hunks", at: diffLine) }
    return FileDiff(oldPath: oldPath, newPath: newPath, oldBlob: oldBlob, newBlob: newBlob, hunks: hunks)
  }

  /// Parses one hunk and checks that its lines match the counts in its header.
  mutating func parseHunk(file: String) throws -> Hunk {
    let headerLine = i
    guard let h = Self.hunkHeader(current) else {
      throw error("malformed hunk header in \(file): '\(current.prefix(60))'")
    }
    let header =
      "@@ -\(h.oldStart)\(h.oldCount.map { ",\($0)" } ?? "") +\(h.newStart)\(h.newCount.map { ",\($0)" } ?? "") @@"
    func number(_ digits: Substring?, default d: Int) throws -> Int {
      guard let digits else { return d }
      guard let n = Int(digits), n <= PatchLimits.maxLineNumber else {
        throw error(
          "hunk header \(header.prefix(80)) in \(file): the number \(digits.prefix(30)) is out of range (at most \(PatchLimits.maxLineNumber))"
        )
      }
      return n
    }
    let oldCount = try number(h.oldCount, default: 1)
    let newCount = try number(h.newCount, default: 1)
    var hunk = Hunk(
      oldStart: try number(h.oldStart, default: 0), oldCount: oldCount, newStart: try number(h.newStart, default: 0),
      newCount: newCount, section: String(h.section), lines: [], headerLine: headerLine + 1)
    // Sized once from the header (bounded by the lines left), so a large hunk is not copied
    // as its array grows.
    hunk.lines.reserveCapacity(min(oldCount + newCount, lines.count - i))
    i += 1
    var old = 0
    var new = 0
    func mismatch(_ what: String) -> PatchParseError {
      error(
        "hunk \(header) in \(file) (line \(headerLine + 1)) declares \(oldCount) old and \(newCount) new lines, but \(what) (\(old) old, \(new) new so far)"
      )
    }
    while old < oldCount || new < newCount {
      guard !atEnd else { throw mismatch("the file ends") }
      let line = current
      // "-- " followed by something that is not a hunk line is the signature: the hunk ended
      // early. (Inside a hunk "-- " is otherwise a removed line "- ".)
      if line == "-- ", i + 1 >= lines.count || !isHunkLine(lines[i + 1]) {
        throw mismatch("the hunk ends at line \(i + 1), the '-- ' signature")
      }
      switch line.first {
      case " ":
        old += 1
        new += 1
        hunk.lines.append(HunkLine(kind: .context, slice: line.dropFirst()))
      case "-":
        old += 1
        hunk.lines.append(HunkLine(kind: .removed, slice: line.dropFirst()))
      case "+":
        new += 1
        hunk.lines.append(HunkLine(kind: .added, slice: line.dropFirst()))
      case "\\":
        hunk.lines.append(HunkLine(kind: .noNewlineMarker, slice: line.dropFirst()))
      case nil:
        // An empty line: a context line whose single space was stripped (git apply accepts
        // it the same way).
        old += 1
        new += 1
        hunk.lines.append(HunkLine(kind: .context, slice: ""))
      default:
        throw mismatch("line \(i + 1) is not a hunk line")
      }
      if old > oldCount || new > newCount { throw mismatch("line \(i + 1) goes past them") }
      i += 1
    }
    if !atEnd, current.first == "\\" {
      hunk.lines.append(HunkLine(kind: .noNewlineMarker, slice: current.dropFirst()))
      i += 1
    }
    // The next line must start a hunk, a file, the signature, or nothing.
    if !atEnd, !(current.hasPrefix("@@ ") || current.hasPrefix("diff --git ") || current == "-- ") {
      if let first = current.first, " +-".contains(first) {
        throw error(
          "hunk \(header) in \(file) (line \(headerLine + 1)) has more lines than its header declares (\(oldCount) old, \(newCount) new)"
        )
      }
    }
    return hunk
  }

  /// Refuses a path `git apply` refuses: absolute, or with a `..` (or `.`) component, or
  /// empty. `prefixed` paths carry git's `a/` or `b/` (the `---`/`+++` lines); a trailing
  /// tab and timestamp, as GNU diff writes them, is not part of the path.
  func checkPath(_ raw: Substring, prefixed: Bool = false) throws {
    var path = raw.prefix { $0 != "\t" }
    if prefixed, path.hasPrefix("a/") || path.hasPrefix("b/") { path = path.dropFirst(2) }
    let components = path.split(separator: "/", omittingEmptySubsequences: false)
    if path.isEmpty || path.hasPrefix("/") || components.contains("..") || components.contains(".")
      || components.contains("")
    {
      throw error(
        "invalid path '\(path.prefix(80))': absolute, empty or with a '.' or '..' component (git apply refuses it)")
    }
  }

  /// `@@ -a[,b] +c[,d] @@[ section]` taken apart by hand (a regex per hunk is what made a
  /// large patch slow): the four numbers as digits, and the section.
  static func hunkHeader(
    _ line: Substring
  ) -> (oldStart: Substring, oldCount: Substring?, newStart: Substring, newCount: Substring?, section: Substring)? {
    var rest = line[...]
    func take(_ literal: String) -> Bool {
      guard rest.hasPrefix(literal) else { return false }
      rest = rest.dropFirst(literal.count)
      return true
    }
    func digits() -> Substring? {
      let d = rest.prefix { $0.isASCII && $0.isNumber }
      guard !d.isEmpty else { return nil }
      rest = rest.dropFirst(d.count)
      return d
    }
    guard take("@@ -"), let a = digits() else { return nil }
    var b: Substring?
    if take(",") {
      guard let n = digits() else { return nil }
      b = n
    }
    guard take(" +"), let c = digits() else { return nil }
    var d: Substring?
    if take(",") {
      guard let n = digits() else { return nil }
      d = n
    }
    guard take(" @@") else { return nil }
    _ = take(" ")
    return (a, b, c, d, rest)
  }

  /// Whether `line` can be a line of a hunk body.
  func isHunkLine(_ line: Substring) -> Bool {
    guard let first = line.first else { return true }
    return " +-\\".contains(first) && !line.hasPrefix("diff --git ")
  }

  /// Checks the diffstat summary line against the hunks.
  func checkDiffstat(_ stat: ArraySlice<Substring>, against patch: PatchFile, at line: Int) throws {
    for (offset, l) in stat.enumerated() {
      guard
        let m = l.wholeMatch(of: #/ (\d+) files? changed(?:, (\d+) insertions?\(\+\))?(?:, (\d+) deletions?\(-\))?/#)
      else { continue }
      // Digits too many for an Int cannot match any real count: -1 never equals one.
      let files = Int(m.1) ?? -1
      let ins = m.2.map { Int($0) ?? -1 } ?? 0
      let del = m.3.map { Int($0) ?? -1 } ?? 0
      guard files == patch.files.count, ins == patch.insertions, del == patch.deletions else {
        throw error(
          "diffstat says \(files) files, \(ins) insertions, \(del) deletions; the diffs have \(patch.files.count), \(patch.insertions), \(patch.deletions)",
          at: line + offset)
      }
      return
    }
  }
}

/// `Name <email>` into its parts.
private func parsePerson(_ s: String) -> Person {
  if let m = s.wholeMatch(of: #/\s*"?(.*?)"?\s*<([^>]*)>\s*/#) {
    return Person(name: String(m.1), email: String(m.2))
  }
  return Person(name: s, email: "")
}

/// Decodes RFC 2047 encoded words (`=?UTF-8?q?Thomas=20Hellstr=C3=B6m?=`, `?b?` too), as
/// `git format-patch` writes non-ASCII names and subjects. Whitespace between adjacent
/// encoded words is dropped, as the RFC says. UTF-8 and US-ASCII words decode as UTF-8 (an
/// invalid sequence becoming U+FFFD), ISO-8859-1 (`latin1`) and Windows-1252 words byte for
/// code point; other charsets are read as UTF-8.
public func decodeEncodedWords(_ s: String) -> String {
  let word = #/=\?([^?]+)\?([qQbB])\?([^?]*)\?=/#
  var out = ""
  var rest = Substring(s)
  var lastWasEncoded = false
  while let m = rest.firstMatch(of: word) {
    let gap = rest[..<m.range.lowerBound]
    if !(lastWasEncoded && gap.allSatisfy(\.isWhitespace)) { out += gap }
    var bytes: [UInt8] = []
    if m.2.lowercased() == "b" {
      bytes = Array(Data(base64Encoded: String(m.3)) ?? Data())
    } else {
      var it = m.3.utf8.makeIterator()
      while let c = it.next() {
        if c == UInt8(ascii: "_") {
          bytes.append(UInt8(ascii: " "))
        } else if c == UInt8(ascii: "="), let h = it.next(), let l = it.next(),
          let v = UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16)
        {
          bytes.append(v)
        } else {
          bytes.append(c)
        }
      }
    }
    let charset = m.1.lowercased()
    if ["iso-8859-1", "latin1", "iso8859-1", "windows-1252", "cp1252"].contains(charset) {
      out += String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    } else {
      out += String(decoding: bytes, as: UTF8.self)
    }
    rest = rest[m.range.upperBound...]
    lastWasEncoded = true
  }
  return out + rest
}
