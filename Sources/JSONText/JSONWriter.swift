// Writing JSON: every JSON output of the tool is a JSONValue built in key order, so that
// "schema" comes first, absent values are written as null (never left out), and a control
// character from an input file reaches a terminal only as a \u escape.

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
  ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
  public init(stringLiteral value: String) { self = .string(value) }
  public init(integerLiteral value: Int) { self = .int(value) }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
  /// An object with its keys in the order written.
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    self = .object(elements.map { JSONMember($0.0, $0.1) })
  }
  public init(nilLiteral: ()) { self = .null }

  /// A string, or null.
  public init(_ value: String?) { self = value.map { .string($0) } ?? .null }
  /// An integer, or null.
  public init(_ value: Int?) { self = value.map { .int($0) } ?? .null }
  /// A boolean, or null.
  public init(_ value: Bool?) { self = value.map { .bool($0) } ?? .null }
  /// A number, or null for nil, infinity and NaN (JSON has neither).
  public init(_ value: Double?) {
    guard let value, value.isFinite else {
      self = .null
      return
    }
    self = .number("\(value)")
  }
  /// An array of strings.
  public init(_ values: [String]) { self = .array(values.map { .string($0) }) }
  /// An object with the keys in the order given.
  public init(_ members: [(String, JSONValue)]) { self = .object(members.map { JSONMember($0.0, $0.1) }) }

  /// The value as JSON text: two-space indentation, one member or element per line, keys in
  /// their order. Every character below U+0020, U+007F, U+0080 to U+009F (C1 controls,
  /// among them the one-byte CSI) and U+2028/U+2029 is written as an escape.
  public func serialized() -> String {
    var out = ""
    write(to: &out, indent: 0)
    return out
  }

  private func write(to out: inout String, indent: Int) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let n): out += String(n)
    case .number(let text): out += text
    case .string(let s): JSONValue.writeString(s, to: &out)
    case .array(let elements):
      if elements.isEmpty {
        out += "[]"
        return
      }
      out += "[\n"
      for (i, e) in elements.enumerated() {
        out += String(repeating: "  ", count: indent + 1)
        e.write(to: &out, indent: indent + 1)
        out += i == elements.count - 1 ? "\n" : ",\n"
      }
      out += String(repeating: "  ", count: indent) + "]"
    case .object(let members):
      if members.isEmpty {
        out += "{}"
        return
      }
      out += "{\n"
      for (i, m) in members.enumerated() {
        out += String(repeating: "  ", count: indent + 1)
        JSONValue.writeString(m.key, to: &out)
        out += ": "
        m.value.write(to: &out, indent: indent + 1)
        out += i == members.count - 1 ? "\n" : ",\n"
      }
      out += String(repeating: "  ", count: indent) + "}"
    }
  }

  private static func writeString(_ s: String, to out: inout String) {
    out += "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      case "\r": out += "\\r"
      case _
      where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028
        || scalar.value == 0x2029:
        let hex = String(scalar.value, radix: 16, uppercase: false)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    out += "\""
  }

  /// The members of an object, in order (none for any other value).
  public var objectMembers: [JSONMember] {
    if case .object(let members) = self { return members }
    return []
  }

  /// The member `key` of an object, if this is one and has it.
  public subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.first { $0.key == key }?.value
  }
}
