import PatchMail
import Testing

/// `Mbox` against `git mailsplit` and `git am --patch-format=mboxrd`: CRLF becomes LF, and one
/// `>` comes off a line matching `^>+From `; nothing else is touched.
@Suite("mbox: splitting and unquoting")
struct MboxTests {
  static let separator = "From 9fc33eaaa979d112d10fea729edcd2a2e21aa912 Mon Sep 17 00:00:00 2001"

  /// One body line, as written in the mailbox, and as the message holds it.
  @Test(
    "mboxrd: one > comes off a quoted From line",
    arguments: [
      (">From the start", "From the start"),
      (">>From a quote", ">From a quote"),
      (">>>From deeper", ">>From deeper"),
      ("> From with a space", "> From with a space"),
      (">From: a header-like line", ">From: a header-like line"),
      (">Fromage", ">Fromage"),
      ("a line\r", "a line"),
      (">From with CRLF\r", "From with CRLF"),
    ])
  func unquote(_ written: String, _ read: String) throws {
    let text = "\(Self.separator)\nSubject: x\n\n\(written)\nend\n"
    let mbox = try Mbox(bytes: Array(text.utf8), source: "t.mbox")
    let entry = try #require(mbox.entries.first)
    #expect(mbox.entries.count == 1)
    #expect(entry.separator == Self.separator)
    #expect(String(decoding: entry.bytes, as: UTF8.self) == "Subject: x\n\n\(read)\nend\n")
  }
}
