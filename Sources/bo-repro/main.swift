import Backport
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
  init(_ args: [String], valueless: Set<String> = ["--help"]) throws {
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

  /// Rejects options the command does not know.
  func allow(_ known: Set<String>) throws {
    if let unknown = options.keys.sorted().first(where: { !known.contains($0) }) {
      throw UsageError(description: "unknown option \(unknown) for '\(command ?? "")'")
    }
    if let extra = positional.first {
      throw UsageError(description: "unexpected argument '\(extra)' for '\(command ?? "")'")
    }
  }
}

let usage = """
  usage: bo-repro <command> [options]

  commands:
    patches [--dir DIR] [--format text|json]
        List the upstream patches in patches/ (slug, subject, author, upstream commit,
        files touched with +/- counts), parsed and line-count checked.
    help
        Show this text.
  """

func run(_ args: [String]) throws {
  let a = try Arguments(args)
  switch a.command {
  case nil, "help", "--help":
    print(usage)
  case "patches":
    try a.allow(["--dir", "--format"])
    let set = try PatchSet(directory: PatchSet.locate(explicit: a.options["--dir"]))
    switch a.options["--format"] ?? "text" {
    case "text": print(PatchListing.text(set))
    case "json": print(try PatchListing.json(set))
    case let other: throw UsageError(description: "unknown format '\(other)' (text or json)")
    }
  case let other?:
    throw UsageError(description: "unknown command '\(other)' (try 'bo-repro help')")
  }
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
