import Backport
import Foundation
import JSONText
import PackageData

/// Options several commands share, written once so their help reads the same everywhere.
extension OptionSpec {
  /// `--format <format>` with its values and default.
  static func format(_ choices: [String], default value: String) -> OptionSpec {
    OptionSpec(
      name: "--format", value: "format", choices: choices, defaultValue: value,
      help: "The output format (JSON: README.md \"JSON output\").")
  }

  static let branches = OptionSpec(
    name: "--branches", value: "file", defaultValue: "fixtures/stable-branches.json",
    help: "The stable-branch data to read.")

  static let scenarios = OptionSpec(
    name: "--scenarios", value: "dir", defaultValue: "fixtures/scenarios", help: "The scenario files to run.")
}

extension ArgumentSpec {
  /// Scenario files or directories, for the commands that run scenarios.
  static let scenarioFiles = ArgumentSpec(
    name: "file-or-dir", help: "Scenario files or directories (default: the package's fixtures/scenarios).",
    optional: true, repeating: true)
}

extension Arguments {
  /// The package data, from `--data`, `BO_REPRO_DATA`, the resources or the checkout.
  func data() throws -> PackageData { try PackageData.locate(explicit: self["--data"]) }

  /// `--branches FILE`, or the data's branch fixture.
  func branchesFile() throws -> String { try self["--branches"] ?? data().branches }

  /// `--scenarios DIR`, or the data's scenarios.
  func scenariosDirectory() throws -> String { try self["--scenarios"] ?? data().scenarios }

  /// The branch `name` in `set`, accepting the ways people write it (`6.18`, `v6.18`,
  /// `linux-6.18.y`, `stable/linux-6.18.y`); an unknown one is a usage error listing the known.
  func branch(_ name: String, in set: StableBranchSet) throws -> StableBranch {
    guard let branch = set.branch(name) else {
      throw UsageError(
        description:
          "unknown branch '\(Terminal.escaped(name))' (known: \(set.branches.map(\.name).joined(separator: ", ")); also written 6.18, v6.18, linux-6.18.y, stable/linux-6.18.y)"
      )
    }
    return branch
  }
}

/// The time a report is stamped with (KCIDB's `start_time`): now, or `SOURCE_DATE_EPOCH`
/// (seconds since 1970, the reproducible-builds convention) when it is set to a number, so
/// that the same input gives the same output.
func reportDate() -> Date {
  if let epoch = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"], let seconds = Int(epoch) {
    return Date(timeIntervalSince1970: TimeInterval(seconds))
  }
  return Date()
}

/// Prints a JSON document.
func printJSON(_ value: JSONValue) {
  Terminal.print(value.serialized())
}
