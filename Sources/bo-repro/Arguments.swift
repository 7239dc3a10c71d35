import Foundation

/// The exit statuses of every command. A script can tell "the answer is no" (2 to 6) from
/// "could not answer" (1) and "called wrongly" (64, `EX_USAGE`, as swift-argument-parser
/// tools exit).
enum ExitStatus: Int32, CaseIterable, Sendable {
  /// Success; for `review`, the patch applies and is needed.
  case success = 0
  /// An error: bad input, a file that cannot be read, a missing tool.
  case error = 1
  /// A check ran and failed: a verdict contradicting the branch data, a regression in
  /// `matrix --compare`, a scenario not behaving as expected, a model bug, a fuzz invariant.
  case checkFailed = 2
  /// `review`: not needed, the code the patch changes is absent from the branch.
  case notNeeded = 3
  /// `review`: already applied on the branch.
  case alreadyApplied = 4
  /// `review`: needed, but conflicts with the branch or needs patches it lacks.
  case blocked = 5
  /// `review`: cannot decide (a patch the package does not model, a state it cannot tell).
  case unknown = 6
  /// `review`: a partial backport (only some of the upstream patch's hunks), no verdict of
  /// the full fix; for a series, at least one message could not be read.
  case partial = 7
  /// A usage error: an unknown command or option, a missing or malformed value.
  case usage = 64
}

/// A usage error: one line on stderr and exit status 64.
struct UsageError: Error, CustomStringConvertible {
  let description: String
}

/// A failed check that the command has already reported on stdout: one line on stderr and
/// exit status 2.
struct CheckFailed: Error, CustomStringConvertible {
  let description: String
}

/// Bad input found by a command (an unreadable mail, a message with no patch): one line on
/// stderr and exit status 1.
struct CommandError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// One option a command accepts, for parsing and for its help.
struct OptionSpec: Sendable {
  /// `--format`.
  let name: String
  /// `h` for `-h`.
  var short: Character? = nil
  /// The value's name in help (`format` shows as `<format>`); `nil` for a flag.
  var value: String? = nil
  /// The values it takes, when they are a closed set (checked while parsing).
  var choices: [String] = []
  /// The value used when the option is not given, for help.
  var defaultValue: String? = nil
  /// Whether it may be given more than once.
  var repeatable = false
  /// What it does, one sentence.
  let help: String

  var isFlag: Bool { value == nil }
}

/// A positional argument, for help.
struct ArgumentSpec: Sendable {
  /// `patch` shows as `<patch>`.
  let name: String
  let help: String
  var optional = false
  var repeating = false
}

/// What a command is, takes and answers: the source of its parser's rules and of its help.
struct CommandSpec: Sendable {
  let name: String
  /// One line, for the command list.
  let abstract: String
  /// What it does, in a paragraph or two.
  let discussion: String
  var arguments: [ArgumentSpec] = []
  var options: [OptionSpec] = []
  /// Whether it reads the package data (then `--data` is accepted).
  var readsData = true
  /// Command lines that show its use, each with what it does.
  var examples: [(String, String)] = []
  /// What each exit status means for this command.
  var exitStatuses: [(ExitStatus, String)] = [
    (.success, "success"), (.error, "bad input or a file that cannot be read"), (.usage, "usage error"),
  ]
  /// Positional arguments allowed: `Int.max` for a list.
  var maxPositional: Int { arguments.contains(where: \.repeating) ? Int.max : arguments.count }

  /// The options every command takes besides its own.
  var allOptions: [OptionSpec] {
    options
      + (readsData
        ? [
          OptionSpec(
            name: "--data", value: "dir",
            help:
              "Read patches/ and fixtures/ from <dir> instead of the package's own (also: the BO_REPRO_DATA environment variable)."
          )
        ] : [])
      + [
        OptionSpec(name: "--version", help: "Show the version."),
        OptionSpec(name: "--help", short: "h", help: "Show help information."),
      ]
  }

  /// The help text, laid out as swift-argument-parser tools print theirs.
  var help: String {
    var out = ["OVERVIEW: \(abstract)", ""]
    if !discussion.isEmpty { out += [Self.wrap(discussion, indent: 0), ""] }
    out.append("USAGE: " + usage)
    if !arguments.isEmpty {
      out += ["", "ARGUMENTS:"]
      for a in arguments { out.append(Self.column("<\(a.name)>", a.help)) }
    }
    out += ["", "OPTIONS:"]
    for o in allOptions {
      var label = (o.short.map { "-\($0), " } ?? "") + o.name
      if let v = o.value { label += " <\(v)>" }
      var text = o.help
      if !o.choices.isEmpty { text += " Values: \(o.choices.joined(separator: ", "))." }
      if o.repeatable { text += " May be repeated." }
      if let d = o.defaultValue { text += " (default: \(d))" }
      out.append(Self.column(label, text))
    }
    if !examples.isEmpty {
      out += ["", "EXAMPLES:"]
      for (line, what) in examples {
        out.append("  \(line)")
        out.append(Self.wrap(what, indent: 6))
      }
    }
    out += ["", "EXIT STATUS:"]
    for (status, meaning) in exitStatuses { out.append(Self.column(String(status.rawValue), meaning)) }
    return out.joined(separator: "\n")
  }

  /// `bo-repro matrix [--format <format>] ...`.
  var usage: String {
    var parts = ["bo-repro", name]
    for o in options {
      var p = o.name + (o.value.map { " <\($0)>" } ?? "")
      if o.repeatable { p += " ..." }
      parts.append("[\(p)]")
    }
    if readsData { parts.append("[--data <dir>]") }
    for a in arguments {
      let p = "<\(a.name)>" + (a.repeating ? " ..." : "")
      parts.append(a.optional ? "[\(p)]" : p)
    }
    return Self.wrap(parts.joined(separator: " "), indent: 7, first: 0)
  }

  /// `label` in a 26-column first column, `text` wrapped beside it.
  static func column(_ label: String, _ text: String) -> String {
    let pad = 26
    let head = "  " + label
    let body = wrap(text, indent: pad)
    if head.count < pad - 1 { return head + String(repeating: " ", count: pad - head.count) + body.dropFirst(pad) }
    return head + "\n" + body
  }

  /// `text` wrapped at 100 columns, every line indented by `indent` (the first by `first`).
  static func wrap(_ text: String, indent: Int, first: Int? = nil) -> String {
    var lines: [String] = []
    for paragraph in text.components(separatedBy: "\n") {
      var line = String(repeating: " ", count: lines.isEmpty ? (first ?? indent) : indent)
      var empty = true
      for word in paragraph.split(separator: " ", omittingEmptySubsequences: true) {
        if !empty && line.count + 1 + word.count > 100 {
          lines.append(line)
          line = String(repeating: " ", count: indent)
          empty = true
        }
        line += (empty ? "" : " ") + word
        empty = false
      }
      lines.append(line)
    }
    return lines.joined(separator: "\n")
  }
}

/// The command line, parsed against a ``CommandSpec`` by hand (the package has no
/// dependencies): `--name value`, `--name=value`, `-h`, flags, `--` before arguments that
/// start with a dash, positional arguments. A value may start with a single `-` (`--seed -1`
/// is then refused by the range check, not taken for an option).
struct Arguments {
  let spec: CommandSpec
  private var given: [(name: String, value: String)] = []
  private(set) var positional: [String] = []

  init(_ args: [String], spec: CommandSpec) throws {
    self.spec = spec
    let options = spec.allOptions
    var rest = args[...]
    var onlyPositional = false
    while let arg = rest.popFirst() {
      if onlyPositional || !arg.hasPrefix("-") || arg == "-" {
        positional.append(arg)
        continue
      }
      if arg == "--" {
        onlyPositional = true
        continue
      }
      var name = arg
      var inline: String?
      if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") {
        name = String(arg[..<eq])
        inline = String(arg[arg.index(after: eq)...])
      }
      let option: OptionSpec?
      if name.hasPrefix("--") {
        option = options.first { $0.name == name }
      } else if name.count == 2 {
        option = options.first { $0.short == name.last }
      } else {
        option = nil
      }
      guard let option else {
        throw UsageError(description: "unknown option \(Terminal.escaped(name)) for '\(spec.name)'")
      }
      let value: String
      if option.isFlag {
        if inline != nil { throw UsageError(description: "option \(option.name) takes no value") }
        value = ""
      } else if let inline {
        value = inline
      } else if let next = rest.first, !next.hasPrefix("--") {
        rest.removeFirst()
        value = next
      } else {
        throw UsageError(description: "option \(option.name) needs a value")
      }
      if !option.choices.isEmpty && !option.choices.contains(value) {
        throw UsageError(
          description:
            "unknown \(option.value ?? option.name) '\(Terminal.escaped(value))' for \(option.name) (\(Self.list(option.choices)))"
        )
      }
      if !option.repeatable && given.contains(where: { $0.name == option.name }) {
        throw UsageError(description: "option \(option.name) given twice for '\(spec.name)'")
      }
      given.append((option.name, value))
    }
    if wantsHelp || self["--version"] != nil { return }
    if let extra = positional.dropFirst(spec.maxPositional).first {
      throw UsageError(description: "unexpected argument '\(Terminal.escaped(extra))' for '\(spec.name)'")
    }
  }

  /// `a, b or c`.
  static func list(_ items: [String]) -> String {
    items.count < 2 ? items.joined() : items.dropLast().joined(separator: ", ") + " or " + items.last!
  }

  /// Whether `-h` or `--help` was given.
  var wantsHelp: Bool { self["--help"] != nil }

  /// The value of `name` (the empty string for a flag), or `nil` if not given.
  subscript(name: String) -> String? {
    given.last { $0.name == name }?.value
  }

  /// Whether the flag `name` was given.
  func flag(_ name: String) -> Bool { self[name] != nil }

  /// Every value given for a repeatable option, in order.
  func values(_ name: String) -> [String] {
    given.filter { $0.name == name }.map(\.value)
  }

  /// The value of `name` or its documented default.
  func value(_ name: String) -> String? {
    self[name] ?? spec.allOptions.first { $0.name == name }?.defaultValue
  }

  /// `--name` as an integer in `range`, or `value` when not given.
  func int(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
    guard let text = self[name] else { return value }
    guard let n = Int(text), range.contains(n) else {
      throw UsageError(
        description:
          "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound), got '\(Terminal.escaped(text))'")
    }
    return n
  }
}

/// A `bo-repro` subcommand.
protocol Command: Sendable {
  static var spec: CommandSpec { get }
  /// Runs it and says how it ended; a ``UsageError`` means bad arguments (exit 64), any
  /// other error bad input (exit 1).
  static func run(_ a: Arguments) throws -> ExitStatus
}

/// Writing to stdout and stderr. Text from input files (branch names, scenario titles, patch
/// subjects, paths) reaches the terminal escaped: a control character or terminal escape in
/// a name is shown as `\x1b`, never sent raw.
enum Terminal {
  /// `text` with every control character but newline and tab, DEL and the C1 controls
  /// (U+0080 to U+009F) written as `\xHH`.
  static func escaped(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: isControl) else { return text }
    var out = ""
    for scalar in text.unicodeScalars {
      if isControl(scalar) {
        let hex = String(scalar.value, radix: 16)
        out += "\\x" + (hex.count < 2 ? "0" : "") + hex
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  static func isControl(_ s: Unicode.Scalar) -> Bool {
    (s.value < 0x20 && s != "\n" && s != "\t") || (0x7F...0x9F).contains(s.value)
  }

  /// Prints `text` and a newline on stdout, escaped.
  static func print(_ text: String) {
    FileHandle.standardOutput.write(Data((escaped(text) + "\n").utf8))
  }

  /// Writes one line on stderr, escaped.
  static func error(_ line: String) {
    FileHandle.standardError.write(Data((escaped(line) + "\n").utf8))
  }

  /// Whether stderr is a terminal: only then is progress shown.
  static let stderrIsTerminal = isatty(STDERR_FILENO) == 1
}

/// Progress of a long run on stderr, when stderr is a terminal: one line rewritten in place,
/// at most ten times a second, cleared at the end. Nothing when stderr is a file or a pipe.
final class Progress: @unchecked Sendable {
  private let label: String
  private let enabled: Bool
  private var last = ContinuousClock.now
  private var shown = false

  init(_ label: String, enabled: Bool = Terminal.stderrIsTerminal) {
    self.label = label
    self.enabled = enabled
  }

  /// Shows `status` (e.g. "seed 3 of 20, step 1200") if enough time has passed.
  func update(_ status: @autoclosure () -> String) {
    guard enabled else { return }
    let now = ContinuousClock.now
    guard now - last >= .milliseconds(100) else { return }
    last = now
    shown = true
    FileHandle.standardError.write(Data("\r\u{1B}[K\(label): \(Terminal.escaped(status()))".utf8))
  }

  /// Clears the line.
  func finish() {
    guard enabled, shown else { return }
    FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
  }
}
