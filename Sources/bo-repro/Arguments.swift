import Foundation

/// A usage error: one line on stderr and exit status 2.
struct UsageError: Error, CustomStringConvertible {
  let description: String
}

/// The command line, parsed by hand (the package has no dependencies).
struct Arguments {
  var command: String?
  var options: [String: String] = [:]
  var positional: [String] = []

  /// Splits `args` into the command, `--name value` options and positional arguments.
  /// `valueless` options take no value.
  init(_ args: [String], valueless: Set<String> = ["--help", "--debug-list", "--quick"]) throws {
    var rest = args[...]
    while let arg = rest.popFirst() {
      if arg.hasPrefix("--") {
        if valueless.contains(arg) {
          options[arg] = ""
        } else {
          guard let value = rest.popFirst(), !value.hasPrefix("--") else {
            throw UsageError(description: "option \(arg) needs a value")
          }
          options[arg] = value
        }
      } else if command == nil {
        command = arg
      } else {
        positional.append(arg)
      }
    }
  }

  /// Rejects options the command does not know, and positional arguments beyond the first
  /// `positional`.
  func allow(_ known: Set<String>, positional allowed: Int = 0) throws {
    if let unknown = options.keys.sorted().first(where: { !known.contains($0) }) {
      throw UsageError(description: "unknown option \(unknown) for '\(command ?? "")'")
    }
    if let extra = positional.dropFirst(allowed).first {
      throw UsageError(description: "unexpected argument '\(extra)' for '\(command ?? "")'")
    }
  }
}

/// Parses `--name` as an integer in `range`.
func intOption(_ a: Arguments, _ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
  guard let text = a.options[name] else { return value }
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
