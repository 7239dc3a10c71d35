// A small JSON reader for the package's data files (scenarios, the branch fixture, a previous
// matrix): it keeps the order of object keys, refuses
// duplicate keys, tells integers from other numbers and booleans, and reports a syntax error
// with its line and column, so that every problem in a file becomes one precise line.

/// A parsed JSON value.
public indirect enum JSONValue: Hashable, Sendable {
  case null
  case bool(Bool)
  case int(Int)
  /// A number with a fraction or an exponent, or one too large for `Int`, kept as written.
  case number(String)
  case string(String)
  case array([JSONValue])
  /// Keys in file order.
  case object([JSONMember])

  /// "an integer", "a string", ... for error messages.
  public var kindDescription: String {
    switch self {
    case .null: "null"
    case .bool: "a boolean"
    case .int: "an integer"
    case .number: "a non-integer number"
    case .string: "a string"
    case .array: "an array"
    case .object: "an object"
    }
  }
}

/// One `"key": value` of an object.
public struct JSONMember: Hashable, Sendable {
  public let key: String
  public let value: JSONValue

  public init(_ key: String, _ value: JSONValue) {
    self.key = key
    self.value = value
  }
}

/// A syntax error at a line and column (both 1-based).
public struct JSONSyntaxError: Error, CustomStringConvertible {
  public let line: Int
  public let column: Int
  public let problem: String

  public var description: String { "line \(line), column \(column): \(problem)" }
}

/// Parses JSON text (RFC 8259) into a ``JSONValue``.
public struct JSONParser {
  private let bytes: [UInt8]
  private var pos = 0
  private var depth = 0

  init(_ text: String) { bytes = Array(text.utf8) }

  /// Parses one value that must span the whole text.
  public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
    var p = JSONParser(text)
    p.skipWhitespace()
    if p.pos == p.bytes.count { throw p.error("the file is empty") }
    let value = try p.parseValue()
    p.skipWhitespace()
    if p.pos < p.bytes.count { throw p.error("unexpected text after the top-level value") }
    return value
  }

  private func error(_ problem: String, at offset: Int? = nil) -> JSONSyntaxError {
    let end = min(offset ?? pos, bytes.count)
    var line = 1
    var column = 1
    var i = 0
    while i < end {
      if bytes[i] == UInt8(ascii: "\n") {
        line += 1
        column = 1
      } else if bytes[i] & 0xC0 != 0x80 {
        column += 1
      }
      i += 1
    }
    return JSONSyntaxError(line: line, column: column, problem: problem)
  }

  private mutating func skipWhitespace() {
    while pos < bytes.count {
      switch bytes[pos] {
      case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): pos += 1
      default: return
      }
    }
  }

  private func describeNext() -> String {
    guard pos < bytes.count else { return "the end of the file" }
    let b = bytes[pos]
    if b >= 0x20 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
    return "byte 0x\(String(b, radix: 16))"
  }

  private mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
    guard pos < bytes.count else { throw error("expected a value, found the end of the file") }
    switch bytes[pos] {
    case UInt8(ascii: "{"): return try parseObject()
    case UInt8(ascii: "["): return try parseArray()
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"): return try literal("true", .bool(true))
    case UInt8(ascii: "f"): return try literal("false", .bool(false))
    case UInt8(ascii: "n"): return try literal("null", .null)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
    default: throw error("expected a value, found \(describeNext())")
    }
  }

  private mutating func literal(_ word: String, _ value: JSONValue) throws(JSONSyntaxError) -> JSONValue {
    let w = Array(word.utf8)
    guard pos + w.count <= bytes.count, Array(bytes[pos..<(pos + w.count)]) == w else {
      throw error("expected a value, found \(describeNext())")
    }
    pos += w.count
    return value
  }

  private mutating func nest() throws(JSONSyntaxError) {
    depth += 1
    if depth > 64 { throw error("nesting deeper than 64 levels") }
  }

  private mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
    try nest()
    defer { depth -= 1 }
    pos += 1
    var members: [JSONMember] = []
    var seen: Set<String> = []
    skipWhitespace()
    if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") {
      pos += 1
      return .object([])
    }
    while true {
      skipWhitespace()
      guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else {
        throw error("expected a key in double quotes, found \(describeNext())")
      }
      let keyStart = pos
      let key = try parseString()
      guard seen.insert(key).inserted else { throw error("duplicate key \"\(key)\"", at: keyStart) }
      skipWhitespace()
      guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else {
        throw error("expected ':' after key \"\(key)\", found \(describeNext())")
      }
      pos += 1
      skipWhitespace()
      members.append(JSONMember(key, try parseValue()))
      skipWhitespace()
      guard pos < bytes.count else { throw error("expected ',' or '}', found the end of the file") }
      if bytes[pos] == UInt8(ascii: ",") {
        pos += 1
        continue
      }
      if bytes[pos] == UInt8(ascii: "}") {
        pos += 1
        return .object(members)
      }
      throw error("expected ',' or '}', found \(describeNext())")
    }
  }

  private mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
    try nest()
    defer { depth -= 1 }
    pos += 1
    var items: [JSONValue] = []
    skipWhitespace()
    if pos < bytes.count && bytes[pos] == UInt8(ascii: "]") {
      pos += 1
      return .array([])
    }
    while true {
      skipWhitespace()
      items.append(try parseValue())
      skipWhitespace()
      guard pos < bytes.count else { throw error("expected ',' or ']', found the end of the file") }
      if bytes[pos] == UInt8(ascii: ",") {
        pos += 1
        continue
      }
      if bytes[pos] == UInt8(ascii: "]") {
        pos += 1
        return .array(items)
      }
      throw error("expected ',' or ']', found \(describeNext())")
    }
  }

  private mutating func parseString() throws(JSONSyntaxError) -> String {
    let start = pos
    pos += 1
    var out: [UInt8] = []
    while true {
      guard pos < bytes.count else { throw error("unterminated string", at: start) }
      let b = bytes[pos]
      switch b {
      case UInt8(ascii: "\""):
        pos += 1
        return String(decoding: out, as: UTF8.self)
      case UInt8(ascii: "\\"):
        pos += 1
        guard pos < bytes.count else { throw error("unterminated string", at: start) }
        let e = bytes[pos]
        pos += 1
        switch e {
        case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): out.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
          var code = try hex4()
          if (0xD800..<0xDC00).contains(code), pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"),
            bytes[pos + 1] == UInt8(ascii: "u")
          {
            pos += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw error("invalid surrogate pair") }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
          }
          guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
          out.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
          throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))'", at: pos - 2)
        }
      case 0..<0x20:
        throw error("control character in a string (escape it)")
      default:
        out.append(b)
        pos += 1
      }
    }
  }

  private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
    guard pos + 4 <= bytes.count else { throw error("incomplete \\u escape") }
    var v: UInt32 = 0
    for _ in 0..<4 {
      let c = bytes[pos]
      let d: UInt32
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
      default: throw error("invalid \\u escape")
      }
      v = v * 16 + d
      pos += 1
    }
    return v
  }

  private mutating func parseNumber() throws(JSONSyntaxError) -> JSONValue {
    let start = pos
    func digits(_ p: inout JSONParser) -> Int {
      var n = 0
      while p.pos < p.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(p.bytes[p.pos]) {
        p.pos += 1
        n += 1
      }
      return n
    }
    if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
    let intStart = pos
    let intDigits = digits(&self)
    if intDigits == 0 { throw error("invalid number", at: start) }
    if intDigits > 1 && bytes[intStart] == UInt8(ascii: "0") { throw error("leading zero in a number", at: start) }
    var integral = true
    if pos < bytes.count && bytes[pos] == UInt8(ascii: ".") {
      pos += 1
      integral = false
      if digits(&self) == 0 { throw error("invalid number", at: start) }
    }
    if pos < bytes.count && (bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E")) {
      pos += 1
      integral = false
      if pos < bytes.count && (bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-")) { pos += 1 }
      if digits(&self) == 0 { throw error("invalid number", at: start) }
    }
    let text = String(decoding: bytes[start..<pos], as: UTF8.self)
    if integral, let n = Int(text) { return .int(n) }
    return .number(text)
  }
}
