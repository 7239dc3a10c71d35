import Foundation
import PackageTestSupport
import PatchMail
import PatchText
import Testing

/// `git patch-id` (stable-formats.md section 3, pitfalls 7, 8, 13): the ids recorded there,
/// and the real `git patch-id` on every patch in patches/ and on variants of each, in all
/// three modes.
@Suite struct PatchIDTests {
  /// The three ways `git patch-id` is run, and the same computation here.
  enum Mode: String, CaseIterable, Sendable {
    case stable, unstable, verbatim

    /// The option given to `git patch-id`.
    var flag: String { "--" + rawValue }

    /// Ours, printed as git prints it. git's `--verbatim` implies `--stable`.
    func ours(_ text: String) -> String {
      PatchID.compute(text, stable: self != .unstable, verbatim: self == .verbatim).map { "\($0)\n" }.joined()
    }
  }

  /// Why a comparison with git could not be made.
  struct GitUnavailable: Error, CustomStringConvertible {
    let description: String
  }

  /// The real `git patch-id <mode>` on `text` (its UTF-8 bytes on stdin), run in a temporary
  /// directory so that no repository's configuration applies.
  static func git(_ text: String, _ mode: Mode) throws -> String {
    let input = NSTemporaryDirectory() + "bo-repro-patch-id-\(UInt64.random(in: 0...UInt64.max))"
    try Data(text.utf8).write(to: URL(fileURLWithPath: input))
    defer { try? FileManager.default.removeItem(atPath: input) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git", "patch-id", mode.flag]
    process.currentDirectoryURL = URL(fileURLWithPath: NSTemporaryDirectory())
    let stdin = try FileHandle(forReadingFrom: URL(fileURLWithPath: input))
    defer { try? stdin.close() }
    let out = Pipe()
    let err = Pipe()
    process.standardInput = stdin
    process.standardOutput = out
    process.standardError = err
    do {
      try process.run()
    } catch {
      throw GitUnavailable(
        description: "could not run /usr/bin/env git patch-id (\(error)); these tests need git on PATH")
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw GitUnavailable(
        description: "git patch-id \(mode.flag) exited \(process.terminationStatus): "
          + "\(String(decoding: errData, as: UTF8.self)); these tests compare with the real git and need it on PATH")
    }
    return String(decoding: outData, as: UTF8.self)
  }

  /// Asserts that ours equals git's on `text` in every mode; returns git's outputs.
  @discardableResult
  static func expectSameAsGit(
    _ text: String, _ label: String, sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> [Mode: String] {
    var outputs: [Mode: String] = [:]
    for mode in Mode.allCases {
      let theirs = try git(text, mode)
      #expect(mode.ours(text) == theirs, "\(label) \(mode.flag)", sourceLocation: sourceLocation)
      outputs[mode] = theirs
    }
    return outputs
  }

  // MARK: - Known values

  @Test("the ids recorded in stable-formats.md section 3")
  func knownValues() throws {
    let madvise = try patchText("madvise-list-move")
    let expected = PatchIDTests.madviseID
    for stable in [true, false] {
      let ids = PatchID.compute(madvise, stable: stable)
      #expect(ids.map(\.id) == [expected])
      #expect(ids.map(\.commit) == ["9fc33eaaa979d112d10fea729edcd2a2e21aa912"])
      #expect(ids.map(\.description) == ["\(expected) 9fc33eaaa979d112d10fea729edcd2a2e21aa912"])
    }
    #expect(PatchID.compute(madvise, verbatim: true).map(\.id) == ["b6fb70f6dc15cb648d931e5045c82e5d2dfba741"])

    let gfp = try patchText("gfp-retry-mayfail-readback")
    let reversed = Variant.reversedFiles.apply(to: gfp)
    #expect(reversed != gfp)
    #expect(PatchID.compute(gfp).map(\.id) == ["89c3b41e99b1ed449254c3f7d32d852f750d46b4"])
    #expect(PatchID.compute(reversed).map(\.id) == ["89c3b41e99b1ed449254c3f7d32d852f750d46b4"])
    #expect(PatchID.compute(gfp, stable: false).map(\.id) == ["d89e715988f3d96659b8a7b0fb71da16e72e0552"])
    #expect(PatchID.compute(reversed, stable: false).map(\.id) == ["0decd8b04c80022875fa8dc93afd69cf9ea567e6"])
    #expect(PatchID.compute(gfp).map(\.commit) == ["c6135f67aa37a4a744869f726d706bda091e6dfa"])
  }

  static let madviseID = "f5269fb004d539009b157500a2fee9e1bfa8587c"

  /// What the section 3 table says of madvise-list-move's variants, without git.
  @Test("line numbers, index ids, whitespace and the separator do not change the id; a body commit line names it")
  func madviseVariants() throws {
    let madvise = try patchText("madvise-list-move")
    for variant in [Variant.lineNumbers, .indexIDs, .whitespace, .crlf, .reversedFiles, .noNewlineMarker] {
      #expect(PatchID.compute(variant.apply(to: madvise)).map(\.id) == [PatchIDTests.madviseID], "\(variant)")
    }
    let body = PatchID.compute(Variant.bodyCommitLine.apply(to: madvise))
    #expect(body.map(\.description) == ["\(PatchIDTests.madviseID) 9fc33eaaa979d112d10fea729edcd2a2e21aa912"])
    let diffOnly = PatchID.compute(Variant.diffOnly.apply(to: madvise))
    #expect(diffOnly.map(\.description) == ["\(PatchIDTests.madviseID) " + String(repeating: "0", count: 40)])
    #expect(PatchID.compute(Variant.quilt.apply(to: madvise)).isEmpty)
    #expect(
      PatchID.compute(Variant.whitespace.apply(to: madvise), verbatim: true).map(\.id) != [PatchIDTests.madviseID])
  }

  @Test("the byte digest under the hex SHA-1")
  func sha1Digest() {
    let digest = GitBlob.sha1Digest(Array("abc".utf8))
    #expect(digest.count == 20)
    #expect(digest.map { String(format: "%02x", $0) }.joined() == "a9993e364706816aba3e25717850c26c9cd0d89d")
    #expect(GitBlob.sha1Digest([]).first == 0xDA && GitBlob.sha1Digest([]).last == 0x09)
  }

  // MARK: - Against the real git

  /// A change made to a patch before both git and this package compute its id.
  enum Variant: String, CaseIterable, Sendable {
    case asIs
    /// The files in reverse order (--stable must not care; --unstable does).
    case reversedFiles
    /// Every file's hunks in reverse order.
    case hunksReversed
    /// The first file's first hunk moved to the end of the last file.
    case hunkMovedToOtherFile
    /// Other line numbers and function context in every `@@` line.
    case lineNumbers
    /// Other blob ids in every `index` line.
    case indexIDs
    /// Tabs to four spaces, three trailing spaces and `( ` in every hunk line.
    case whitespace
    /// Separator id `2222…` and a body line `commit <40 hex> upstream.`.
    case bodyCommitLine
    /// Every line ended by CRLF.
    case crlf
    /// `\ No newline at end of file` after every file's last line.
    case noNewlineMarker
    /// A mode-only file diff first and last.
    case modeOnlyFiles
    /// A `GIT binary patch` file diff after the first file and a `Binary files` one last.
    case binaryFiles
    /// Quilt form: no `diff ` and no `index` lines.
    case quilt
    /// Only from the first `diff ` on: no commit id.
    case diffOnly
    /// madvise-list-move (or gfp-retry-mayfail-readback) appended: two patches.
    case concatenated
    /// Every hunk's counts one too large: the patch runs on into the signature.
    case countsTooLarge
    /// Every hunk's counts one too small: the patch ends early.
    case countsTooSmall
    /// The text cut in the middle of its last hunk.
    case truncated

    func apply(to text: String) -> String {
      var patch = SplitPatch(text)
      switch self {
      case .asIs: break
      case .reversedFiles: patch.files.reverse()
      case .hunksReversed:
        for i in patch.files.indices { patch.files[i].hunks.reverse() }
      case .hunkMovedToOtherFile:
        if patch.files.count > 1, !patch.files[0].hunks.isEmpty {
          let hunk = patch.files[0].hunks.removeFirst()
          patch.files[patch.files.count - 1].hunks.append(hunk)
        }
      case .lineNumbers:
        patch.mapHunkHeaders { header in
          guard let m = header.wholeMatch(of: /@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@.*/),
            let old = Int(m.1), let new = Int(m.3)
          else { return header }
          return "@@ -\(old + 100)\(m.2 ?? "") +\(new + 117)\(m.4 ?? "") @@ static int other_context(void)"
        }
      case .indexIDs:
        for i in patch.files.indices {
          patch.files[i].header = patch.files[i].header.map {
            $0.hasPrefix("index ") ? $0.replacing(/[0-9a-f]+\.\.[0-9a-f]+/, with: "1234567..89abcde") : $0
          }
        }
      case .whitespace:
        patch.mapHunkLines { line in
          line.replacingOccurrences(of: "\t", with: "    ").replacingOccurrences(of: "(", with: "( ") + "   "
        }
      case .bodyCommitLine:
        patch.preamble = patch.preamble.map {
          $0.hasPrefix("From ") && !$0.hasPrefix("From: ")
            ? "From \(String(repeating: "2", count: 40)) Mon Sep 17 00:00:00 2001" : $0
        }
        if let blank = patch.preamble.firstIndex(of: "") {
          patch.preamble.insert(
            contentsOf: ["commit 9fc33eaaa979d112d10fea729edcd2a2e21aa912 upstream.", ""], at: blank + 1)
        }
      case .crlf: return patch.text.replacingOccurrences(of: "\n", with: "\r\n")
      case .noNewlineMarker:
        for i in patch.files.indices where !patch.files[i].hunks.isEmpty {
          patch.files[i].hunks[patch.files[i].hunks.count - 1].append("\\ No newline at end of file")
        }
      case .modeOnlyFiles:
        let mode = FileDiff(
          header: ["diff --git a/scripts/run.sh b/scripts/run.sh", "old mode 100644", "new mode 100755"], hunks: [])
        patch.files = [mode] + patch.files + [mode]
      case .binaryFiles:
        let literal = FileDiff(
          header: [
            "diff --git a/fw/blob.bin b/fw/blob.bin", "index 1111111..2222222 100644", "GIT binary patch",
            "literal 5", "McmZQzWMXCj0000Y01Ze1X8-^I", "", "literal 0", "HcmV?d00001", "",
          ], hunks: [])
        let plain = FileDiff(
          header: [
            "diff --git a/fw/other.bin b/fw/other.bin", "index 3333333..4444444 100644",
            "Binary files a/fw/other.bin and b/fw/other.bin differ",
          ], hunks: [])
        patch.files.insert(literal, at: min(1, patch.files.count))
        patch.files.append(plain)
      case .quilt:
        for i in patch.files.indices {
          patch.files[i].header.removeAll { $0.hasPrefix("diff ") || $0.hasPrefix("index ") }
        }
      case .diffOnly: patch.preamble = []
      case .concatenated:
        let other = text.contains("9fc33eaaa979") ? "gfp-retry-mayfail-readback" : "madvise-list-move"
        return text + ((try? patchText(other)) ?? "")
      case .countsTooLarge, .countsTooSmall:
        let delta = self == .countsTooLarge ? 1 : -1
        patch.mapHunkHeaders { header in
          guard let m = header.prefixMatch(of: /@@ -(\d+),(\d+) \+(\d+),(\d+) @@/), let b = Int(m.2), let d = Int(m.4)
          else { return header }
          return "@@ -\(m.1),\(max(b + delta, 0)) +\(m.3),\(max(d + delta, 0)) @@" + header[m.range.upperBound...]
        }
      case .truncated:
        guard let last = patch.files.indices.last, let hunk = patch.files[last].hunks.indices.last else { break }
        let lines = patch.files[last].hunks[hunk]
        patch.files[last].hunks[hunk] = Array(lines.prefix(max(lines.count / 2, 1)))
        patch.trailer = []
      }
      return patch.text
    }
  }

  /// One file's diff: its header lines (`diff `, `index`, `---`, `+++`, …), then its hunks,
  /// each a `@@` line and its body.
  struct FileDiff {
    var header: [String]
    var hunks: [[String]]
  }

  /// A patch split where `git format-patch` puts its parts: everything before the first
  /// `diff ` line, the file diffs, and the `-- ` signature on.
  struct SplitPatch {
    var preamble: [String]
    var files: [FileDiff]
    var trailer: [String]

    init(_ text: String) {
      let lines = text.components(separatedBy: "\n")
      let first = lines.firstIndex { $0.hasPrefix("diff ") } ?? lines.count
      let end = lines.lastIndex(of: "-- ").flatMap { $0 > first ? $0 : nil } ?? lines.count
      preamble = Array(lines[..<first])
      trailer = Array(lines[end...])
      files = []
      for line in lines[first..<end] {
        if line.hasPrefix("diff ") {
          files.append(FileDiff(header: [line], hunks: []))
        } else if line.hasPrefix("@@ ") {
          files[files.count - 1].hunks.append([line])
        } else if files[files.count - 1].hunks.isEmpty {
          files[files.count - 1].header.append(line)
        } else {
          files[files.count - 1].hunks[files[files.count - 1].hunks.count - 1].append(line)
        }
      }
    }

    /// The lines joined again; unchanged parts give the text back byte for byte.
    var text: String {
      (preamble + files.flatMap { $0.header + $0.hunks.flatMap { $0 } } + trailer).joined(separator: "\n")
    }

    mutating func mapHunkHeaders(_ transform: (String) -> String) {
      for f in files.indices {
        for h in files[f].hunks.indices { files[f].hunks[h][0] = transform(files[f].hunks[h][0]) }
      }
    }

    /// Changes the `-`, `+` and context lines of every hunk (not the blank line git
    /// format-patch leaves before the signature).
    mutating func mapHunkLines(_ transform: (String) -> String) {
      for f in files.indices {
        for h in files[f].hunks.indices {
          for l in files[f].hunks[h].indices.dropFirst() {
            let line = files[f].hunks[h][l]
            if let c = line.first, "+- ".contains(c) { files[f].hunks[h][l] = transform(line) }
          }
        }
      }
    }
  }

  @Test("every patch and every variant: the same as git patch-id", arguments: patchFileNames(), Variant.allCases)
  func sameAsGit(_ name: String, _ variant: Variant) throws {
    let original = try String(contentsOfFile: "\(patchesDirectory)/\(name)", encoding: .utf8)
    let text = variant.apply(to: original)
    let git = try PatchIDTests.expectSameAsGit(text, "\(name) \(variant)")
    switch variant {
    case .quilt: #expect(git.values.allSatisfy { $0.isEmpty }, "a quilt patch has no patch-id")
    case .concatenated: #expect(git[.stable]?.split(separator: "\n").count == 2)
    case .countsTooSmall, .countsTooLarge: break  // what follows a miscounted hunk can read as more patches
    default: #expect(git[.stable]?.split(separator: "\n").count == 1)
    }
  }

  /// Diffs built here: the shapes the patches in patches/ do not have.
  static let constructed: [(label: String, text: String)] = [
    ("mode-only", "diff --git a/x b/x\nold mode 100644\nnew mode 100755\n"),
    (
      "mode and content",
      "diff --git a/x b/x\nold mode 100644\nnew mode 100755\nindex 1..2\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"
    ),
    (
      "rename",
      "diff --git a/x b/y\nsimilarity index 90%\nrename from x\nrename to y\nindex 1..2 100644\n--- a/x\n+++ b/y\n"
        + "@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
    ),
    (
      "GIT binary patch",
      "diff --git a/x.bin b/x.bin\nindex 1111111..2222222 100644\nGIT binary patch\nliteral 5\n"
        + "McmZQzWMXCj0000Y01Ze1X8-^I\n\nliteral 0\nHcmV?d00001\n\n"
    ),
    (
      "GIT binary patch, other post-image id",
      "diff --git a/x.bin b/x.bin\nindex 1111111..3333333 100644\nGIT binary patch\nliteral 5\n"
        + "McmZQzWMXCj0000Y01Ze1X8-^I\n\nliteral 0\nHcmV?d00001\n\n"
    ),
    (
      "Binary files, then a text file",
      "diff --git a/x.bin b/x.bin\nindex 1111111..2222222\nBinary files a/x.bin and b/x.bin differ\n"
        + "diff --git a/y b/y\nindex 3..4 100644\n--- a/y\n+++ b/y\n@@ -1 +1 @@\n-a\n+b\n"
    ),
    (
      "binary without an index line: the previous patch's blob ids (git: uninitialised, in practice kept)",
      "From 1111111111111111111111111111111111111111 x\ndiff --git a/x b/x\nindex 5555555..6666666\nGIT binary patch\n"
        + "From 2222222222222222222222222222222222222222 x\ndiff --git a/x b/x\nGIT binary patch\n"
    ),
    (
      "new file, @@ -0,0 +1 @@",
      "diff --git a/n b/n\nnew file mode 100644\nindex 0000000..1234567\n--- /dev/null\n+++ b/n\n@@ -0,0 +1 @@\n+x\n"
    ),
    ("no newline at the end", "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b"),
    ("short backslash line", "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n\\ short\n+b\n"),
    (
      "vertical tab and form feed are not whitespace to git",
      "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\u{0B}\n+b\u{0C}\n"
    ),
    (
      "upper-case commit id",
      "From 9FC33EAAA979D112D10FEA729EDCD2A2E21AA912 Mon\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n"
    ),
    (
      "bare id line, then diff -u",
      "0123456789abcdef0123456789abcdef01234567\nmessage\ndiff -u a b\n--- a\n+++ b\n@@ -1 +1 @@\n-a\n+b\n"
    ),
    (
      "@@ -1,0 +1,2 @@ then context: before goes back to -1",
      "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,0 +1,2 @@\n c\n+d\n+e\n"
    ),
    (
      "function text with digits and commas",
      "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -10,2 +10,2 @@ int f(int a, int b) 3,4 +5\n a\n-b\n+c\n"
    ),
    ("NUL in a line", "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\u{0}junk\n+b\n"),
    ("only a diff line", "diff "),
    ("nothing", ""),
    ("a mail without a diff", "From 9fc33eaaa979d112d10fea729edcd2a2e21aa912 Mon\nSubject: x\n\nbody\n"),
  ]

  @Test("constructed diffs: the same as git patch-id", arguments: constructed.map(\.label))
  func constructedSameAsGit(_ label: String) throws {
    let text = try #require(PatchIDTests.constructed.first { $0.label == label }).text
    try PatchIDTests.expectSameAsGit(text, label)
  }

  /// Counts are read as git-new reads them (`strtoi_with_tail`), not as git 2.39.5 did
  /// (`atoi`), so these are not compared with the installed git.
  @Test("a count after a space is read; a count beyond int stops the scan")
  func hunkCountsAsStrtol() {
    let head = "diff --git a/x b/x\n--- a/x\n+++ b/x\n"
    let tail = "\n-a\n+b\n@@ -5 +5 @@\n-c\n+d\n"
    let wellFormed = PatchID.compute(head + "@@ -1,1 +1,1 @@" + tail)
    #expect(PatchID.compute(head + "@@ -1, 1 +1,1 @@" + tail) == wellFormed)
    #expect(PatchID.compute(head + "@@ -1,+1 +1, 1 @@" + tail) == wellFormed)
    // The counts stay 0/0, so `-a` is neither `@@ -` nor `diff ` and ends the patch: only
    // the three header lines are hashed.
    let stopped = PatchID.compute(head)
    #expect(PatchID.compute(head + "@@ -1,4294967297 +1,1 @@" + tail) == stopped)
    #expect(PatchID.compute(head + "@@ -1,99999999999999999999 +1,1 @@" + tail) == stopped)
  }

  @Test("a binary diff hashes its index blob ids")
  func binaryIDs() {
    let texts = PatchIDTests.constructed.filter { $0.label.hasPrefix("GIT binary patch") }.map(\.text)
    #expect(texts.count == 2)
    #expect(Set(texts.map { PatchID.compute($0) }).count == 2)
  }

  // MARK: - Robustness

  /// SplitMix64: a fixed sequence, so a failure can be replayed.
  struct Generator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
  }

  /// Lines patch-id reacts to, and some it should not.
  static let vocabulary = [
    "diff --git a/f b/f", "diff -u a b", "index 1234567..89abcde 100644", "index 1234567..89abcde", "index junk",
    "--- a/f", "+++ b/f", "@@ -1,3 +1,3 @@ int f(void)", "@@ -1 +1 @@", "@@ -0,0 +1,2 @@", "@@ -5,2 +5 @@",
    "@@ -1,999999999 +1,999999999 @@", "@@ -x +y @@", "@@ -", "@@ -1,2", "@@ -1,2 +", "-a", "+b", " c", "-\tx  y\r",
    "+\u{0B}z", "\\ No newline at end of file", "\\ x", "new file mode 100644", "old mode 100644", "rename from f", "",
    "-- ", "2.39.5", "Subject: [PATCH] x", "commit 0123456789abcdef0123456789abcdef01234567 upstream.",
    "From fedcba9876543210fedcba9876543210fedcba98 Mon Sep 17 00:00:00 2001", "caf\u{E9} \u{1F600}", "1,2 +3",
  ]

  static func garbage(seed: UInt64, documents: Int) -> String {
    var rng = Generator(state: seed)
    var text = ""
    for _ in 0..<documents {
      for _ in 0..<Int.random(in: 1...40, using: &rng) {
        text += vocabulary[Int.random(in: 0..<vocabulary.count, using: &rng)] + "\n"
      }
    }
    return text
  }

  @Test("random patch-like lines: the same as git patch-id", arguments: Array(1...8) as [UInt64])
  func garbageSameAsGit(_ seed: UInt64) throws {
    try PatchIDTests.expectSameAsGit(PatchIDTests.garbage(seed: seed, documents: 300), "seed \(seed)")
  }

  @Test("absurd counts, truncated hunks, every prefix of a patch: the same as git, and fast")
  func absurdCounts() throws {
    let madvise = try patchText("madvise-list-move")
    let absurd = madvise.replacingOccurrences(
      of: "@@ -433,8 +433,8 @@", with: "@@ -1,999999999 +1,999999999 @@")
    #expect(absurd != madvise)
    try PatchIDTests.expectSameAsGit(absurd, "999999999")
    try PatchIDTests.expectSameAsGit(absurd + madvise, "999999999 then a patch")

    // Every prefix of a patch with three files: each cut is a truncated hunk or header.
    let gfp = try patchText("gfp-retry-mayfail-readback")
    let lines = gfp.components(separatedBy: "\n")
    var prefixes = ""
    for n in stride(from: 20, through: lines.count, by: 3) {
      let id = String(n, radix: 16)
      prefixes +=
        "From \(String(repeating: "0", count: 40 - id.count) + id)\n" + lines.prefix(n).joined(separator: "\n") + "\n"
    }
    try PatchIDTests.expectSameAsGit(prefixes, "prefixes")

    // Long inputs stay linear: a hunk that never ends, and many tiny patches.
    let clock = ContinuousClock()
    let start = clock.now
    let endless =
      "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2147483647 +1,2147483647 @@\n"
      + String(repeating: "+ line\n-\tother\n", count: 50_000)
    #expect(PatchID.compute(endless, stable: false).count == 1)
    let many = String(repeating: "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", count: 20_000)
    #expect(PatchID.compute(many).count == 1)
    let ids = String(repeating: "commit 0123456789abcdef0123456789abcdef01234567\ndiff x\n", count: 20_000)
    #expect(PatchID.compute(ids).count == 20_000)
    #expect(clock.now - start < .seconds(20))
  }

  @Test("malformed @@ lines and odd bytes do not trap")
  func noTrap() {
    let heads = [
      "@@ -", "@@ -,", "@@ -1,", "@@ -1, +1 @@", "@@ -1,-2147483648 +1,-2147483648 @@", "@@ -1,-2147483649 +1,1 @@",
      "@@ -1,99999999999999999999999999 +1,9 @@", "@@ -1,2147483647 +1,2147483647 @@", "@@ -1,+3 +1,\t4 @@",
      "@@ -99999999999999999999,1 +1 @@", "@@ -1 +", "@@ -1 +,", "@@ -1 +1,",
    ]
    for head in heads {
      for tail in ["", "\n", "\n-a\n+b\n c\n", "\n\\ No newline at end of file"] {
        let text = "diff --git a/x b/x\nindex ..\n--- a/x\n+++ b/x\n" + head + tail
        _ = PatchID.compute(text, stable: true)
        _ = PatchID.compute(text, stable: false, verbatim: true)
      }
    }
    var rng = Generator(state: 42)
    for _ in 0..<200 {
      let bytes = (0..<Int.random(in: 0...300, using: &rng)).map { _ in
        [
          UInt8(ascii: "\n"), 0, UInt8(ascii: "@"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: " "),
          UInt8(ascii: ","), UInt8(ascii: "1"), UInt8(ascii: "d"), UInt8(ascii: "\\"), UInt8(ascii: "."),
          UInt8.random(in: 0...255, using: &rng),
        ][Int.random(in: 0..<12, using: &rng)]
      }
      let text = "diff --git a/x b/x\n--- a/x\n+++ b/x\n" + String(decoding: bytes, as: UTF8.self)
      _ = PatchID.compute(text)
      _ = PatchID.compute(text, stable: false)
    }
  }
}
