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
  lines.append("  help")
  lines.append("      Show this text.")
  return lines.joined(separator: "\n")
}

func run(_ args: [String]) throws {
  let a = try Arguments(args)
  guard let name = a.command, name != "help", name != "--help" else {
    print(usage())
    return
  }
  guard let command = Commands.all.first(where: { $0.name == name }) else {
    throw UsageError(description: "unknown command '\(name)' (try 'bo-repro help')")
  }
  if a.options["--help"] != nil {
    print("usage: bo-repro\n" + command.help)
    return
  }
  try command.run(a)
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
