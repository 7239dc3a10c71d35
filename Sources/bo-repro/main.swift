import Foundation
import PackageData

/// The tool's version, printed by `--version`.
let version = "0.2.0-dev"

/// Every command, in the order `bo-repro help` lists them.
enum Commands {
  static let all: [any Command.Type] = [
    MatrixCommand.self, ScanCommand.self, HistoryCommand.self, RecordCommand.self, ReviewCommand.self,
    PatchesCommand.self, RunCommand.self,
    ExploreCommand.self,
    FaultsCommand.self, FuzzCommand.self, BenchCommand.self,
  ]

  static func named(_ name: String) throws -> any Command.Type {
    guard let command = all.first(where: { $0.spec.name == name }) else {
      throw UsageError(description: "unknown command '\(Terminal.escaped(name))' (try 'bo-repro help')")
    }
    return command
  }
}

/// `bo-repro --help`: the commands, as swift-argument-parser lists subcommands.
func overview() -> String {
  var lines = [
    "OVERVIEW: Executable models of upstream Linux kernel memory-management patches, each a before/after pair, with a regression matrix per stable branch and a backport review aid.",
    "",
    "USAGE: bo-repro <command> [<options>]",
    "",
    "OPTIONS:",
    CommandSpec.column("--version", "Show the version."),
    CommandSpec.column("-h, --help", "Show help information."),
    "",
    "COMMANDS:",
  ]
  for command in Commands.all { lines.append(CommandSpec.column(command.spec.name, command.spec.abstract)) }
  lines.append(CommandSpec.column("help", "Show help for a command."))
  lines += [
    "",
    "  See 'bo-repro help <command>' or 'bo-repro <command> --help' for a command's options, examples and exit statuses.",
    "",
    "EXIT STATUS:",
  ]
  for (status, meaning) in exitStatusMeanings { lines.append(CommandSpec.column(String(status.rawValue), meaning)) }
  return lines.joined(separator: "\n")
}

/// What each exit status means across the tool (README.md has the same table).
let exitStatusMeanings: [(ExitStatus, String)] = [
  (.success, "success (review: the patch applies and is needed)"),
  (.error, "error: bad input, a file that cannot be read"),
  (.checkFailed, "a check failed: a verdict contradicts the branch data, a regression, a failed scenario, a model bug"),
  (.notNeeded, "review: not needed, the code is absent"),
  (.alreadyApplied, "review: already applied"),
  (.blocked, "review: conflicts, or prerequisites missing"),
  (.unknown, "review: cannot decide"),
  (.usage, "usage error"),
]

func run(_ args: [String]) throws -> ExitStatus {
  guard let first = args.first else {
    throw UsageError(description: "no command given (try 'bo-repro help')")
  }
  switch first {
  case "-h", "--help":
    Terminal.print(overview())
    return .success
  case "--version":
    Terminal.print("bo-repro \(version)")
    return .success
  case "help":
    guard args.count <= 2 else {
      throw UsageError(description: "unexpected argument '\(Terminal.escaped(args[2]))' for 'help'")
    }
    if args.count == 2 {
      Terminal.print(try Commands.named(args[1]).spec.help)
    } else {
      Terminal.print(overview())
    }
    return .success
  default:
    if first.hasPrefix("-") {
      throw UsageError(description: "unknown option \(Terminal.escaped(first)) (try 'bo-repro help')")
    }
  }
  let command = try Commands.named(first)
  let a = try Arguments(Array(args.dropFirst()), spec: command.spec)
  if a.wantsHelp {
    Terminal.print(command.spec.help)
    return .success
  }
  if a.flag("--version") {
    Terminal.print("bo-repro \(version)")
    return .success
  }
  return try command.run(a)
}

let status: ExitStatus
do {
  status = try run(Array(CommandLine.arguments.dropFirst()))
} catch let error as UsageError {
  Terminal.error("bo-repro: \(error)")
  status = .usage
} catch let error as CheckFailed {
  Terminal.error("bo-repro: \(error)")
  status = .checkFailed
} catch {
  Terminal.error("bo-repro: \(error)")
  status = .error
}
exit(status.rawValue)
