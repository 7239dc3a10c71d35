import Foundation

/// The limits every mailbox read is held to, so that no input can trap, hang or exhaust
/// memory: a larger input is refused with one line.
public enum MailLimits {
  /// The largest mailbox, in bytes: 64 MiB (a stable review series of several hundred
  /// patches runs to a few MB).
  public static let maxMailboxBytes = 64 << 20
  /// The most messages in one mailbox.
  public static let maxMessages = 10_000
  /// The longest header, unfolded: 256 KiB. (A patch mail's subject is held to 4 KiB when it
  /// is read as a patch mail; a longer header is read, then refused there with its size.)
  public static let maxHeaderBytes = 256 << 10
  /// The deepest nesting of multipart parts.
  public static let maxMIMEDepth = 8
}

/// Why a mailbox or a message could not be read: one line, `source: message`.
public struct MailError: Error, Hashable, Sendable, CustomStringConvertible {
  public var source: String
  public var message: String
  public init(source: String, message: String) {
    self.source = source
    self.message = message
  }
  public var description: String { "\(source): \(message)" }
}

/// A mailbox split into its messages as `git mailsplit` splits it.
public struct Mbox: Sendable {
  /// One message.
  public struct Entry: Sendable {
    /// The `From ...` separator line, `nil` when the file has none before this message (a
    /// single saved message, or a bare patch).
    public let separator: String?
    /// The message without its separator line: CRLF turned into LF, `>From ` unquoted.
    public let bytes: [UInt8]
    /// The 1-based line of the file where the message starts.
    public let firstLine: Int

    public init(separator: String?, bytes: [UInt8], firstLine: Int) {
      self.separator = separator
      self.bytes = bytes
      self.firstLine = firstLine
    }
  }

  public let entries: [Entry]

  /// Splits `bytes` at every line `git mailsplit` takes for a separator (``isFromLine(_:)``).
  /// Text before the first separator is a message of its own when it is not blank (a saved
  /// message starting with its headers, a bare patch), where `git mailsplit` would refuse the
  /// file. On every line CRLF becomes LF (mailsplit's default), and one `>` is removed from a
  /// line matching `^>+From ` (`git am --patch-format=mboxrd`): applied always, since it can
  /// only touch the commit message (a hunk line starts with a space, `+` or `-`), and
  /// `git format-patch --pretty=mboxrd` and b4 quote those lines.
  public init(bytes: [UInt8], source: String) throws(MailError) {
    guard bytes.count <= MailLimits.maxMailboxBytes else {
      throw MailError(
        source: source, message: "larger than the \(MailLimits.maxMailboxBytes >> 20) MiB a mailbox may be")
    }
    var entries: [Entry] = []
    var current: [UInt8] = []
    current.reserveCapacity(min(bytes.count, 1 << 20))
    var separator: String?
    var startLine = 1
    var lineNumber = 0
    var sawAny = false
    var start = 0
    func flush() throws(MailError) {
      let blank = current.allSatisfy { $0 == 0x0A || $0 == 0x20 || $0 == 0x09 }
      if separator != nil || !blank {
        guard entries.count < MailLimits.maxMessages else {
          throw MailError(
            source: source, message: "more than the \(MailLimits.maxMessages) messages a mailbox may hold")
        }
        entries.append(Entry(separator: separator, bytes: current, firstLine: startLine))
      }
      current.removeAll(keepingCapacity: true)
    }
    while start < bytes.count {
      var end = start
      while end < bytes.count && bytes[end] != 0x0A { end += 1 }
      lineNumber += 1
      var line = bytes[start..<end]
      if line.last == 0x0D { line = line.dropLast() }
      if Self.isFromLine(line) {
        if sawAny || !current.isEmpty { try flush() }
        separator = String(decoding: line, as: UTF8.self)
        startLine = lineNumber + 1
      } else {
        if line.first == UInt8(ascii: ">") {
          let quotes = line.prefix { $0 == UInt8(ascii: ">") }.count
          let rest = line.dropFirst(quotes)
          if rest.starts(with: Array("From ".utf8)) { line = line.dropFirst() }
        }
        current.append(contentsOf: line)
        current.append(0x0A)
      }
      sawAny = true
      start = end + 1
    }
    try flush()
    self.entries = entries
  }

  /// Reads the mailbox at `path`, `-` for standard input, refusing one larger than
  /// ``MailLimits/maxMailboxBytes`` before reading it.
  public static func read(path: String) throws(MailError) -> Mbox {
    let limit = MailLimits.maxMailboxBytes
    let data: Data
    if path == "-" {
      data = (try? FileHandle.standardInput.read(upToCount: limit + 1)) ?? Data()
    } else {
      let attributes = try? FileManager.default.attributesOfItem(atPath: path)
      guard let attributes else { throw MailError(source: path, message: "cannot read the file") }
      if let type = attributes[.type] as? FileAttributeType, type == .typeDirectory {
        throw MailError(source: path, message: "is a directory, not a patch or mailbox")
      }
      if let size = attributes[.size] as? NSNumber, size.intValue > limit {
        throw MailError(
          source: path, message: "\(size.intValue) bytes: larger than the \(limit >> 20) MiB a mailbox may be")
      }
      guard let handle = FileHandle(forReadingAtPath: path) else {
        throw MailError(source: path, message: "cannot read the file")
      }
      defer { try? handle.close() }
      data = (try? handle.read(upToCount: limit + 1)) ?? Data()
    }
    let name = path == "-" ? "<stdin>" : path
    guard !data.isEmpty else { throw MailError(source: name, message: "empty: no message") }
    return try Mbox(bytes: Array(data), source: name)
  }

  /// `git mailsplit`'s `is_from_line()` (builtin/mailsplit.c): 20 bytes or more (with the
  /// newline), starting `From `, whose last `:` has digits at offsets -4, -2, -1, +1 and +2
  /// and a number above 90 at +3 (the year). The address is never checked: `From git@z`,
  /// `From mboxrd@z`, `From bippy-5f407fcff5a0` and `From <sha>` all pass; a body line
  /// `From the start of a line here.` does not.
  public static func isFromLine<C: Collection>(_ line: C) -> Bool where C.Element == UInt8, C.Index == Int {
    guard line.count >= 19, line.starts(with: "From ".utf8) else { return false }
    let l = Array(line)
    let len = l.count + 1
    var colon = len - 2
    while true {
      if colon < 5 { return false }
      colon -= 1
      if l[colon] == UInt8(ascii: ":") { break }
    }
    func digit(_ i: Int) -> Bool { i >= 0 && i < l.count && (0x30...0x39).contains(l[i]) }
    guard digit(colon - 4), digit(colon - 2), digit(colon - 1), digit(colon + 1), digit(colon + 2) else {
      return false
    }
    // strtol(colon + 3): leading whitespace, an optional sign, digits.
    var i = colon + 3
    while i < l.count && (l[i] == 0x20 || l[i] == 0x09) { i += 1 }
    var negative = false
    if i < l.count && (l[i] == UInt8(ascii: "-") || l[i] == UInt8(ascii: "+")) {
      negative = l[i] == UInt8(ascii: "-")
      i += 1
    }
    var year = 0
    while i < l.count && (0x30...0x39).contains(l[i]) && year < 100_000 {
      year = year * 10 + Int(l[i] - 0x30)
      i += 1
    }
    return !negative && year > 90
  }
}
