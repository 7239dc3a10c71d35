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
}

/// The result of running one scenario on one tree.
public struct ScenarioResult: Hashable, Sendable {
  public let scenario: Scenario
  public let match: ScenarioMatch
  /// The observed outcome, as one line.
  public let observed: String
}

/// A scenario file that cannot be read: one line naming the file, the place and the problem.
public struct ScenarioError: Error, Hashable, Sendable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Loading and running scenarios.
public enum ScenarioLibrary {
  /// Finds `fixtures/scenarios` like `PatchSet.locate()` finds `patches/`.
  public static func locate(explicit: String? = nil) -> String {
    explicit ?? "fixtures/scenarios"
  }

  /// Every `*.json` in `directory`, sorted by file name; throws ``ScenarioError`` for the
  /// first malformed file.
  public static func load(directory: String) throws -> [Scenario] {
    throw ScenarioError("\(directory): scenarios are not implemented yet")
  }

  /// One file.
  public static func load(file: String) throws -> Scenario {
    throw ScenarioError("\(file): scenarios are not implemented yet")
  }

  /// Runs `scenario` on `tree` and says which expectation the outcome matched. Throws only
  /// for a scenario that cannot run on the tree (its patch's code is absent there).
  public static func run(_ scenario: Scenario, on tree: KernelTree) throws -> ScenarioResult {
    throw ScenarioError("\(scenario.file): scenarios are not implemented yet")
  }
}
