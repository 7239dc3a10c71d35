import Foundation

/// Mails built from the package's patch files the way the stable workflow's scripts build
/// them (stable-formats.md section 2): Greg's review mails, Sasha's AUTOSEL mails, FAILED
/// mails; and the transfer encodings mail clients apply. Tests use them as inputs a user
/// would give `review`.
public enum StableMails {
  /// The parts of a format-patch file: the `From <sha>` id, the headers, the message (to the
  /// `---`), and the rest (`---`, diffstat, diff, signature).
  public struct Parts {
    public var commit: String
    public var author: String
    public var date: String
    public var subject: String
    public var message: String
    public var rest: String
  }

  /// Takes `patches/<slug>.patch` apart.
  public static func parts(_ slug: String) throws -> Parts {
    let text = try patchText(slug)
    let lines = text.components(separatedBy: "\n")
    let commit = String(lines[0].dropFirst(5).prefix(40))
    func header(_ name: String) -> String {
      var value = ""
      var inside = false
      for l in lines.dropFirst() {
        if l.isEmpty { break }
        if l.hasPrefix(name + ": ") {
          value = String(l.dropFirst(name.count + 2))
          inside = true
        } else if inside, l.first == " " || l.first == "\t" {
          value += " " + l.trimmingCharacters(in: .whitespaces)
        } else {
          inside = false
        }
      }
      return value
    }
    let blank = lines.firstIndex(of: "")!
    let dashes = lines.firstIndex(of: "---")!
    var subject = header("Subject")
    if subject.hasPrefix("[PATCH] ") { subject.removeFirst(8) }
    return Parts(
      commit: commit, author: header("From"), date: header("Date"), subject: subject,
      message: lines[(blank + 1)..<dashes].joined(separator: "\n"),
      rest: lines[dashes...].joined(separator: "\n"))
  }

  /// Greg's review mail for `slug` onto `branch` (`[PATCH 5.15 021/167]`): the preamble, the
  /// dashed line, the original author, `commit X upstream.` (or, with `sasha`, `[ Upstream
  /// commit X ]`), the message, Greg's Signed-off-by, then the diff `edit` returns.
  public static func review(
    _ slug: String, branch: String, counter: String = "021/167", subject: ((String) -> String)? = nil,
    upstreamForm: String = "commit", edit: (String) -> String = { $0 }
  ) throws -> String {
    let p = try parts(slug)
    let id = upstreamForm == "commit" ? "commit \(p.commit) upstream." : "[ Upstream commit \(p.commit) ]"
    return """
      From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001
      From: Greg Kroah-Hartman <gregkh@linuxfoundation.org>
      Date: Tue, 19 Jul 2022 13:53:14 +0200
      Subject: [PATCH \(branch) \(counter)] \((subject ?? { $0 })(p.subject))
      Message-ID: <20220719114714.\(counter.prefix(3))@linuxfoundation.org>
      X-stable: review
      MIME-Version: 1.0
      Content-Type: text/plain; charset=UTF-8

      \(branch)-stable review patch.  If anyone has any objections, please let me know.

      ------------------

      From: \(p.author)

      \(id)

      \(p.message)
      Signed-off-by: Greg Kroah-Hartman <gregkh@linuxfoundation.org>
      \(edit(p.rest))
      """ + "\n"
  }

  /// Sasha's AUTOSEL mail: `[PATCH AUTOSEL <branch> <counter>]`, `From:` author first,
  /// `[ Upstream commit X ]`, and the 2026 "LLM Generated explanations" text after `---`.
  public static func autosel(_ slug: String, branch: String, counter: String = "04/12") throws -> String {
    let p = try parts(slug)
    let rest = p.rest.replacingOccurrences(
      of: "---\n",
      with:
        "---\n\nLLM Generated explanations, may be completely bogus:\n\nError: Failed to generate final synthesis\n\n",
      options: .anchored)
    return """
      From 2222222222222222222222222222222222222222 Mon Sep 17 00:00:00 2001
      From: Sasha Levin <sashal@kernel.org>
      Date: Mon, 20 Apr 2026 09:23:14 -0400
      Subject: [PATCH AUTOSEL \(branch) \(counter)] \(p.subject)
      X-stable: review
      X-stable-base: Linux 6.18.23
      MIME-Version: 1.0
      Content-Type: text/plain; charset=UTF-8

      From: \(p.author)

      [ Upstream commit \(p.commit) ]

      \(p.message)
      Signed-off-by: Sasha Levin <sashal@kernel.org>
      \(rest)
      """ + "\n"
  }

  /// Greg's FAILED mail for `slug` onto `branch`, with `dependencies` as its "Possible
  /// dependencies:" list and the original commit embedded after the separator.
  public static func failed(_ slug: String, branch: String, dependencies: [(String, String)]) throws -> String {
    let p = try parts(slug)
    let original = try patchText(slug)
    return """
      From 3333333333333333333333333333333333333333 Mon Sep 17 00:00:00 2001
      From: <gregkh@linuxfoundation.org>
      Date: Wed, 20 May 2026 10:35:00 +0200
      Subject: FAILED: patch "[PATCH] \(p.subject)" failed to apply to \(branch)-stable tree
      Message-ID: <2026052035-dill-stubbly-d0e3@gregkh>
      MIME-Version: 1.0
      Content-Type: text/plain; charset=ANSI_X3.4-1968
      Content-Transfer-Encoding: 8bit


      The patch below does not apply to the \(branch)-stable tree.
      If someone wants it applied there, or to any other stable or longterm
      tree, then please email the backport, including the original git commit
      id to <stable@vger.kernel.org>.

      To reproduce the conflict and resubmit, you may use the following commands:

      git fetch https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git/ linux-\(branch).y
      git checkout FETCH_HEAD
      git cherry-pick -x \(p.commit)
      # <resolve conflicts, build, test, etc.>
      git commit -s
      git send-email --to '<stable@vger.kernel.org>' --in-reply-to '2026052035-dill-stubbly-d0e3@gregkh' --subject-prefix 'PATCH \(branch).y' HEAD^..

      Possible dependencies:

      \(dependencies.map { "\($0.0) (\"\($0.1)\")" }.joined(separator: "\n"))

      thanks,

      greg k-h

      ------------------ original commit in Linus's tree ------------------

      \(original)
      """
  }

  /// `text` quoted-printable encoded as a mail client writes it: `=` and bytes outside
  /// printable ASCII as `=XX`, trailing whitespace encoded, lines over 76 characters broken
  /// with soft breaks.
  public static func quotedPrintable(_ text: String) -> String {
    var out: [String] = []
    for line in text.components(separatedBy: "\n") {
      var encoded = ""
      let bytes = Array(line.utf8)
      for (i, b) in bytes.enumerated() {
        let last = i == bytes.count - 1
        if b == UInt8(ascii: "=") || b > 126 || (b < 32 && b != 9) || (last && (b == 32 || b == 9)) {
          encoded += String(format: "=%02X", b)
        } else {
          encoded.append(Character(Unicode.Scalar(b)))
        }
      }
      var rest = Substring(encoded)
      while rest.count > 75 {
        var cut = rest.index(rest.startIndex, offsetBy: 75)
        // Never split an =XX escape.
        if let eq = rest[rest.index(cut, offsetBy: -2)..<cut].firstIndex(of: "=") { cut = eq }
        out.append(rest[..<cut] + "=")
        rest = rest[cut...]
      }
      out.append(String(rest))
    }
    return out.joined(separator: "\n")
  }

  /// `mail` with its body quoted-printable encoded and the header saying so.
  public static func withQuotedPrintableBody(_ mail: String) -> String {
    let split = mail.range(of: "\n\n")!
    let headers = mail[..<split.lowerBound].replacingOccurrences(
      of: "Content-Type: text/plain; charset=UTF-8",
      with: "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable")
    return headers + "\n\n" + quotedPrintable(String(mail[split.upperBound...]))
  }

  /// `text` with CRLF line ends.
  public static func crlf(_ text: String) -> String { text.replacingOccurrences(of: "\n", with: "\r\n") }
}
