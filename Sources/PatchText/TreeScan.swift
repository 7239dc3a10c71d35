import Foundation

/// Where a patch stands in a scanned tree, decided from the tree's files and the patch's own
/// hunks, never from a list of known trees.
public enum ScanState: String, Hashable, Codable, Sendable, CaseIterable, CustomStringConvertible {
  /// The files or the functions the patch changes do not exist in the tree.
  case absent
  /// The code is there; no hunk is applied.
  case before
  /// Every hunk is applied with the upstream lines (whitespace aside).
  case after
  /// Every hunk is applied, with different context or wording: a real backport.
  case adapted
  /// Some hunks or files are applied and others are not.
  case partial
  /// The functions exist, but neither image of the hunks is found: the code was reworked.
  case rewritten
  /// The scan cannot decide; the evidence says why.
  case unknown

  public var description: String { rawValue }
}

/// What a tree holds at a path, named without reading it: what decisions are memoised by.
public enum FileIdentity: Hashable, Sendable {
  case missing
  /// A file with this git blob id (its text may not have been read).
  case blob(String)
  /// Something at the path that cannot be scanned (a directory, a submodule, too large, an
  /// object a shallow or partial clone lacks); `blob` when known.
  case unreadable(blob: String?, reason: String)

  /// The memo key: what the path holds and, for what cannot be read, why, so an unreadable
  /// path never shares a decision with a missing one or with a readable blob.
  public var key: String {
    switch self {
    case .missing: "missing"
    case .blob(let id): "blob:" + id
    case .unreadable(let blob, let reason): "unreadable:\(blob ?? "")|" + reason
    }
  }
}

extension SourceFile {
  /// What the file is, without its text.
  public var identity: FileIdentity {
    switch self {
    case .missing: .missing
    case .text(let blob, _): .blob(blob)
    case .unreadable(let blob, let reason): .unreadable(blob: blob, reason: reason)
    }
  }
}

/// What one hunk's search found.
public struct HunkScan: Hashable, Sendable {
  /// How a hunk stands in the file.
  public enum State: String, Hashable, Sendable {
    case applied
    case notApplied = "not-applied"
    case notFound = "not-found"
  }

  /// `@@ -a,b +c,d @@`, as in the patch.
  public let header: String
  /// The function context after the header, as in the patch.
  public let section: String
  public let state: State
  /// The deciding line in the tree's file (1-based), where there is one.
  public let line: Int?
  /// `path:line: text`, the line that decided, or why none did.
  public let evidence: String
  /// Found with the upstream context (the whole image), not only the changed lines.
  public let fullImage: Bool
  /// The function the header names is not in the file.
  public let functionMissing: Bool
  /// For a hunk not found: the function the header names is in the file (the code is there,
  /// in other words), as against a hunk whose header names no function.
  public var inFunction: Bool = false
  /// For a hunk not found: a run of lines it adds (one that says something) is, whole,
  /// somewhere in the file.
  public var addedLinePresent: Bool = false
}

/// What the scan found in one file the patch touches.
public struct FileScan: Hashable, Sendable {
  public let path: String
  /// The tree's blob id of the file, where there is a file.
  public let blob: String?
  /// `missing`, `text` or `unreadable`.
  public let presence: String
  /// Why the file could not be scanned, if it could not.
  public let problem: String?
  /// Decided by the blob id alone: `before` (the patch's pre-image) or `after` (its
  /// post-image).
  public let exact: ScanState?
  public let hunks: [HunkScan]
}

/// What the scan found for one patch.
public struct PatchScan: Hashable, Sendable {
  public let patch: String
  public let state: ScanState
  /// Every file decided by its blob id.
  public let exact: Bool
  /// `path:line: text`, the deciding line of each hunk (or why none decided).
  public let evidence: [String]
  /// What the roll-up adds: what is missing, what will not build, why it cannot decide.
  public let notes: [String]
  public let files: [FileScan]
}

/// One scanned tree.
public struct TreeScan: Hashable, Sendable {
  public let origin: TreeOrigin
  /// From the top-level Makefile, where it is there and says.
  public let version: KernelVersion?
  /// The Makefile's blob id.
  public let makefileBlob: String?
  public let patches: [PatchScan]

  /// The scan of `slug`.
  public func patch(_ slug: String) -> PatchScan? { patches.first { $0.patch == slug } }
}

/// Decides, per patch, per file, per hunk, whether a tree carries a patch (README.md "Reading
/// kernel trees"):
/// - exact: the file's blob id is the patch's pre- or post-image (`index` line);
/// - otherwise each hunk's post-image and pre-image are looked for, whitespace-insensitive, at
///   any offset, nearest the function the hunk header names; first with the upstream
///   context, then with the context allowed to differ (each change's lines in order, the
///   other side's lines not around them);
/// - the hunks roll up into a ``ScanState``, with evidence for each.
///
/// Decisions are memoised by (patch, path, blob id), so a history of many tags costs its
/// distinct file versions.
public final class TreeScanner {
  public let patches: [PatchFile]
  private var cache: [String: FileScan] = [:]
  /// The indexed text of each blob read, shared by the patches that touch the file.
  private var indexed: [String: IndexedText] = [:]
  /// Files decided, and how many came from the memo.
  public private(set) var decisions = 0
  public private(set) var memoHits = 0

  public init(patches: [PatchFile]) { self.patches = patches }

  /// The paths the patches touch (from their own diff headers), and the top-level Makefile.
  public var paths: [String] {
    var seen: [String] = ["Makefile"]
    for p in patches { for f in p.files where !seen.contains(f.path) { seen.append(f.path) } }
    return seen
  }

  /// Scans `source`: reads each file once, decides every patch.
  public func scan(_ source: any KernelSource) throws -> TreeScan {
    var files: [String: SourceFile] = [:]
    for path in paths { files[path] = try source.file(path) }
    return scan(origin: source.origin, files: files)
  }

  /// Decides every patch from `files` (path to what the tree holds there).
  public func scan(origin: TreeOrigin, files: [String: SourceFile]) -> TreeScan {
    var version: KernelVersion?
    if case .text(_, let text)? = files["Makefile"] { version = KernelVersion(makefile: text) }
    return scan(origin: origin, version: version, identities: files.mapValues(\.identity)) { path, _ in
      files[path] ?? .missing
    }
  }

  /// Decides every patch from what each path holds, named without its text (a blob id,
  /// missing, or why it cannot be read), reading a file through `read(path, blob)` only where
  /// a decision is not already memoised: a history of many trees reads each distinct blob
  /// once, and a tree whose blobs were all decided before reads nothing. `version` is the
  /// tree's, where the caller knows it (from its Makefile or its tag).
  public func scan<E: Error>(
    origin: TreeOrigin, version: KernelVersion?, identities: [String: FileIdentity],
    read: (_ path: String, _ blob: String) throws(E) -> SourceFile
  ) throws(E) -> TreeScan {
    // The indexed texts are shared by the patches of one tree only, so memory stays bounded
    // by one tree's files however long the history is (the decisions stay memoised).
    defer { indexed.removeAll(keepingCapacity: true) }
    // A file several patches touch is read once, by the first that needs it.
    var loaded: [String: SourceFile] = [:]
    func load(_ path: String, _ identity: FileIdentity) throws(E) -> SourceFile {
      switch identity {
      case .missing: return .missing
      case .unreadable(let blob, let reason): return .unreadable(blob: blob, reason: reason)
      case .blob(let id):
        if let file = loaded[path] { return file }
        let file = try read(path, id)
        loaded[path] = file
        return file
      }
    }
    var scans: [PatchScan] = []
    for patch in patches {
      var fileScans: [FileScan] = []
      for diff in patch.files {
        let identity = identities[diff.path] ?? .missing
        let othersPresent = patch.files.contains {
          $0.path != diff.path && !$0.isNewFile && (identities[$0.path].map { $0 != .missing } ?? false)
        }
        fileScans.append(
          try decide(patch, diff, identity, othersPresent: othersPresent) { () throws(E) -> SourceFile in
            try load(diff.path, identity)
          })
      }
      scans.append(rollUp(patch, fileScans))
    }
    let makefileBlob: String? =
      switch identities["Makefile"] {
      case .blob(let id)?: id
      case .unreadable(let blob, _)?: blob
      default: nil
      }
    return TreeScan(origin: origin, version: version, makefileBlob: makefileBlob, patches: scans)
  }

  // MARK: One file

  /// One file of one patch, memoised by (patch, path, what the path holds, whether the
  /// patch's other files are there): a new file that is missing is "before" where the code
  /// around it exists (another file the patch touches is there), else absent.
  private func decide<E: Error>(
    _ patch: PatchFile, _ diff: FileDiff, _ identity: FileIdentity, othersPresent: Bool,
    load: () throws(E) -> SourceFile
  ) throws(E) -> FileScan {
    let key = "\(patch.slug)|\(diff.path)|\(identity.key)|\(othersPresent)"
    decisions += 1
    if let hit = cache[key] {
      memoHits += 1
      return hit
    }
    let result = decideUncached(diff, try load(), othersPresent: othersPresent)
    cache[key] = result
    return result
  }

  private func decideUncached(_ diff: FileDiff, _ file: SourceFile, othersPresent: Bool) -> FileScan {
    let path = diff.path
    func hunks(_ state: HunkScan.State, line: Int? = nil, missing: Bool = false, _ evidence: (Hunk) -> String)
      -> [HunkScan]
    {
      diff.hunks.map {
        HunkScan(
          header: $0.header, section: $0.section, state: state, line: line, evidence: evidence($0), fullImage: true,
          functionMissing: missing)
      }
    }
    switch file {
    case .missing:
      if diff.isNewFile {
        let state: HunkScan.State = othersPresent ? .notApplied : .notFound
        return FileScan(
          path: path, blob: nil, presence: "missing", problem: nil, exact: nil,
          hunks: hunks(state, missing: !othersPresent) { _ in
            othersPresent
              ? "\(path): not in the tree (the patch creates it; the code around it is there)"
              : "\(path): not in the tree"
          })
      }
      return FileScan(
        path: path, blob: nil, presence: "missing", problem: nil, exact: nil,
        hunks: hunks(.notFound, missing: true) { _ in "\(path): not in the tree" })
    case .unreadable(let blob, let reason):
      return FileScan(
        path: path, blob: blob, presence: "unreadable", problem: reason, exact: nil,
        hunks: hunks(.notFound) { _ in "\(path): \(reason)" })
    case .text(let blob, let text):
      let full = blob.lowercased()
      if !diff.newBlob.isEmpty, !diff.newBlob.allSatisfy({ $0 == "0" }), full.hasPrefix(diff.newBlob.lowercased()) {
        return FileScan(
          path: path, blob: blob, presence: "text", problem: nil, exact: .after,
          hunks: hunks(.applied) { _ in "\(path): blob \(blob.prefix(12)) is the patch's post-image" })
      }
      if !diff.isNewFile, !diff.oldBlob.isEmpty, full.hasPrefix(diff.oldBlob.lowercased()) {
        return FileScan(
          path: path, blob: blob, presence: "text", problem: nil, exact: .before,
          hunks: hunks(.notApplied) { _ in "\(path): blob \(blob.prefix(12)) is the patch's pre-image" })
      }
      let index = indexed[blob] ?? IndexedText(text)
      indexed[blob] = index
      let scans = diff.isNewFile ? [newFile(diff, index)] : diff.hunks.map { search($0, in: index, path: path) }
      return FileScan(path: path, blob: blob, presence: "text", problem: nil, exact: nil, hunks: scans)
    }
  }

  /// `path:line: text`.
  private func cite(_ path: String, _ file: IndexedText, _ line: Int) -> String {
    let text = file.lines[line - 1].trimmingCharacters(in: .whitespaces)
    return "\(path):\(line): \(text.prefix(160))"
  }

  /// A file the patch creates, found in the tree with another blob: the same text (whitespace
  /// aside) is after; the same functions defined in other words is adapted.
  private func newFile(_ diff: FileDiff, _ file: IndexedText) -> HunkScan {
    let path = diff.path
    let added = diff.hunks.flatMap { $0.lines.filter { $0.kind == .added } }
    let post = added.map { normalize($0.text) }.filter { !$0.isEmpty }
    let hunkHeader = diff.hunks.first?.header ?? "@@"
    let section = diff.hunks.first?.section ?? ""
    if post == file.nonBlank.map({ file.norm[$0] }) {
      return HunkScan(
        header: hunkHeader, section: section, state: .applied, line: 1,
        evidence: "\(path): the patch's text (whitespace aside)",
        fullImage: true, functionMissing: false)
    }
    // The functions (and other top-level names) the new file defines.
    var names: [String] = []
    for line in added {
      guard let first = line.text.first, !first.isWhitespace, first != "#", first != "/", first != "*",
        let name = functionName(inSection: line.text), !names.contains(name)
      else { continue }
      names.append(name)
    }
    let found = names.compactMap { name in file.definition(of: name).map { (name, $0) } }
    let missing = names.filter { n in !found.contains { $0.0 == n } }
    // Most of the functions, in other words: the patch as merged (a later version may drop a
    // helper or two, as the merged TTM backup dropped ttm_backup_to_file()).
    if !names.isEmpty && found.count * 3 >= names.count * 2 {
      let (name, line) = found[0]
      let lacks = missing.isEmpty ? "" : "; lacks \(missing.joined(separator: ", "))"
      return HunkScan(
        header: hunkHeader, section: section, state: .applied, line: line,
        evidence:
          "\(cite(path, file, line)) (defines \(found.count) of the \(names.count) functions the patch's text does, in other words\(lacks); first: \(name))",
        fullImage: false, functionMissing: false)
    }
    return HunkScan(
      header: hunkHeader, section: section, state: .notFound, line: nil,
      evidence:
        "\(path): in the tree, but not the patch's text; it lacks \(missing.count) of the \(names.count) functions the patch defines (\(missing.prefix(4).joined(separator: ", ")))",
      fullImage: false, functionMissing: false)
  }

  /// Searches one hunk of a changed file.
  private func search(_ hunk: Hunk, in file: IndexedText, path: String) -> HunkScan {
    let images = HunkImages(hunk)
    let function = functionName(inSection: hunk.section)
    let definition = function.flatMap { file.definition(of: $0) }
    let anchor = file.position(ofLine: definition ?? max(hunk.oldStart, 1))
    func result(_ state: HunkScan.State, _ position: Int?, full: Bool, _ what: String? = nil) -> HunkScan {
      guard let position else {
        return HunkScan(
          header: hunk.header, section: hunk.section, state: state, line: nil, evidence: "\(path): \(what ?? "")",
          fullImage: full,
          functionMissing: false)
      }
      let line = file.lineNumber(position)
      return HunkScan(
        header: hunk.header, section: hunk.section, state: state, line: line, evidence: cite(path, file, line),
        fullImage: full,
        functionMissing: false)
    }
    // The deciding line: the first line of that side the hunk changes.
    func decidingLine(_ start: Int, image: [String], side: HunkSide) -> Int {
      let first = side == .post ? images.firstAdded : images.firstRemoved
      guard let first else { return start }
      let n = normalize(first)
      return (0..<image.count).first { image[$0] == n }.map { start + $0 } ?? start
    }

    if images.pre == images.post {
      // A change of whitespace or blank lines only: told apart by the raw lines, or not at all.
      return whitespaceOnly(hunk, in: file, path: path)
    }
    let post = file.occurrences(of: images.post)
    let pre = file.occurrences(of: images.pre)
    let nearestPost = post.min { file.distance($0, anchor) < file.distance($1, anchor) }
    let nearestPre = pre.min { file.distance($0, anchor) < file.distance($1, anchor) }
    switch (nearestPost, nearestPre) {
    case (let p?, nil): return result(.applied, decidingLine(p, image: images.post, side: .post), full: true)
    case (nil, let p?): return result(.notApplied, decidingLine(p, image: images.pre, side: .pre), full: true)
    case (let a?, let b?) where file.distance(a, anchor) != file.distance(b, anchor):
      return file.distance(a, anchor) < file.distance(b, anchor)
        ? result(.applied, decidingLine(a, image: images.post, side: .post), full: true)
        : result(.notApplied, decidingLine(b, image: images.pre, side: .pre), full: true)
    default: break
    }
    // The opening or closing context differs: up to three context lines at each end left
    // out, as `patch --fuzz 3` would.
    for fuzz in 1...3 where images.leadingContext + images.trailingContext > 0 {
      let postF = images.fuzzed(images.post, fuzz)
      let preF = images.fuzzed(images.pre, fuzz)
      guard isSignificant(postF) || isSignificant(preF), postF != preF else { continue }
      let a = file.occurrences(of: postF).min { file.distance($0, anchor) < file.distance($1, anchor) }
      let b = file.occurrences(of: preF).min { file.distance($0, anchor) < file.distance($1, anchor) }
      switch (a, b) {
      case (let p?, nil): return result(.applied, decidingLine(p, image: postF, side: .post), full: false)
      case (nil, let p?): return result(.notApplied, decidingLine(p, image: preF, side: .pre), full: false)
      case (let p?, let q?) where p < q + preF.count && q < p + postF.count && postF.count != preF.count:
        // The two overlap: the shorter is the longer one's context, trimmed too far to tell
        // the change apart. The longer says more.
        return postF.count > preF.count
          ? result(.applied, decidingLine(p, image: postF, side: .post), full: false)
          : result(.notApplied, decidingLine(q, image: preF, side: .pre), full: false)
      case (let p?, let q?) where file.distance(p, anchor) != file.distance(q, anchor):
        return file.distance(p, anchor) < file.distance(q, anchor)
          ? result(.applied, decidingLine(p, image: postF, side: .post), full: false)
          : result(.notApplied, decidingLine(q, image: preF, side: .pre), full: false)
      default: continue
      }
    }
    // The upstream context differs more: the changed lines alone.
    let applied = file.relaxedMatch(images, side: .post, anchor: anchor)
    let notApplied = file.relaxedMatch(images, side: .pre, anchor: anchor)
    func line(_ chain: [Int], _ side: HunkSide) -> Int {
      let run = side == .post ? images.groups.first.map(\.added) : images.groups.first.map(\.removed)
      return decidingLine(chain[0], image: run ?? [], side: side)
    }
    switch (applied, notApplied) {
    case (let a?, nil): return result(.applied, line(a, .post), full: false)
    case (nil, let b?): return result(.notApplied, line(b, .pre), full: false)
    case (let a?, let b?) where file.distance(a[0], anchor) != file.distance(b[0], anchor):
      return file.distance(a[0], anchor) < file.distance(b[0], anchor)
        ? result(.applied, line(a, .post), full: false) : result(.notApplied, line(b, .pre), full: false)
    case (.some, .some):
      return result(.notFound, nil, full: false, "both the patched and the unpatched lines are there; cannot tell")
    case (nil, nil): break
    }
    // Neither image: the function is gone, or the code was reworked.
    // A run the patch adds, whole, somewhere in the file: the change may be there in a form
    // the search could not place.
    let addedPresent = images.groups.contains { g in isSignificant(g.added) && !file.occurrences(of: g.added).isEmpty }
    if let function, definition == nil {
      return HunkScan(
        header: hunk.header, section: hunk.section, state: .notFound, line: nil,
        evidence: "\(path): no \(function)() in the file", fullImage: false, functionMissing: true)
    }
    var what = "neither the patched nor the unpatched lines are found"
    if let function, let definition {
      what = "\(function)() is at line \(definition), but neither the patched nor the unpatched lines are in it"
      if let target = images.firstRemoved ?? images.firstAdded,
        let closest = file.closestLine(to: target, from: definition)
      {
        what += "; closest: \(cite(path, file, closest))"
      }
      var scan = result(.notFound, nil, full: false, what)
      scan.inFunction = true
      scan.addedLinePresent = addedPresent
      return scan
    }
    var scan = result(.notFound, nil, full: false, what)
    scan.addedLinePresent = addedPresent
    return scan
  }

  /// A hunk that changes only whitespace or blank lines.
  private func whitespaceOnly(_ hunk: Hunk, in file: IndexedText, path: String) -> HunkScan {
    let raw = { (kinds: Set<HunkLine.Kind>) in hunk.lines.filter { kinds.contains($0.kind) }.map(\.text) }
    let pre = raw([.context, .removed])
    let post = raw([.context, .added])
    func find(_ image: [String]) -> Int? {
      guard !image.isEmpty, image.count <= file.lines.count else { return nil }
      for p in 0...(file.lines.count - image.count)
      where file.lines[p] == image[0] && image.indices.allSatisfy({ file.lines[p + $0] == image[$0] }) {
        return p + 1
      }
      return nil
    }
    let h = hunk.header
    switch (find(post), find(pre)) {
    case (let a?, nil):
      return HunkScan(
        header: h, section: hunk.section, state: .applied, line: a, evidence: cite(path, file, a), fullImage: true,
        functionMissing: false)
    case (nil, let b?):
      return HunkScan(
        header: h, section: hunk.section, state: .notApplied, line: b, evidence: cite(path, file, b), fullImage: true,
        functionMissing: false)
    default:
      return HunkScan(
        header: h, section: hunk.section, state: .notFound, line: nil,
        evidence: "\(path): a whitespace-only change; the exact lines of neither side are found", fullImage: false,
        functionMissing: false)
    }
  }

  // MARK: The roll-up

  private func rollUp(_ patch: PatchFile, _ files: [FileScan]) -> PatchScan {
    var evidence: [String] = []
    var applied: [String] = []
    var notApplied: [String] = []
    var notFound: [String] = []
    var anchored = 0
    var missing: [String] = []
    var unreadable: [String] = []
    var allFull = true
    for f in files {
      if let problem = f.problem { unreadable.append("\(f.path): \(problem)") }
      for h in f.hunks {
        let name = "\((f.path as NSString).lastPathComponent) \(h.header)"
        evidence.append(h.evidence)
        switch h.state {
        case .applied:
          applied.append(name)
          if !h.fullImage { allFull = false }
        case .notApplied: notApplied.append(name)
        case .notFound:
          if f.problem != nil { continue }
          if h.functionMissing {
            missing.append(name)
          } else {
            notFound.append(name)
            if h.inFunction { anchored += 1 }
          }
        }
      }
    }
    let exact = !files.isEmpty && files.allSatisfy { $0.exact != nil }
    let state: ScanState
    var notes: [String] = []
    let total = applied.count + notApplied.count + notFound.count + missing.count
    if !unreadable.isEmpty {
      state = .unknown
      notes.append("cannot decide: \(unreadable.joined(separator: "; "))")
    } else if total == missing.count || (applied.isEmpty && notApplied.isEmpty && anchored == 0 && !missing.isEmpty) {
      // Nothing the patch changes is there; a hunk outside any function whose lines are not
      // found either does not make the code present.
      state = .absent
      notes.append("the code the patch changes is not in the tree")
    } else if !applied.isEmpty && !notApplied.isEmpty {
      state = .partial
      notes.append("applied: \(applied.count) hunk(s); not applied: \(notApplied.joined(separator: ", "))")
      notes += patch.buildBreaks { file, hunk in
        let state = files[file].hunks[hunk].state
        return state == .notFound ? nil : state == .applied
      }
    } else if !applied.isEmpty && notFound.isEmpty && missing.isEmpty {
      state = allFull ? .after : .adapted
    } else if !notApplied.isEmpty && applied.isEmpty && notFound.isEmpty {
      state = .before
      if !missing.isEmpty { notes.append("not in the tree: \(missing.joined(separator: ", "))") }
    } else if !notApplied.isEmpty && applied.isEmpty && notFoundAddsNothing(patch, files) {
      // The code around some hunks was reworked, but the lines the patch adds are nowhere in
      // the files: the patch is not there in this form.
      state = .before
      notes.append(
        "the code around \(notFound.count) hunk(s) differs (\(notFound.joined(separator: ", "))), and no run of lines they add is anywhere in the file: a backport must adapt them"
      )
    } else if applied.isEmpty && notApplied.isEmpty && anchored > 0 {
      state = .rewritten
      notes.append("the functions are there, but neither image of \(notFound.count) hunk(s) is")
    } else {
      state = .unknown
      notes.append(
        "cannot decide: \(applied.count) hunk(s) applied, \(notApplied.count) not applied, \(notFound.count) neither, \(missing.count) in code the tree lacks"
      )
    }
    return PatchScan(patch: patch.slug, state: state, exact: exact, evidence: evidence, notes: notes, files: files)
  }

  /// Whether no run of lines a not-found hunk adds is anywhere in its file, whole (and each
  /// adds something that says enough to be looked for).
  private func notFoundAddsNothing(_ patch: PatchFile, _ files: [FileScan]) -> Bool {
    for (diff, scan) in zip(patch.files, files) {
      for (hunk, h) in zip(diff.hunks, scan.hunks) where h.state == .notFound && !h.functionMissing {
        let added = hunk.lines.filter { $0.kind == .added }.map { normalize($0.text) }.filter { !$0.isEmpty }
        if !isSignificant(added) || h.addedLinePresent { return false }
      }
    }
    return true
  }

}

extension PatchFile {
  /// Where a tree carrying only some of this patch's hunks will not build: a function whose
  /// signature one hunk changes (definition or prototype, its argument count) while a hunk
  /// updating its callers in another file is on the other side, or the reverse.
  /// `applied(file, hunk)` says which side each hunk is on (indexes into ``files`` and
  /// their hunks), `nil` for a hunk that says neither (not found, not looked at).
  public func buildBreaks(applied: (_ file: Int, _ hunk: Int) -> Bool?) -> [String] {
    var notes: [String] = []
    // Functions whose definition or prototype a hunk changes, with their old and new arity.
    struct Change {
      let name: String
      let oldArity: Int
      let newArity: Int
      let applied: Bool
      let path: String
    }
    var changes: [Change] = []
    var calls: [(name: String, path: String, applied: Bool, arity: Int)] = []
    for (f, diff) in files.enumerated() {
      for (n, hunk) in diff.hunks.enumerated() where hunk.changes {
        guard let isApplied = applied(f, n) else { continue }
        // The hunk's two images: a signature often changes on a continuation line, with the
        // line naming the function as context.
        let pre = hunk.lines.filter { $0.kind != .added }.map(\.text).joined(separator: "\n")
        let post = hunk.lines.filter { $0.kind != .removed }.map(\.text).joined(separator: "\n")
        for name in Set(Self.definedNames(pre)).intersection(Self.definedNames(post)) {
          if let o = Self.arity(of: name, in: pre), let n = Self.arity(of: name, in: post), o != n {
            changes.append(Change(name: name, oldArity: o, newArity: n, applied: isApplied, path: diff.path))
          }
        }
        for name in Self.calledNames(pre + "\n" + post) {
          let side = isApplied ? post : pre
          if let o = Self.arity(of: name, in: pre, call: true), let n = Self.arity(of: name, in: post, call: true),
            o != n, let a = Self.arity(of: name, in: side, call: true)
          {
            calls.append((name, diff.path, isApplied, a))
          }
        }
      }
    }
    for c in changes {
      for call in calls where call.name == c.name && call.path != c.path && call.applied != c.applied {
        let file = (call.path as NSString).lastPathComponent
        let defFile = (c.path as NSString).lastPathComponent
        notes.append(
          "\(file) \(call.applied ? "calls" : "still calls") \(c.name)() with \(call.arity) arguments, but \(defFile) \(c.applied ? "now" : "still") \(c.path.hasSuffix(".h") ? "declares" : "defines") it with \(c.applied ? c.newArity : c.oldArity): will not build"
        )
      }
    }
    return Array(Set(notes)).sorted()
  }

  /// Names a text defines or declares at column 0 (`int name(`).
  private static func definedNames(_ text: String) -> [String] {
    text.split(separator: "\n").compactMap { line in
      guard let first = line.first, !first.isWhitespace, first != "#", first != "/", first != "*" else { return nil }
      return functionName(inSection: String(line))
    }
  }

  /// Names a text calls (`name(` after whitespace, `=` or `(`), indented lines only.
  private static func calledNames(_ text: String) -> Set<String> {
    var names: Set<String> = []
    for line in text.split(separator: "\n") where line.first?.isWhitespace == true {
      var rest = Substring(line)
      while let paren = rest.firstIndex(of: "(") {
        let name = String(rest[..<paren].reversed().prefix(while: isIdentifier).reversed())
        if !name.isEmpty, name.first?.isNumber == false,
          !["if", "while", "for", "switch", "return", "sizeof", "unlikely", "likely"].contains(name)
        {
          names.insert(name)
        }
        rest = rest[rest.index(after: paren)...]
      }
    }
    return names
  }

  /// The number of arguments `name(` takes in `text` (the first complete signature, or with
  /// `call` the first call: an occurrence on an indented line).
  private static func arity(of name: String, in text: String, call: Bool = false) -> Int? {
    var search = text.startIndex..<text.endIndex
    var found: Range<String.Index>?
    while let r = text.range(of: name + "(", range: search) {
      let lineStart = text[..<r.lowerBound].lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex
      let indented = text[lineStart].isWhitespace
      let whole = r.lowerBound == text.startIndex || !isIdentifier(text[text.index(before: r.lowerBound)])
      if whole && indented == call {
        found = r
        break
      }
      search = r.upperBound..<text.endIndex
    }
    guard let r = found else { return nil }
    var depth = 1
    var commas = 0
    var any = false
    for ch in text[r.upperBound...] {
      switch ch {
      case "(": depth += 1
      case ")":
        depth -= 1
        if depth == 0 { return any ? commas + 1 : 0 }
      case "," where depth == 1: commas += 1
      default: if !ch.isWhitespace { any = true }
      }
    }
    return nil
  }
}
