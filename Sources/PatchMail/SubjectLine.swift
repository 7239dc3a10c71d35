import Foundation

/// A patch mail's subject taken apart as b4 does (`LoreSubject` in mricon/b4): the reply
/// markers, then every leading `[...]` group split into tokens: `N/M` is the counter, `vN`
/// the revision, `PATCH`/`RFC`/`RESEND` flags, anything else (`5.15`, `AUTOSEL`, `7.0-6.18`,
/// `6.1.y`, `STABLE`) an extra prefix. `[PATCHv3]` reads as `[PATCH v3]`.
///
/// Examples the stable workflow sends: `[PATCH 5.15 021/167] drm/panfrost: ...`,
/// `[PATCH AUTOSEL 6.18 04/12] ...`, `[PATCH AUTOSEL 7.0-6.18] ...`, `[PATCH v2 2/3] ...`,
/// `Re: [PATCH 6.1.y] ...`, `[STABLE 6.1.y] [PATCH] ...`.
public struct SubjectLine: Hashable, Sendable {
  /// The subject as given, unfolded.
  public let raw: String
  /// Whether it starts with `Re:`, `Aw:` or `Fwd:` (any case, any number of them).
  public let isReply: Bool
  /// The bracket groups' tokens that are neither counter, revision nor flag, in order.
  public let extras: [String]
  /// `PATCH`, `RFC`, `RESEND`, upper-cased, in order.
  public let flags: [String]
  /// The `vN` revision, 1 when none is given.
  public let revision: Int
  /// The `N/M` counter, if any.
  public let counter: (number: Int, total: Int)?
  /// What follows the prefixes: the commit's own subject.
  public let subject: String

  public static func == (a: SubjectLine, b: SubjectLine) -> Bool { a.raw == b.raw }
  public func hash(into h: inout Hasher) { h.combine(raw) }

  public init(_ raw: String) {
    self.raw = raw
    var rest = Substring(raw).drop(while: \.isWhitespace)
    var reply = false
    var extras: [String] = []
    var flags: [String] = []
    var revision = 1
    var counter: (Int, Int)?
    while true {
      if let m = rest.prefixMatch(of: /(?i)(re|aw|fwd?)\s*:\s*/) {
        reply = true
        rest = rest[m.range.upperBound...]
        continue
      }
      guard rest.first == "[", let close = rest.firstIndex(of: "]") else { break }
      var group = String(rest[rest.index(after: rest.startIndex)..<close])
      rest = rest[rest.index(after: close)...].drop(while: \.isWhitespace)
      // [PATCHv3], [PATCH_v3]
      if let m = group.prefixMatch(of: /(?i)patch[_-]?(v\d+)/) {
        group = "PATCH " + m.1 + group[m.range.upperBound...]
      }
      for token in group.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }) {
        let t = String(token)
        if let m = t.wholeMatch(of: /(\d{1,4})\/(\d{1,4})/), let n = Int(m.1), let total = Int(m.2) {
          counter = (n, total)
        } else if let m = t.wholeMatch(of: /[vV](\d{1,4})/), let v = Int(m.1) {
          revision = v
        } else if ["PATCH", "RFC", "RESEND"].contains(t.uppercased()) {
          flags.append(t.uppercased())
        } else {
          extras.append(t)
        }
      }
    }
    self.isReply = reply
    self.extras = extras
    self.flags = flags
    self.revision = revision
    self.counter = counter
    self.subject = String(rest).trimmingCharacters(in: .whitespaces)
  }

  /// Whether Sasha Levin's AUTOSEL tooling sent it.
  public var isAutosel: Bool { extras.contains { $0.uppercased() == "AUTOSEL" } }

  /// The stable branches the prefix names, as `X.Y`: `5.15`, `6.1.y`, `v6.1` name one; an
  /// AUTOSEL range `7.0-6.18` names its two ends (the branches between are not listed here:
  /// which exist is a fact of the stable tree, not of the subject).
  public var branches: [String] {
    var out: [String] = []
    for e in extras {
      if let m = e.wholeMatch(of: /[vV]?(\d{1,2}\.\d{1,3})(\.y)?/) {
        out.append(String(m.1))
      } else if let m = e.wholeMatch(of: /(\d{1,2}\.\d{1,3})-(\d{1,2}\.\d{1,3})/) {
        out.append(String(m.1))
        out.append(String(m.2))
      }
    }
    return out
  }
}
