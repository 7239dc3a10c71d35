import Foundation
import PackageTestSupport
import Testing

/// The bad-input sweep from the command line: every class of malformed patch, scenario and
/// branch file, and unknown commands and options, gives one line on stderr naming the file,
/// the place and the problem, nothing on stdout, and a non-zero exit; none crashes.
@Suite("Bad input from the command line", .serialized)
struct BadInputTests {
  /// A kind of input file and the command that reads it.
  enum Kind: String, Sendable {
    case patch, scenario, branches

    func command(_ path: String) -> [String] {
      switch self {
      case .patch: ["patches", "--dir", (path as NSString).deletingLastPathComponent]
      case .scenario: ["run", path]
      case .branches: ["matrix", "--branches", path]
      }
    }
  }

  struct Case: Sendable, CustomTestStringConvertible {
    let kind: Kind
    let what: String
    /// The file's text, from a real file edited, or whole.
    let text: @Sendable () throws -> String
    /// What the one stderr line must contain besides the file name.
    let problem: String
    var testDescription: String { "\(kind.rawValue): \(what)" }
  }

  static func edit(_ path: String, _ replace: String, _ with: String) -> @Sendable () throws -> String {
    {
      let text = try String(contentsOfFile: packageRoot + "/" + path, encoding: .utf8)
      guard text.contains(replace) else { throw CocoaError(.fileReadCorruptFile) }
      return text.replacingOccurrences(of: replace, with: with)
    }
  }

  static let scenario = "fixtures/scenarios/gfp-retry-mayfail-readback--readback-under-pressure.json"

  static let cases: [Case] = [
    Case(
      kind: .patch, what: "a miscounted hunk",
      text: edit("patches/madvise-list-move.patch", "@@ -433,8 +433,8 @@", "@@ -433,9 +433,8 @@"),
      problem: ":37: hunk @@ -433,9 +433,8 @@"),
    Case(
      kind: .patch, what: "a truncated hunk",
      text: {
        String(
          try String(contentsOfFile: packageRoot + "/patches/madvise-list-move.patch", encoding: .utf8).prefix(1500))
      },
      problem: "hunk @@ -433,8 +433,8 @@"),
    Case(
      kind: .patch, what: "missing headers",
      text: edit(
        "patches/madvise-list-move.patch",
        "Subject: [PATCH] drm/panfrost: Fix shrinker list corruption by madvise IOCTL\n",
        ""),
      problem: "missing 'Subject:' header"),
    Case(
      kind: .patch, what: "binary junk",
      text: { "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n\u{0}\u{1}\u{2}junk\n" },
      problem: ":2: a NUL byte: binary data, not a text patch"),
    Case(
      kind: .patch, what: "a hunk header number larger than Int",
      text: edit("patches/madvise-list-move.patch", "@@ -433,8 +433,8 @@", "@@ -99999999999999999999999,8 +433,8 @@"),
      problem:
        ":26: hunk header @@ -99999999999999999999999,8 +433,8 @@ in drivers/gpu/drm/panfrost/panfrost_drv.c: the number 99999999999999999999999 is out of range"
    ),
    Case(
      kind: .patch, what: "a path outside the tree",
      text: edit("patches/madvise-list-move.patch", "+++ b/drivers/gpu/drm/panfrost/panfrost_drv.c", "+++ b/../x.c"),
      problem: "invalid path '../x.c'"),
    Case(
      kind: .scenario, what: "a terminal escape in a title",
      text: edit(scenario, "\"title\": \"", "\"title\": \"\\u001b[2J"),
      problem: "title: contains the control character U+1B"),
    Case(
      kind: .branches, what: "a terminal escape in a branch name",
      text: edit("fixtures/stable-branches.json", "\"name\": \"5.10.y\"", "\"name\": \"5.10.y\\u001b]0;owned\\u0007\""),
      problem: "branches[0].name: contains the control character U+1B"),
    Case(
      kind: .scenario, what: "a wrong type",
      text: edit(scenario, "\"memoryPages\": 512", "\"memoryPages\": \"lots\""),
      problem: "setup.memoryPages"),
    Case(
      kind: .scenario, what: "an unknown key",
      text: edit(scenario, "\"memoryPages\": 512", "\"memoryPages\": 512, \"ramGiB\": 4"),
      problem: "ramGiB"),
    Case(
      kind: .scenario, what: "negative memory",
      text: edit(scenario, "\"memoryPages\": 512", "\"memoryPages\": -5"),
      problem: "setup.memoryPages"),
    Case(
      kind: .scenario, what: "an order above 10",
      text: edit(scenario, "\"memoryPages\": 512", "\"memoryPages\": 512, \"poolOrder\": 11"),
      problem: "setup.poolOrder: must be from 0 to 10, got 11"),
    Case(
      kind: .scenario, what: "an unknown patch slug",
      text: edit(scenario, "\"patch\": \"gfp-retry-mayfail-readback\"", "\"patch\": \"gfp-fix\""),
      problem: "unknown patch \"gfp-fix\""),
    Case(
      kind: .scenario, what: "not JSON",
      text: { "{\"patch\": " },
      problem: "line 1"),
    Case(
      kind: .branches, what: "a wrong type",
      text: edit("fixtures/stable-branches.json", "\"name\": \"5.10.y\"", "\"name\": 510"),
      problem: "branches[0].name: expected a non-empty string"),
    Case(
      kind: .branches, what: "an unknown key",
      text: edit("fixtures/stable-branches.json", "\"name\": \"5.10.y\"", "\"name\": \"5.10.y\", \"eol\": true"),
      problem: "branches[0]: unknown key 'eol'"),
    Case(
      kind: .branches, what: "an unknown patch slug",
      text: edit("fixtures/stable-branches.json", "\"madvise-list-move\": {", "\"madvise-fix\": {"),
      problem: "unknown patch slug 'madvise-fix'"),
    Case(
      kind: .branches, what: "an impossible state",
      text: edit(
        "fixtures/stable-branches.json",
        "\"gfp-retry-mayfail-readback\": {\n          \"state\": \"absent\"",
        "\"gfp-retry-mayfail-readback\": {\n          \"state\": \"after\""),
      problem: "'after' contradicts 'shmem-backup-v14' being 'before'"),
  ]

  @Test("a malformed file: one line naming it, the place and the problem", arguments: cases)
  func malformed(_ c: Case) throws {
    let dir = NSTemporaryDirectory() + "bo-repro-bad-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/bad." + (c.kind == .patch ? "patch" : "json")
    try c.text().write(toFile: path, atomically: true, encoding: .utf8)
    let r = try runTool(c.kind.command(path))
    #expect(r.status == 1, "\(r.err)")
    #expect(r.out.isEmpty)
    #expect(r.err.hasPrefix("bo-repro: \(path)"), "\(r.err)")
    #expect(r.err.contains(c.problem), "\(r.err)")
    #expect(r.err.split(separator: "\n").count == 1)
  }

  @Test(
    "unknown commands and options",
    arguments: [
      (["frobnicate"], "bo-repro: unknown command 'frobnicate' (try 'bo-repro help')"),
      (["matrix", "--frob", "1"], "bo-repro: unknown option --frob for 'matrix'"),
      (["review", "x", "--onto", "6.18.y", "--fast", "1"], "bo-repro: unknown option --fast for 'review'"),
      (["run", "--verbose", "1"], "bo-repro: unknown option --verbose for 'run'"),
      (["explore", "madvise", "--bos", "0"], "bo-repro: --bos must be an integer from 1 to 6, got '0'"),
    ] as [([String], String)])
  func unknownCommandOrOption(_ args: [String], _ message: String) throws {
    let r = try runTool(args)
    #expect(r.status == 64)
    #expect(r.out.isEmpty)
    #expect(r.err == message + "\n")
  }
}
