import Foundation

/// A usage error: one line on stderr and exit status 2.
struct UsageError: Error, CustomStringConvertible {
  let description: String
}

/// The command line, parsed by hand (the package has no dependencies).
///
/// Parsing only splits the words; ``allow(_:repeatable:positional:)`` then checks them against
/// what the command knows, so that an unknown option is reported as unknown wherever it
/// stands, not as an option missing its value.
struct Arguments {
  /// One `--name [value]` as given; `value` is `nil` when no value followed.
  struct Option {
    let name: String
    let value: String?
  }

  var command: String?
  /// Every option, in the order given.
  private(set) var given: [Option] = []
  var positional: [String] = []

  /// Options that take no value.
  static let valueless: Set<String> = ["--help", "--debug-list", "--quick"]

  /// Splits `args` into the command, `--name value` options and positional arguments.
  init(_ args: [String]) {
    var rest = args[...]
    while let arg = rest.popFirst() {
      if arg.hasPrefix("--") {
        if Self.valueless.contains(arg) {
          given.append(Option(name: arg, value: ""))
        } else if let next = rest.first, !next.hasPrefix("--") {
          rest.removeFirst()
          given.append(Option(name: arg, value: next))
        } else {
          given.append(Option(name: arg, value: nil))
        }
      } else if command == nil {
        command = arg
      } else {
        positional.append(arg)
      }
    }
  }

  /// The value of `name` (the empty string for a valueless option), or `nil` if not given.
  /// ``allow(_:repeatable:positional:)`` has checked that a non-repeatable option appears once.
  subscript(name: String) -> String? {
    given.last { $0.name == name }?.value
  }

  /// Every value given for a repeatable option, in order.
  func values(_ name: String) -> [String] {
    given.filter { $0.name == name }.compactMap(\.value)
  }

  /// Checks the options and arguments against what the command accepts, in this order: an
  /// option the command does not know, an option without its value, an option given twice
  /// that may appear once, and positional arguments beyond the first `positional`.
  func allow(_ known: Set<String>, repeatable: Set<String> = [], positional allowed: Int = 0) throws {
    let command = self.command ?? ""
    if let unknown = given.first(where: { !known.contains($0.name) && $0.name != "--help" }) {
      throw UsageError(description: "unknown option \(unknown.name) for '\(command)'")
    }
    if let missing = given.first(where: { $0.value == nil }) {
      throw UsageError(description: "option \(missing.name) needs a value")
    }
    var seen: Set<String> = []
    for option in given where !seen.insert(option.name).inserted && !repeatable.contains(option.name) {
      throw UsageError(description: "option \(option.name) given twice for '\(command)'")
    }
    if let extra = positional.dropFirst(allowed).first {
      throw UsageError(description: "unexpected argument '\(extra)' for '\(command)'")
    }
  }
}

/// Parses `--name` as an integer in `range`.
func intOption(_ a: Arguments, _ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
  guard let text = a[name] else { return value }
  guard let n = Int(text), range.contains(n) else {
    throw UsageError(
      description: "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
  }
  return n
}

/// A `bo-repro` subcommand.
protocol Command: Sendable {
  /// The word that selects it.
  static var name: String { get }
  /// Its usage lines and what it does, for `bo-repro help` and `bo-repro NAME --help`.
  static var help: String { get }
  /// Runs it; a ``UsageError`` means bad arguments (exit 2), any other error bad input or a
  /// failed check (exit 1).
  static func run(_ a: Arguments) throws
}
