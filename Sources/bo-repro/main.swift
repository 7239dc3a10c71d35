import Foundation

/// Every command, in the order `bo-repro help` lists them.
enum Commands {
  static let all: [any Command.Type] = [
    MatrixCommand.self, ReviewCommand.self, PatchesCommand.self, ExploreCommand.self, RunCommand.self,
    FaultsCommand.self,
    BenchCommand.self, FuzzCommand.self,
  ]
}

func usage() -> String {
  var lines = ["usage: bo-repro <command> [options]", "       bo-repro <command> --help", "", "commands:"]
  for command in Commands.all { lines.append(command.help) }
  lines.append("  help [COMMAND]")
  lines.append("      Show this text, or COMMAND's.")
  return lines.joined(separator: "\n")
}

func run(_ args: [String]) throws {
  let a = Arguments(args)
  guard let name = a.command else {
    if a["--help"] != nil {
      print(usage())
      return
    }
    throw UsageError(description: "no command given (try 'bo-repro help')")
  }
  func command(_ name: String) throws -> any Command.Type {
    guard let command = Commands.all.first(where: { $0.name == name }) else {
      throw UsageError(description: "unknown command '\(name)' (try 'bo-repro help')")
    }
    return command
  }
  if name == "help" {
    try a.allow([], positional: 1)
    if let topic = a.positional.first {
      print("usage: bo-repro\n" + (try command(topic)).help)
    } else {
      print(usage())
    }
    return
  }
  let selected = try command(name)
  if a["--help"] != nil {
    print("usage: bo-repro\n" + selected.help)
    return
  }
  try selected.run(a)
}

do {
  try run(Array(CommandLine.arguments.dropFirst()))
} catch let error as UsageError {
  FileHandle.standardError.write(Data("bo-repro: \(error)\n".utf8))
  exit(2)
} catch {
  FileHandle.standardError.write(Data("bo-repro: \(error)\n".utf8))
  exit(1)
}
