import Foundation
import PatchText

/// One message of a mailbox read as a patch mail, the way `git mailinfo` reads it, with what a
/// stable reviewer looks for on top: the stable scripts' preamble cut, the upstream commit the
/// message names and how, the `Cc: stable` notes, and, for the stable tree's FAILED mails, the
/// branch, the reproduce commands and the "Possible dependencies:" list.
public struct PatchMail: Sendable {
  /// A commit id the message gives as the upstream commit, and the form it took.
  public struct UpstreamReference: Hashable, Sendable {
    public enum Form: String, Hashable, Sendable {
      /// `commit <sha> upstream.` (Greg's scripts).
      case commitUpstream = "commit ... upstream."
      /// `[ Upstream commit <sha> ]` (Sasha's).
      case upstreamCommit = "[ Upstream commit ... ]"
      /// `(cherry picked from commit <sha>)` (`git cherry-pick -x`).
      case cherryPicked = "(cherry picked from commit ...)"
      /// `From <sha> Mon Sep 17 00:00:00 2001` of the original commit a FAILED mail embeds.
      case originalCommit = "the FAILED mail's original commit"
      /// `git cherry-pick -x <sha>` in a FAILED mail's reproduce commands.
      case cherryPickCommand = "git cherry-pick -x ..."
    }
    public let commit: String
    public let form: Form
    public init(commit: String, form: Form) {
      self.commit = commit
      self.form = form
    }
  }

  /// A `Cc: stable@...` trailer and its `# note` (`6.15+`, `v6.1+`, `3.3.x: a1f84a3: ...`).
  public struct StableCc: Hashable, Sendable {
    public let address: String
    public let note: String?
  }

  /// The stable tree's "FAILED: patch ... failed to apply to X-stable tree" mail.
  public struct Failed: Sendable {
    /// The subject quoted in the mail's subject (may be cut at a fold; never the id source).
    public let quotedSubject: String
    /// The branch, `5.4` (from the `git fetch ... linux-5.4.y` line, else the subject).
    public let branch: String
    /// The commit that failed to apply (from the original commit or the cherry-pick line).
    public let commit: String?
    /// The reproduce commands, as given (empty for Sasha's mails and old ones).
    public let commands: [String]
    /// The "Possible dependencies:" list: abbreviated commit and subject, in order (may be
    /// empty, as in some 2025 mails).
    public let possibleDependencies: [(commit: String, subject: String)]
    /// Who sent it: `greg` or `sasha` shape.
    public let shape: String
  }

  /// Where the message came from: `file`, `file#3` for the third of an mbox.
  public let source: String
  /// 1-based position in the mailbox.
  public let index: Int
  public let subject: SubjectLine
  /// The author after in-body `From:` lines and the preamble cut.
  public let author: String
  public let date: String
  public let messageID: String?
  /// The commit message up to where `git mailinfo` ends it (the `---`, or the diff).
  public let message: String
  /// The upstream commit ids the message gives, first the deciding one.
  public let upstream: [UpstreamReference]
  public let stableCc: [StableCc]
  /// The patch, when the message carries one.
  public let patch: PatchFile?
  /// `git patch-id --stable` of the patch.
  public let patchID: String?
  /// For a FAILED mail.
  public let failed: Failed?
  /// Lines about how the message was read: a preamble cut, an in-body header, a CR stripped.
  public let readingNotes: [String]

  /// The upstream commit the message names, by the first reference.
  public var upstreamCommit: String? { upstream.first?.commit }
}

/// A mailbox's messages read as patch mails, in order; a message that cannot be read is kept
/// as an error in its place, so a series reports it and goes on.
public struct PatchMailbox: Sendable {
  public enum Item: Sendable {
    case mail(PatchMail)
    case unreadable(index: Int, error: MailError)
  }
  public let source: String
  public let items: [Item]

  /// The mails read.
  public var mails: [PatchMail] {
    items.compactMap { if case .mail(let m) = $0 { m } else { nil } }
  }

  /// Reads the mailbox at `path` (`-` for standard input).
  ///
  /// - Throws: ``MailError`` when the file as a whole cannot be read (missing, a directory,
  ///   larger than ``MailLimits/maxMailboxBytes``, too many messages).
  public init(path: String) throws {
    let mbox = try Mbox.read(path: path)
    self.init(mbox: mbox, source: path == "-" ? "<stdin>" : path)
  }

  public init(mbox: Mbox, source: String) {
    self.source = source
    // A FAILED mail saved as it is sent embeds the original commit's format-patch text,
    // whose `From <sha>` line mailsplit takes for a separator: join it back.
    var entries: [Mbox.Entry] = []
    for entry in mbox.entries {
      if let last = entries.last, let separator = entry.separator,
        String(decoding: last.bytes, as: UTF8.self).split(separator: "\n").last(where: { !$0.isEmpty })
          == Substring(PatchMail.originalSeparator)
      {
        entries[entries.count - 1] = Mbox.Entry(
          separator: last.separator, bytes: last.bytes + Array((separator + "\n").utf8) + entry.bytes,
          firstLine: last.firstLine)
      } else {
        entries.append(entry)
      }
    }
    let many = entries.count > 1
    items = entries.enumerated().map { n, entry in
      let name = many ? "\(source)#\(n + 1)" : source
      do throws(MailError) {
        return .mail(try PatchMail(entry: entry, source: name, index: n + 1))
      } catch {
        return .unreadable(index: n + 1, error: error)
      }
    }
  }
}

extension PatchMail {
  /// The FAILED mail subject, Greg's and Sasha's forms (stable-formats.md 2.3).
  static var failedSubject: Regex<(Substring, Substring, Substring)> {
    #/FAILED: [Pp]atch "(.*)" failed to apply to v?(\d{1,2}\.\d{1,3})(?:\.y)?-stable tree/#
  }
  /// The separator before the original commit in a FAILED mail.
  static let originalSeparator = "------------------ original commit in Linus's tree ------------------"

  /// Reads one mbox entry: MIME-decodes it, then reads it as `git mailinfo` would.
  public init(entry: Mbox.Entry, source: String, index: Int) throws(MailError) {
    let message: MailMessage
    do {
      message = try MailMessage(bytes: entry.bytes, source: source)
    } catch {
      throw MailError(source: source, message: error.message)
    }
    // The part carrying the patch: the first text part with a diff, else the first text part.
    let texts = message.parts.compactMap { part in part.text.map { (part, $0) } }
    if texts.isEmpty && !message.parts.isEmpty {
      throw MailError(
        source: source,
        message: "the body is not valid UTF-8 (or the declared charset): not text a patch can be read from")
    }
    if let big = texts.first(where: { $0.1.utf8.count > PatchLimits.maxBytes }) {
      throw MailError(
        source: source,
        message:
          "a body of \(big.1.utf8.count) bytes: larger than the \(PatchLimits.maxBytes >> 20) MiB a patch may be")
    }
    let withDiff = texts.first { Self.hasDiff($0.1) }
    var body = withDiff?.1 ?? texts.first?.1 ?? ""
    // A reply that attaches the patch: the attachment is the patch, the reply text is not.
    if let withDiff, withDiff.0.filename != nil || withDiff.0.contentType != "text/plain",
      let first = texts.first, first.0.contentType == "text/plain", !Self.hasDiff(first.1)
    {
      body = withDiff.1
    }
    var notes: [String] = []
    if message.parts.contains(where: \.quotedCR) {
      notes.append("a CR hidden by the transfer encoding was stripped (as git mailinfo --quoted-cr=strip)")
    }
    let commit = entry.separator.flatMap {
      $0.wholeMatch(of: #/From ([0-9a-f]{40}) Mon Sep 17 00:00:00 2001/#).map { String($0.1) }
    }
    try self.init(
      source: source, index: index, headers: message, body: body, separatorCommit: commit, notes: notes)
  }

  /// Whether `text` holds a diff: a line starting `diff --git `, or a unified diff's `--- `
  /// and `+++ ` pair.
  static func hasDiff(_ text: String) -> Bool {
    text.hasPrefix("diff --git ") || text.contains("\ndiff --git ") || text.contains("\n+++ ")
  }

  init(
    source: String, index: Int, headers: MailMessage, body rawBody: String, separatorCommit: String?,
    notes readingNotes: [String]
  ) throws(MailError) {
    var notes = readingNotes
    let rawSubject = headers.header("Subject") ?? ""
    guard rawSubject.utf8.count <= 4096 else {
      throw MailError(
        source: source,
        message: "a Subject: of \(rawSubject.utf8.count) bytes: longer than the 4 KiB a patch subject may be")
    }
    var subjectText = rawSubject
    var author = headers.header("From") ?? ""
    var date = headers.header("Date") ?? ""
    var lines = rawBody.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }

    // A FAILED mail: the notice, then the original commit after the separator.
    if let m = rawSubject.firstMatch(of: Self.failedSubject) {
      self = try Self.failedMail(
        source: source, index: index, subject: rawSubject, quoted: String(m.1), subjectBranch: String(m.2),
        headers: headers, lines: lines)
      return
    }

    // Greg's review preamble: "X.Y-stable review patch. ..." up to the 18-dash line.
    if let first = lines.firstIndex(where: { !$0.isEmpty }),
      lines[first].contains("-stable review patch"),
      let dashes = lines[first...].prefix(12).firstIndex(of: "------------------")
    {
      lines.removeSubrange(0...dashes)
      notes.append("the stable review preamble was cut (up to the dashed line)")
    }
    // In-body From:/Subject:/Date: at the very start (git mailinfo's check_inbody_header).
    var i = 0
    while i < lines.count && lines[i].trimmingCharacters(in: .whitespaces).isEmpty { i += 1 }
    var sawInBody = false
    while i < lines.count {
      let line = lines[i]
      if line.wholeMatch(of: #/>?From [0-9a-f]{40} Mon Sep 17 00:00:00 2001/#) != nil {
        i += 1
        continue
      }
      guard let m = line.wholeMatch(of: #/(?i)(from|subject|date):\s*(.*)/#) else { break }
      var value = String(m.2)
      i += 1
      while i < lines.count, let c = lines[i].first, c == " " || c == "\t" {
        value += " " + lines[i].trimmingCharacters(in: .whitespaces)
        i += 1
      }
      switch m.1.lowercased() {
      case "from": author = value
      case "subject": subjectText = value
      default: date = value
      }
      sawInBody = true
    }
    if sawInBody {
      notes.append("in-body headers override the mail's (the original author)")
      while i < lines.count && lines[i].trimmingCharacters(in: .whitespaces).isEmpty { i += 1 }
    } else {
      i = 0
    }
    lines.removeSubrange(0..<i)

    // The message ends where git mailinfo's patchbreak() says.
    let end = lines.firstIndex(where: Self.isPatchBreak) ?? lines.count
    let messageLines = Array(lines[..<end])
    var rest = Array(lines[end...])
    let subject = SubjectLine(subjectText)
    let upstream = Self.references(in: messageLines)
    let stableCc = messageLines.filter { $0.lowercased().hasPrefix("cc:") }.compactMap(Self.stableCc)

    var patch: PatchFile?
    var patchID: String?
    if rest.contains(where: { $0.hasPrefix("diff --git ") }) {
      if rest.first.map({ $0.hasPrefix("---") && $0.trimmingCharacters(in: .whitespaces) == "---" }) == true {
        rest.removeFirst()
      }
      let prefix = ([subject.flags.first ?? "PATCH"] + subject.extras).joined(separator: " ")
      let commit = separatorCommit ?? String(repeating: "0", count: 40)
      var canonical: [String] = ["From \(commit) Mon Sep 17 00:00:00 2001"]
      canonical.append("From: \(Self.oneLine(author))")
      canonical.append("Date: \(Self.oneLine(date))")
      canonical.append("Subject: [\(prefix)] \(subject.subject)")
      canonical.append("")
      canonical += messageLines
      canonical.append("---")
      canonical += rest
      let text = canonical.joined(separator: "\n") + "\n"
      do {
        patch = try PatchFile(parsing: text, path: source, leniency: .mail)
      } catch {
        let why = (error as? PatchParseError)?.message ?? "\(error)"
        throw MailError(source: source, message: "the patch does not parse: \(why)")
      }
      patchID = PatchID.compute(rest.joined(separator: "\n") + "\n").first?.id
    } else if rest.contains(where: { $0.hasPrefix("+++ ") || $0.hasPrefix("Index: ") }) {
      throw MailError(
        source: source,
        message: "a diff without 'diff --git' lines (quilt or plain diff -u form): only git diffs are read")
    }
    self.init(
      source: source, index: index, subject: subject, author: author, date: date,
      messageID: headers.header("Message-ID"), message: messageLines.joined(separator: "\n"), upstream: upstream,
      stableCc: stableCc, patch: patch, patchID: patchID, failed: nil, readingNotes: notes)
  }

  /// A header value on one line (a folded or CR-carrying value cannot break the synthesised
  /// header block).
  static func oneLine(_ s: String) -> String {
    s.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
  }

  /// git mailinfo's `patchbreak()`: a line starting `diff -` or `Index: `, `--- ` followed by
  /// a non-space, or `---` followed only by whitespace.
  static func isPatchBreak(_ line: String) -> Bool {
    if line.hasPrefix("diff -") || line.hasPrefix("Index: ") { return true }
    guard line.hasPrefix("---") else { return false }
    let after = line.dropFirst(3)
    if after.allSatisfy({ $0 == " " || $0 == "\t" }) { return true }
    return after.first == " " && after.dropFirst().first.map { !$0.isWhitespace } == true
  }

  /// The upstream commit references in a commit message, in order; `>`-quoted lines (a
  /// reply's quote) are skipped.
  static func references(in lines: [String]) -> [UpstreamReference] {
    var out: [UpstreamReference] = []
    for raw in lines where !raw.hasPrefix(">") && (raw.contains("ommit") || raw.contains("OMMIT")) {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if let m = line.wholeMatch(of: #/(?i)commit ([0-9a-f]{40}) upstream\.?/#) {
        out.append(UpstreamReference(commit: m.1.lowercased(), form: .commitUpstream))
      } else if let m = line.wholeMatch(of: #/(?i)\[ ?upstream commit ([0-9a-f]{40}) ?\]/#) {
        out.append(UpstreamReference(commit: m.1.lowercased(), form: .upstreamCommit))
      } else if let m = line.firstMatch(of: #/\(cherry picked from commit ([0-9a-f]{40})\)/#) {
        out.append(UpstreamReference(commit: String(m.1), form: .cherryPicked))
      }
    }
    return out
  }

  /// `Cc: stable@vger.kernel.org # 6.15+` (any case, address in `<>` or not).
  static func stableCc(_ line: String) -> StableCc? {
    guard let m = line.wholeMatch(of: #/(?i)cc:\s*<?(stable(?:\+[a-z]+)?@(?:vger\.)?kernel\.org)>?\s*(?:#\s*(.*))?/#)
    else { return nil }
    return StableCc(address: m.1.lowercased(), note: m.2.map { String($0).trimmingCharacters(in: .whitespaces) })
  }

  /// Reads a FAILED mail: the notice's commands and dependency list, then the original commit
  /// after the separator, itself read as a patch mail.
  static func failedMail(
    source: String, index: Int, subject: String, quoted: String, subjectBranch: String, headers: MailMessage,
    lines: [String]
  ) throws(MailError) -> PatchMail {
    let separator = lines.firstIndex(of: originalSeparator)
    let notice = Array(lines[..<(separator ?? lines.count)])
    var commands: [String] = []
    var branch = subjectBranch
    var cherryPick: String?
    for line in notice where line.hasPrefix("git ") {
      commands.append(line)
      if let m = line.firstMatch(of: #/^git fetch \S+ linux-(\d{1,2}\.\d{1,3})\.y/#) { branch = String(m.1) }
      if let m = line.firstMatch(of: #/^git cherry-pick -x ([0-9a-f]{40})/#) { cherryPick = String(m.1) }
    }
    var dependencies: [(String, String)] = []
    if let start = notice.firstIndex(where: { $0.hasPrefix("Possible dependencies:") }) {
      for line in notice[(start + 1)...] {
        if line.lowercased().hasPrefix("thanks,") { break }
        if let m = line.wholeMatch(of: #/\s*([0-9a-f]{7,40}) \("(.*)"\)\s*/#) {
          dependencies.append((String(m.1), String(m.2)))
        }
      }
    }
    // The original commit: format-patch text after the separator.
    var original: PatchMail?
    var originalCommit: String?
    if let separator {
      var text = lines[(separator + 1)...].drop { $0.isEmpty }
      if let first = text.first, let m = first.wholeMatch(of: #/From ([0-9a-f]{40}) Mon Sep 17 00:00:00 2001/#) {
        originalCommit = String(m.1)
        text = text.dropFirst()
      }
      let bytes = Array((text.joined(separator: "\n") + "\n").utf8)
      let embedded = Mbox.Entry(
        separator: originalCommit.map { "From \($0) Mon Sep 17 00:00:00 2001" }, bytes: bytes, firstLine: separator + 2)
      original = try? PatchMail(entry: embedded, source: source + " (original commit)", index: index)
    }
    var upstream: [UpstreamReference] = []
    if let originalCommit { upstream.append(UpstreamReference(commit: originalCommit, form: .originalCommit)) }
    if let cherryPick, cherryPick != originalCommit {
      upstream.append(UpstreamReference(commit: cherryPick, form: .cherryPickCommand))
    }
    let shape = headers.header("From")?.lowercased().contains("sashal") == true ? "sasha" : "greg"
    let failed = Failed(
      quotedSubject: quoted, branch: branch, commit: upstream.first?.commit, commands: commands,
      possibleDependencies: dependencies, shape: shape)
    var notes = ["a FAILED mail from the stable tree (\(shape)'s form) for \(branch)"]
    if original == nil {
      notes.append(
        separator == nil
          ? "no original commit after the separator: only the notice was read"
          : "the original commit after the separator does not parse")
    }
    return PatchMail(
      source: source, index: index, subject: SubjectLine(original?.subject.raw ?? quoted),
      author: original?.author ?? "", date: original?.date ?? (headers.header("Date") ?? ""),
      messageID: headers.header("Message-ID"), message: original?.message ?? "", upstream: upstream,
      stableCc: original?.stableCc ?? [], patch: original?.patch, patchID: original?.patchID, failed: failed,
      readingNotes: notes)
  }
}
