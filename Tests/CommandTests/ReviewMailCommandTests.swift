import Foundation
import PackageTestSupport
import Testing

/// `bo-repro review` given mails: from a file and from standard input, in each output
/// format, and bad mails answered with one line and a non-zero exit.
@Suite("bo-repro review of mails", .serialized)
struct ReviewMailCommandTests {
  static func write(_ text: String, _ name: String = "mail.eml") throws -> String {
    let dir = NSTemporaryDirectory() + "bo-repro-mail-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = dir + "/" + name
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test("an AUTOSEL mail onto the branch its subject names: text, json, email")
  func formats() throws {
    let path = try Self.write(try StableMails.autosel("gfp-retry-mayfail-readback", branch: "6.18"))
    let text = try runTool(["review", path])
    #expect(text.status == 0, "\(text.err)")
    #expect(text.out.contains("review: gfp-retry-mayfail-readback "))
    #expect(text.out.contains("recognised as gfp-retry-mayfail-readback by [ Upstream commit c6135f67aa37 ]"))
    let json = try runTool(["review", path, "--format", "json"])
    let root = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
    #expect(root["schema"] as? Int == 1)
    let recognition = try #require(root["recognition"] as? [String: Any])
    #expect(recognition["basis"] as? String == "upstream-commit")
    #expect((root["mail"] as? [String: Any])?["patchID"] is String)
    #expect(root["tree"] is NSNull)
    let email = try runTool(["review", path, "--format", "email"])
    #expect(email.status == 0)
    #expect(email.out.hasPrefix("> Subject: [PATCH AUTOSEL 6.18 04/12] "))
  }

  @Test("standard input, with - as the file")
  func standardInput() throws {
    let mail = try StableMails.review("madvise-list-move", branch: "5.15")
    let process = Process()
    process.executableURL = builtTool
    process.arguments = ["review", "-", "--format", "json"]
    process.currentDirectoryURL = URL(fileURLWithPath: packageRoot)
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    input.fileHandleForWriting.write(Data(mail.utf8))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 4)
    let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    #expect(root["patch"] as? String == "madvise-list-move")
    #expect(root["verdict"] as? String == "already-applied")
  }

  static let header = """
    From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
    From: A <a@example.org>
    Date: Tue, 19 Jul 2022 13:53:14 +0200

    """

  /// The 5.15 review mail cut in the middle of its hunk.
  static func truncated(_ counter: String = "021/167") throws -> String {
    let mail = try StableMails.review("madvise-list-move", branch: "5.15", counter: counter)
    let cut = try #require(mail.range(of: "+\t\t\tlist_move_tail"))
    return String(mail[..<cut.lowerBound])
  }

  static let badMails: [(String, @Sendable () throws -> String, String)] = [
    ("no diff", { header + "Subject: [PATCH] x\n\nJust words.\n" }, "no patch"),
    ("a truncated hunk", { try truncated() }, "the patch does not parse"),
    ("a header without a body", { "From: a@example.org\nSubject: [PATCH] x\n" }, "header"),
    (
      "a subject of 100 KB",
      {
        try StableMails.review(
          "madvise-list-move", branch: "5.15", subject: { _ in String(repeating: "x", count: 100_000) })
      },
      "Subject"
    ),
    (
      "a quilt diff",
      { header + "Subject: [PATCH] x\n\nwords\n---\n--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b\n" },
      "only git diffs are read"
    ),
  ]

  @Test("a bad mail: one line naming it, non-zero exit", arguments: 0..<5)
  func badMail(_ n: Int) throws {
    let (what, text, problem) = Self.badMails[n]
    let path = try Self.write(try text())
    let r = try runTool(["review", path, "--onto", "5.15"])
    #expect(r.status == 1, "\(what): \(r.err)")
    #expect(r.out.isEmpty, "\(what)")
    #expect(r.err.hasPrefix("bo-repro: \(path)"), "\(what): \(r.err)")
    #expect(r.err.contains(problem), "\(what): \(r.err)")
    #expect(r.err.split(separator: "\n").count == 1, "\(what): \(r.err)")
  }

  @Test("invalid encodings: not UTF-8 under an 8bit header, and base64 that is not base64")
  func invalidEncodings() throws {
    var latin = Array(try StableMails.review("madvise-list-move", branch: "5.15").utf8)
    // A byte that is not UTF-8 in the diff.
    let marker = Array("list_move_tail".utf8)
    let at = try #require((0..<(latin.count - marker.count)).first { Array(latin[$0..<($0 + marker.count)]) == marker })
    latin.insert(0xFF, at: at)
    let dir = NSTemporaryDirectory() + "bo-repro-mail-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = dir + "/latin.eml"
    try Data(latin).write(to: URL(fileURLWithPath: path))
    let r = try runTool(["review", path, "--onto", "5.15"])
    #expect(r.status == 1, "\(r.err)")
    #expect(r.err.split(separator: "\n").count == 1, "\(r.err)")
    let b64 = try Self.write(
      Self.header
        + "Subject: [PATCH] x\nContent-Transfer-Encoding: base64\n\n!!!! this is not base64 ####\n")
    let r2 = try runTool(["review", b64, "--onto", "5.15"])
    #expect(r2.status == 1, "\(r2.err)")
    #expect(r2.err.split(separator: "\n").count == 1, "\(r2.err)")
  }

  @Test("a 50 MB mbox: refused or read with one line, never a crash")
  func fiftyMegabytes() throws {
    let mail = try StableMails.review("madvise-list-move", branch: "5.15")
    // One message whose commit message runs to 50 MB: over the patch limit.
    let filler = String(repeating: "filler line of a very long commit message\n", count: 50 << 20 / 42)
    let big = mail.replacingOccurrences(of: "\ncommit ", with: "\n" + filler + "\ncommit ")
    let path = try Self.write(big, "big.mbox")
    let start = Date()
    let r = try runTool(["review", path, "--onto", "5.15"])
    #expect(r.status == 1, "\(r.err.prefix(300))")
    #expect(r.out.isEmpty)
    #expect(r.err.split(separator: "\n").count == 1, "\(r.err.prefix(300))")
    #expect(Date().timeIntervalSince(start) < 120)
  }

  @Test("a series with one unreadable message: reported on stderr, the others reviewed")
  func seriesWithABadMessage() throws {
    let good = try StableMails.review("madvise-list-move", branch: "5.15", counter: "01/02")
    let bad = try Self.truncated("02/02")
    let path = try Self.write(good + bad + "\n", "series.mbox")
    let r = try runTool(["review", path, "--format", "json"])
    #expect(r.status == 4, "\(r.err)")
    let root = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
    #expect((root["reviews"] as? [Any])?.count == 1)
    #expect((root["unreadable"] as? [[String: Any]])?.first?["index"] as? Int == 2)
    #expect(r.err.contains("#2: unreadable, skipped: "))
  }
}
