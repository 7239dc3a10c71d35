import Foundation
import KernelTrees
import Patches

// The public face of the data-driven scenarios (fixtures/scenarios/*.json) that the matrix,
// the review aid and `bo-repro run` use. The engine behind it is in this folder.

/// Whether a scenario shows a patch's delta or a case the patch promises not to change.
public enum ScenarioKind: String, Hashable, Codable, Sendable {
  /// The before and after variants must behave differently.
  case delta
  /// Both variants must behave alike.
  case noChange = "no-change"
}

/// One scenario file: a setup, steps, and the expected outcome of each variant.
public struct Scenario: Hashable, Sendable {
  /// The file it was read from.
  public let file: String
  /// The slug of the patch it is about.
  public let patch: String
  /// A one-line title.
  public let title: String
  /// Delta or no-change.
  public let kind: ScenarioKind
  /// What the before variant shows, in a few words, for the matrix ("OOM kill on readback").
  public let beforeHeadline: String
  /// What the after variant shows, in a few words.
  public let afterHeadline: String
  /// The device model the steps drive (panfrost for `madvise-list-move`, TTM otherwise).
  public let driver: ScenarioDriver
  /// The machine it boots.
  public let setup: ScenarioSetup
  /// Tasks started before the first step.
  public let tasks: [ScenarioTask]
  /// The steps, in order.
  public let steps: [ScenarioOp]
  /// What the before variant must show (for a no-change scenario, the same as ``expectAfter``).
  public let expectBefore: ScenarioExpectation
  /// What the after variant must show.
  public let expectAfter: ScenarioExpectation
  /// Patches that make the setup unreachable: with one of them in a tree, the broken state
  /// the scenario builds cannot arise there (e.g. "Drop tt->restore" removes the stale
  /// restore state the NULL/handle scenarios start from), so it is not run.
  public var unreachableWith: [String] = []
  /// Patches that replace the code the scenario measures: with one of them in a tree, the
  /// expectations describe code that is no longer there (e.g. the v14 copy loop's peak
  /// memory on a tree with the zero-copy loop), so it is not run.
  public var supersededBy: [String] = []
  /// The scenario whose headline stands for the patch in a matrix cell.
  public var primary = false
}

/// Which expected outcome a run matched.
public enum ScenarioMatch: Hashable, Sendable {
  /// The before variant's expectation (and not the after's).
  case before
  /// The after variant's expectation (and not the before's).
  case after
  /// Both (a no-change scenario).
  case both
  /// Neither; the text says what differed.
  case neither(String)
  /// Not run: the tree carries a patch that makes the scenario's setup unreachable or
  /// replaces the code it measures (see ``Scenario/unreachableWith`` and
  /// ``Scenario/supersededBy``); the text names it.
  case notApplicable(String)
}

/// The result of running one scenario on one tree.
public struct ScenarioResult: Hashable, Sendable {
  public let scenario: Scenario
  public let match: ScenarioMatch
  /// The observations either expectation names, in the order the scenario names them: `key`
  /// and `value` (`oomKills` = `1`, `dmesg "page allocation failure"` = `present`).
  public let observations: [Observation]
  /// The halt, if the kernel halted: `oops at steps[3] (restore): BUG: ...`.
  public let halt: String?
  /// Why the steps stopped early, if they did.
  public let stopped: String?
  /// The kernel log of the run, line by line.
  public let dmesg: [String]

  /// One observed value.
  public struct Observation: Hashable, Sendable {
    public let key: String
    public let value: String
  }

  public init(
    scenario: Scenario, match: ScenarioMatch, observations: [Observation], halt: String? = nil,
    stopped: String? = nil, dmesg: [String] = []
  ) {
    self.scenario = scenario
    self.match = match
    self.observations = observations
    self.halt = halt
    self.stopped = stopped
    self.dmesg = dmesg
  }

  /// The observed outcome, as one line: `key=value, ...`, the halt and why the run stopped.
  public var observed: String {
    var parts = observations.map { "\($0.key)=\($0.value)" }
    if let halt { parts.append("halt: \(halt)") }
    if let stopped { parts.append("stopped: \(stopped)") }
    return parts.joined(separator: ", ")
  }
}

/// A scenario file that cannot be read: one line naming the file, the place and the problem.
public struct ScenarioError: Error, Hashable, Sendable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Loading and running scenarios.
public enum ScenarioLibrary {
  /// The scenarios in `paths` (files, or folders whose `*.json` files are read in name order);
  /// the folder `defaultDirectory` when `paths` is empty. Every file is read before any runs,
  /// so a malformed one is reported before anything else happens.
  public static func load(paths: [String], defaultDirectory: String) throws -> [Scenario] {
    var files: [String] = []
    for path in paths.isEmpty ? [defaultDirectory] : paths {
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        files += try Self.files(in: path)
      } else {
        files.append(path)
      }
    }
    return try files.map { try load(file: $0) }
  }

  /// Every `*.json` in `directory`, sorted by file name; throws ``ScenarioError`` for the
  /// first malformed file.
  public static func load(directory: String) throws -> [Scenario] {
    try files(in: directory).map { try load(file: $0) }
  }

  /// The paths of the `*.json` files in `directory`, sorted by file name; a folder without
  /// any is an error, since running nothing would look like passing.
  public static func files(in directory: String) throws -> [String] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue,
      let names = try? FileManager.default.contentsOfDirectory(atPath: directory)
    else { throw ScenarioError("\(directory): cannot read the directory") }
    let files = names.filter { $0.hasSuffix(".json") }.sorted()
    guard !files.isEmpty else { throw ScenarioError("\(directory): no scenario files (*.json) in the directory") }
    return files.map { (directory as NSString).appendingPathComponent($0) }
  }

  /// Parses scenario text as if read from `file` (for tests and tools that hold the text).
  public static func parse(_ text: String, file: String) throws -> Scenario {
    try ScenarioLoader.parse(text, file: file)
  }

  /// One file.
  public static func load(file: String) throws -> Scenario {
    guard let data = FileManager.default.contents(atPath: file) else {
      throw ScenarioError("\(file): cannot read the file")
    }
    guard let text = String(data: data, encoding: .utf8) else { throw ScenarioError("\(file): not UTF-8 text") }
    return try ScenarioLoader.parse(text, file: file)
  }

  /// Runs `scenario` on `tree` and says which expectation the outcome matched. Throws only
  /// for a scenario that cannot run on the tree (its patch's code is absent there).
  public static func run(_ scenario: Scenario, on tree: KernelTree) throws -> ScenarioResult {
    guard let model = PatchModels.model(scenario.patch) else {
      throw ScenarioError("\(scenario.file): patch: unknown patch \"\(scenario.patch)\"")
    }
    guard tree.hasCode(of: model) else {
      throw ScenarioError(
        "\(scenario.file): the code \(scenario.patch) changes is absent from \(tree) (it needs \(model.requires.joined(separator: ", ")))"
      )
    }
    if let blocker = scenario.unreachableWith.first(where: tree.stack.contains) {
      return ScenarioResult(
        scenario: scenario, match: .notApplicable("its setup needs a state \(blocker) removes"),
        observations: [], stopped: "not run: \(blocker) is in the tree")
    }
    if let successor = scenario.supersededBy.first(where: tree.stack.contains) {
      return ScenarioResult(
        scenario: scenario, match: .notApplicable("\(successor) replaces the code it measures"),
        observations: [], stopped: "not run: \(successor) is in the tree")
    }
    return ScenarioRunner(scenario, tree: tree).run()
  }
}
