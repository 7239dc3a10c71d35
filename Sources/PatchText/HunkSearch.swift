import Foundation

// Finding a hunk's images in a file that is not its pre- or post-image: the text layer of the
// tree scanner. Lines are compared with whitespace collapsed (so re-indentation, tabs against
// spaces and CRLF line ends do not matter) and blank lines skipped, at any offset; the
// upstream context may differ, as `patch --fuzz` and `git apply --3way` would see it.

/// A file's text, indexed for finding runs of lines.
struct IndexedText {
  /// The raw lines, without their line feeds.
  let lines: [Substring]
  /// Every line with whitespace collapsed and trimmed.
  let norm: [String]
  /// The indices (into `lines`) of the lines that are not blank.
  let nonBlank: [Int]
  /// Where each normalized line occurs, as positions in `nonBlank`.
  let positions: [String: [Int]]
  /// The lines that can start a top-level definition (column 0, not a preprocessor line or a
  /// comment), with their index.
  let topLevel: [(index: Int, line: Substring)]

  init(_ text: String) {
    var lines: [Substring] = []
    var start = text.startIndex
    let bytes = text.utf8
    var index = bytes.startIndex
    while index != bytes.endIndex {
      if bytes[index] == 0x0A {
        lines.append(Substring(bytes[start..<index]))
        start = bytes.index(after: index)
      }
      index = bytes.index(after: index)
    }
    if start != text.endIndex { lines.append(Substring(bytes[start..<bytes.endIndex])) }
    self.lines = lines
    norm = lines.map(normalize)
    var nonBlank: [Int] = []
    var positions: [String: [Int]] = [:]
    for (i, n) in norm.enumerated() where !n.isEmpty {
      positions[n, default: []].append(nonBlank.count)
      nonBlank.append(i)
    }
    self.nonBlank = nonBlank
    self.positions = positions
    topLevel = lines.enumerated().compactMap { i, line in
      guard let first = line.utf8.first, first != 0x20, first != 0x09, first != 0x23, first != 0x2F, first != 0x2A,
        first != 0x7D, first != 0x0D, line.utf8.contains(0x28)
      else { return nil }
      return (i, line)
    }
  }

  /// The start positions (in `nonBlank`) where `pattern` (normalized, no blank lines) occurs
  /// as consecutive non-blank lines.
  func occurrences(of pattern: [String]) -> [Int] {
    guard let first = pattern.first, let starts = positions[first] else { return [] }
    return starts.filter { p in
      p + pattern.count <= nonBlank.count && pattern.indices.allSatisfy { norm[nonBlank[p + $0]] == pattern[$0] }
    }
  }

  /// The 1-based line number of non-blank position `p`.
  func lineNumber(_ p: Int) -> Int { nonBlank[min(max(p, 0), nonBlank.count - 1)] + 1 }

  /// The non-blank position of the first non-blank line at or after 1-based `line`.
  func position(ofLine line: Int) -> Int {
    var lo = 0
    var hi = nonBlank.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if nonBlank[mid] + 1 < line { lo = mid + 1 } else { hi = mid }
    }
    return min(lo, max(nonBlank.count - 1, 0))
  }

  /// The line (1-based) that starts a top-level definition or declaration of `name`: a line
  /// at column 0 (not a preprocessor line or a comment) with `name(` in it.
  func definition(of name: String) -> Int? {
    let needle = Array((name + "(").utf8)
    for (i, line) in topLevel {
      let bytes = Array(line.utf8)
      guard bytes.count >= needle.count else { continue }
      for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] {
        guard bytes[start..<(start + needle.count)].elementsEqual(needle) else { continue }
        // `name` must be a whole identifier.
        if start > 0, isIdentifierByte(bytes[start - 1]) { continue }
        return i + 1
      }
    }
    return nil
  }
}

/// `line` with runs of whitespace (spaces, tabs, CR, form feeds) collapsed to one space and
/// trimmed. Works on the UTF-8 bytes: every whitespace character it collapses is ASCII.
func normalize<S: StringProtocol>(_ line: S) -> String {
  var out: [UInt8] = []
  out.reserveCapacity(line.utf8.count)
  var pendingSpace = false
  for b in line.utf8 {
    if b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0C || b == 0x0B {
      pendingSpace = !out.isEmpty
    } else {
      if pendingSpace { out.append(0x20) }
      pendingSpace = false
      out.append(b)
    }
  }
  return String(decoding: out, as: UTF8.self)
}

func isIdentifier(_ c: Character) -> Bool { c == "_" || (c.isASCII && (c.isLetter || c.isNumber)) }

func isIdentifierByte(_ b: UInt8) -> Bool {
  b == 0x5F || (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
}

/// The function a hunk header's section names (`static int ttm_pool_restore_commit(...` ->
/// `ttm_pool_restore_commit`), if it names one.
public func functionName(inSection section: String) -> String? {
  guard let paren = section.firstIndex(of: "(") else { return nil }
  let before = section[..<paren]
  let name = String(before.reversed().prefix(while: isIdentifier).reversed())
  guard let first = name.first, !first.isNumber,
    !["if", "while", "for", "switch", "return", "sizeof", "do"].contains(name)
  else { return nil }
  return name
}

/// Whether a run of normalized lines says enough to be found on its own: not only braces,
/// `break;`, `return 0;`, comment markers and the like.
func isSignificant(_ run: [String]) -> Bool {
  let trivial: Set<String> = [
    "}", "{", "};", "break;", "return;", "return 0;", "return ret;", "else", "} else {", "*/", "/*", "*", "default:",
    "continue;", "goto out;", "#endif", "#else", ")", ");",
  ]
  let meaningful = run.filter { !trivial.contains($0) }
  return meaningful.reduce(0) { $0 + $1.count } >= 10
}

/// The parts of a hunk the search uses.
struct HunkImages {
  /// One change: a run of removed lines and the run of added lines replacing it (either may
  /// be empty), with the nearest context line on each side.
  struct Group {
    var removed: [String] = []
    var added: [String] = []
    var before: String?
    var after: String?
  }

  /// Context and removed lines, normalized, no blank lines: the pre-image.
  let pre: [String]
  /// Context and added lines: the post-image.
  let post: [String]
  /// How many context lines open and close the hunk (before its first change, after its
  /// last), for trimming them as `patch --fuzz` does.
  let leadingContext: Int
  let trailingContext: Int

  /// `image` with up to `fuzz` of the opening and of the closing context lines left out.
  func fuzzed(_ image: [String], _ fuzz: Int) -> [String] {
    let lead = min(fuzz, leadingContext)
    let trail = min(fuzz, trailingContext)
    guard image.count > lead + trail else { return [] }
    return Array(image[lead..<(image.count - trail)])
  }
  let groups: [Group]
  /// The raw first removed and first added line, for evidence.
  let firstRemoved: String?
  let firstAdded: String?

  init(_ hunk: Hunk) {
    var pre: [String] = []
    var post: [String] = []
    var groups: [Group] = []
    var current: Group?
    var lastContext: String?
    for line in hunk.lines {
      let n = normalize(line.text)
      switch line.kind {
      case .context:
        if !n.isEmpty {
          pre.append(n)
          post.append(n)
          if var g = current {
            g.after = n
            groups.append(g)
            current = nil
          }
          lastContext = n
        }
      case .removed, .added:
        if current == nil { current = Group(before: lastContext) }
        if !n.isEmpty {
          if line.kind == .removed {
            pre.append(n)
            current!.removed.append(n)
          } else {
            post.append(n)
            current!.added.append(n)
          }
        }
      case .noNewlineMarker: break
      }
    }
    if let g = current { groups.append(g) }
    self.pre = pre
    self.post = post
    let nonBlank = hunk.lines.filter { $0.kind != .noNewlineMarker && !normalize($0.text).isEmpty }
    leadingContext = nonBlank.prefix { $0.kind == .context }.count
    trailingContext = nonBlank.reversed().prefix { $0.kind == .context }.count
    self.groups = groups.filter { !$0.removed.isEmpty || !$0.added.isEmpty }
    firstRemoved = hunk.lines.first { $0.kind == .removed && !normalize($0.text).isEmpty }?.text
    firstAdded = hunk.lines.first { $0.kind == .added && !normalize($0.text).isEmpty }?.text
  }
}

/// Which side of a hunk the file shows.
enum HunkSide { case pre, post }

extension IndexedText {
  /// Finds `side` of `images` with the upstream context allowed to differ: each change
  /// group's lines of that side (or, for a group with none, its two context lines now
  /// adjacent) in order, each within a window of the one before, with the other side's lines
  /// not around them. Returns the chain's start positions, the one nearest `anchor`, or `nil`.
  func relaxedMatch(_ images: HunkImages, side: HunkSide, anchor: Int) -> [Int]? {
    let runs: [[String]?] = images.groups.map { g in
      let mine = side == .post ? g.added : g.removed
      if !mine.isEmpty { return mine }
      if let b = g.before, let a = g.after { return [b, a] }
      return nil
    }
    let others: [[String]] = images.groups.map { side == .post ? $0.removed : $0.added }
    // Every group must be testable, and together they must say something specific.
    guard !runs.isEmpty, runs.allSatisfy({ $0 != nil }) else { return nil }
    let chosen = runs.map { $0! }
    guard isSignificant(chosen.flatMap { $0 }) else { return nil }
    let window = 2 * (images.pre.count + images.post.count) + 20
    var best: [Int]?
    for start in occurrences(of: chosen[0]) {
      var chain = [start]
      var ok = true
      for k in 1..<max(chosen.count, 1) where k < chosen.count {
        let previous = chain[k - 1] + chosen[k - 1].count
        guard let next = occurrences(of: chosen[k]).first(where: { $0 >= previous && $0 <= previous + window }) else {
          ok = false
          break
        }
        chain.append(next)
      }
      guard ok else { continue }
      // The other side must not be there too: a removed run still standing next to the added
      // one is no application, and vice versa.
      let lo = max(chain[0] - window, 0)
      let hi = chain[chain.count - 1] + window
      let otherPresent = others.contains { run in
        !run.isEmpty && isSignificant(run) && occurrences(of: run).contains { $0 >= lo && $0 <= hi }
      }
      guard !otherPresent else { continue }
      if best.map({ distance(chain[0], anchor) < distance($0[0], anchor) }) ?? true { best = chain }
    }
    return best
  }

  /// How far `p` is from `anchor`: a match after the anchor (inside the function the hunk
  /// header names) is nearer than one the same distance before it.
  func distance(_ p: Int, _ anchor: Int) -> Int { p >= anchor ? p - anchor : (anchor - p) * 4 + 1 }

  /// The line of the region from `start` (1-based) most like `target`, by shared words.
  func closestLine(to target: String, from start: Int, within count: Int = 400) -> Int? {
    let want = Set(words(normalize(target)))
    guard !want.isEmpty else { return nil }
    var best: (line: Int, score: Double)?
    let end = min(lines.count, start - 1 + count)
    for i in max(start - 1, 0)..<end {
      let have = Set(words(norm[i]))
      guard !have.isEmpty else { continue }
      let score = Double(want.intersection(have).count) / Double(want.union(have).count)
      if score > (best?.score ?? 0) { best = (i + 1, score) }
    }
    return best.flatMap { $0.score >= 0.2 ? $0.line : nil }
  }
}

/// The identifiers and other tokens of a normalized line.
func words(_ s: String) -> [Substring] {
  s.split { !isIdentifier($0) && $0 != "-" && $0 != ">" }
}
