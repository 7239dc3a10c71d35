import Foundation
import PatchText

/// One mail message, MIME-decoded as `git mailinfo` decodes it (mailinfo.c): headers unfolded
/// and matched case-insensitively, each text part's body transfer-decoded, format=flowed
/// undone, CR before LF stripped.
public struct MailMessage: Sendable {
  /// The headers in order, unfolded, values as written (RFC 2047 words not yet decoded).
  public let headers: [(name: String, value: String)]
  /// The text parts in order: the body of a single-part message, or every leaf of a
  /// multipart one that holds text (`text/*`, or an attachment named `.patch`/`.diff`).
  public let parts: [Part]

  /// One decoded part.
  public struct Part: Sendable {
    /// `type/subtype`, lowercased; `text/plain` when the part says none.
    public let contentType: String
    /// The attachment's file name, if it has one.
    public let filename: String?
    /// The declared charset, lowercased.
    public let charset: String?
    /// The body, transfer-decoded.
    public let bytes: [UInt8]
    /// Whether a CR before LF came out of the transfer encoding and was stripped (`git
    /// mailinfo --quoted-cr=strip`).
    public let quotedCR: Bool

    /// The body as text: UTF-8 (or US-ASCII) validated, ISO-8859-1 and Windows-1252 mapped
    /// byte for code point; `nil` when the bytes are not valid in the charset.
    public var text: String? {
      switch charset {
      case "iso-8859-1"?, "latin1"?, "iso8859-1"?, "windows-1252"?, "cp1252"?:
        return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
      default:
        return String(validating: bytes, as: UTF8.self)
      }
    }
  }

  /// The first header `name` (case-insensitive), RFC 2047 words decoded.
  public func header(_ name: String) -> String? {
    headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map { decodeEncodedWords($0.value) }
  }

  /// Every header `name`, decoded, in order.
  public func headers(_ name: String) -> [String] {
    headers.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map { decodeEncodedWords($0.value) }
  }

  /// Parses `bytes` (LF line ends). A message that starts with a diff (a bare patch) has no
  /// headers and one part.
  ///
  /// - Throws: ``MailError`` for a header block with no body after it, a line in the header
  ///   block that is not a header, a header over ``MailLimits/maxHeaderBytes``, a base64 body
  ///   that is not base64, or multipart nesting deeper than ``MailLimits/maxMIMEDepth``.
  public init(bytes: [UInt8], source: String) throws(MailError) {
    try self.init(bytes: bytes[...], source: source, depth: 0)
  }

  init(bytes: ArraySlice<UInt8>, source: String, depth: Int) throws(MailError) {
    guard depth <= MailLimits.maxMIMEDepth else {
      throw MailError(
        source: source, message: "multipart nesting deeper than the \(MailLimits.maxMIMEDepth) levels a mail may have")
    }
    let (headers, body) = try Self.split(bytes, source: source)
    self.headers = headers
    func value(_ name: String) -> String? {
      headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
    let (type, params) = Self.contentType(value("Content-Type"))
    if type.hasPrefix("multipart/"), let boundary = params["boundary"], !boundary.isEmpty {
      var parts: [Part] = []
      for chunk in Self.multipartChunks(body, boundary: boundary) {
        let inner = try MailMessage(bytes: chunk, source: source, depth: depth + 1)
        parts += inner.parts
      }
      self.parts = parts
      return
    }
    let disposition = Self.contentType(value("Content-Disposition")).1
    let filename = disposition["filename"] ?? params["name"]
    let isText =
      type.hasPrefix("text/")
      || (filename.map { $0.hasSuffix(".patch") || $0.hasSuffix(".diff") } ?? false)
      || type == "application/x-patch"
    guard isText else {
      self.parts = []
      return
    }
    let encoding = (value("Content-Transfer-Encoding") ?? "").lowercased()
    var decoded: [UInt8]
    let encoded: Bool
    if encoding.contains("base64") {
      decoded = try Self.base64(body, source: source)
      encoded = true
    } else if encoding.contains("quoted-printable") {
      decoded = Self.quotedPrintable(body)
      encoded = true
    } else {
      decoded = Array(body)
      encoded = false
    }
    let (stripped, hadCR) = Self.stripCR(decoded)
    decoded = stripped
    if params["format"]?.lowercased() == "flowed" {
      decoded = Self.unflow(decoded, delsp: params["delsp"]?.lowercased() == "yes")
    }
    self.parts = [
      Part(
        contentType: type, filename: filename, charset: params["charset"]?.lowercased(), bytes: decoded,
        quotedCR: encoded && hadCR)
    ]
  }

  /// The header block (unfolded, `read_one_header_line`) and the body after the blank line.
  static func split(_ bytes: ArraySlice<UInt8>, source: String) throws(MailError) -> (
    [(name: String, value: String)], ArraySlice<UInt8>
  ) {
    var headers: [(name: String, value: String)] = []
    var i = bytes.startIndex
    // A bare patch, or a body without headers.
    func looksLikeHeader(_ line: ArraySlice<UInt8>) -> Bool {
      guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else { return false }
      return line[line.startIndex..<colon].allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
    func line(at i: Int) -> ArraySlice<UInt8> {
      var end = i
      while end < bytes.endIndex && bytes[end] != 0x0A { end += 1 }
      return bytes[i..<end]
    }
    if i < bytes.endIndex, !looksLikeHeader(line(at: i)) { return ([], bytes) }
    while true {
      guard i < bytes.endIndex else {
        throw MailError(source: source, message: "a header without a body: no blank line ends the headers")
      }
      let l = line(at: i)
      let next = min(l.endIndex + 1, bytes.endIndex)
      if l.isEmpty {
        guard l.endIndex < bytes.endIndex else {
          throw MailError(source: source, message: "a header without a body: nothing follows the headers")
        }
        return (headers, bytes[next...])
      }
      if l.first == 0x20 || l.first == 0x09, !headers.isEmpty {
        let more = String(decoding: l, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        headers[headers.count - 1].value += " " + more
        if headers[headers.count - 1].value.utf8.count > MailLimits.maxHeaderBytes {
          throw MailError(
            source: source,
            message:
              "a \(headers[headers.count - 1].name): header longer than the \(MailLimits.maxHeaderBytes >> 10) KiB a header may be"
          )
        }
      } else if looksLikeHeader(l), let colon = l.firstIndex(of: UInt8(ascii: ":")) {
        guard l.count <= MailLimits.maxHeaderBytes else {
          throw MailError(
            source: source, message: "a header longer than the \(MailLimits.maxHeaderBytes >> 10) KiB a header may be")
        }
        let name = String(decoding: l[l.startIndex..<colon], as: UTF8.self)
        let value = String(decoding: l[(colon + 1)...], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        headers.append((name, value))
      } else {
        let shown = String(decoding: l.prefix(60), as: UTF8.self)
        throw MailError(source: source, message: "a line in the headers that is not a header: '\(shown)'")
      }
      i = next
    }
  }

  /// `type/subtype` lowercased and the `; key=value` parameters (keys lowercased, quotes
  /// removed).
  static func contentType(_ value: String?) -> (String, [String: String]) {
    guard let value else { return ("text/plain", [:]) }
    var fields = value.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
    let type = fields.isEmpty ? "text/plain" : fields.removeFirst().lowercased()
    var params: [String: String] = [:]
    for f in fields {
      guard let eq = f.firstIndex(of: "=") else { continue }
      var v = f[f.index(after: eq)...].trimmingCharacters(in: .whitespaces)
      if v.count >= 2, v.hasPrefix("\""), v.hasSuffix("\"") { v = String(v.dropFirst().dropLast()) }
      params[f[..<eq].trimmingCharacters(in: .whitespaces).lowercased()] = v
    }
    return (type.isEmpty ? "text/plain" : type, params)
  }

  /// The parts of a multipart body: between `--boundary` lines, up to `--boundary--`.
  static func multipartChunks(_ body: ArraySlice<UInt8>, boundary: String) -> [ArraySlice<UInt8>] {
    let open = Array("--\(boundary)".utf8)
    var chunks: [ArraySlice<UInt8>] = []
    var partStart: Int?
    var i = body.startIndex
    while i < body.endIndex {
      var end = i
      while end < body.endIndex && body[end] != 0x0A { end += 1 }
      let line = body[i..<end]
      if line.starts(with: open) {
        let rest = line.dropFirst(open.count)
        if let s = partStart { chunks.append(body[s..<max(s, i - 1)]) }
        if rest.starts(with: Array("--".utf8)) { return chunks }
        partStart = min(end + 1, body.endIndex)
      }
      i = end + 1
    }
    if let s = partStart, s < body.endIndex { chunks.append(body[s...]) }
    return chunks
  }

  /// Quoted-printable (`decode_q_segment`): `=XX` one byte, `=` at a line end a soft break,
  /// `_` kept (it is a space only in header words); an `=` not followed by two hex digits
  /// kept as is.
  static func quotedPrintable(_ body: ArraySlice<UInt8>) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(body.count)
    var i = body.startIndex
    func hex(_ b: UInt8) -> UInt8? {
      switch b {
      case 0x30...0x39: b - 0x30
      case 0x41...0x46: b - 0x41 + 10
      case 0x61...0x66: b - 0x61 + 10
      default: nil
      }
    }
    while i < body.endIndex {
      let b = body[i]
      if b == UInt8(ascii: "=") {
        // A soft break: "=" then optional trailing blanks, then LF (or CRLF).
        var j = i + 1
        while j < body.endIndex && (body[j] == 0x20 || body[j] == 0x09) { j += 1 }
        if j < body.endIndex && body[j] == 0x0D && j + 1 < body.endIndex && body[j + 1] == 0x0A { j += 1 }
        if j == body.endIndex || body[j] == 0x0A {
          i = min(j + 1, body.endIndex)
          continue
        }
        if i + 2 < body.endIndex, let h = hex(body[i + 1]), let l = hex(body[i + 2]) {
          out.append(h << 4 | l)
          i += 3
          continue
        }
      }
      out.append(b)
      i += 1
    }
    return out
  }

  /// Base64, whitespace ignored; a character outside the alphabet is an error.
  static func base64(_ body: ArraySlice<UInt8>, source: String) throws(MailError) -> [UInt8] {
    var clean: [UInt8] = []
    clean.reserveCapacity(body.count)
    for b in body {
      switch b {
      case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="):
        clean.append(b)
      case 0x20, 0x09, 0x0A, 0x0D:
        continue
      default:
        throw MailError(
          source: source, message: "the base64 body holds a byte that is not base64 (0x\(String(b, radix: 16)))")
      }
    }
    while clean.count % 4 != 0 { clean.append(UInt8(ascii: "=")) }
    guard let data = Data(base64Encoded: Data(clean)) else {
      throw MailError(source: source, message: "the base64 body does not decode")
    }
    return Array(data)
  }

  /// CR before LF removed; whether any was.
  static func stripCR(_ bytes: [UInt8]) -> ([UInt8], Bool) {
    guard bytes.contains(0x0D) else { return (bytes, false) }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var stripped = false
    for (i, b) in bytes.enumerated() {
      if b == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A {
        stripped = true
        continue
      }
      out.append(b)
    }
    return (out, stripped)
  }

  /// format=flowed undone (`handle_filter_flowed`): one leading space unstuffed, a line
  /// ending in a space joined to the next (`delsp=yes` dropping that space), the `-- `
  /// signature line kept.
  static func unflow(_ bytes: [UInt8], delsp: Bool) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
    if lines.last?.isEmpty == true { lines.removeLast() }
    for line in lines {
      var l = line
      if Array(l) == Array("-- ".utf8) {
        out.append(contentsOf: l)
        out.append(0x0A)
        continue
      }
      if l.first == 0x20 { l = l.dropFirst() }
      if l.last == 0x20 {
        out.append(contentsOf: delsp ? l.dropLast() : l)
      } else {
        out.append(contentsOf: l)
        out.append(0x0A)
      }
    }
    return out
  }
}
