import BOCore
import Foundation
import Harness
import KernelTrees
import PackageTestSupport
import Patches
import Testing

private let scenarioDirectory = scenariosDirectory

/// The scenario files (names only, for readable test arguments).
private let scenarioFiles = scenarioFileNames()

/// The data-driven scenarios: every file in `fixtures/scenarios` runs on its patch's before
/// and after trees and must match the expectation of each, and bad files are refused with
/// one precise line.
@Suite("Data-driven scenarios (fixtures/scenarios)")
struct ScenarioTests {
  /// The runs of `scenario` on the pair trees of its patch.
  func runPair(_ scenario: Scenario) throws -> (before: ScenarioResult, after: ScenarioResult) {
    let model = try #require(PatchModels.model(scenario.patch))
    return (
      try ScenarioLibrary.run(scenario, on: KernelTree.pair(model, .before)),
      try ScenarioLibrary.run(scenario, on: KernelTree.pair(model, .after))
    )
  }

  @Test("The folder holds scenarios for every patch, two or more for the four original ones")
  func coverage() throws {
    let scenarios = try ScenarioLibrary.load(directory: scenarioDirectory)
    #expect(scenarios.map { ($0.file as NSString).lastPathComponent } == scenarioFiles)
    for model in PatchModels.all {
      let slug = model.patch.slug
      let mine = scenarios.filter { $0.patch == slug }
      #expect(mine.contains { $0.kind == .delta }, "\(slug) has a delta scenario")
      for file in mine.map(\.file) {
        #expect((file as NSString).lastPathComponent.hasPrefix(slug + "--"), "\(file) is named <slug>--<name>.json")
      }
      if ["shmem-backup-v14", "gfp-retry-mayfail-readback", "zero-copy-insert-folio", "madvise-list-move"].contains(
        slug)
      {
        #expect(mine.filter { $0.kind == .delta }.count >= 2, "\(slug) has two or more delta scenarios")
      }
    }
    #expect(scenarios.filter { $0.patch == "gfp-retry-mayfail-readback" && $0.kind == .noChange }.count >= 3)
  }

  @Test("Each scenario file: before matches before, after matches after", arguments: scenarioFiles)
  func scenarioFile(_ name: String) throws {
    let scenario = try ScenarioLibrary.load(file: scenarioDirectory + "/" + name)
    let (before, after) = try runPair(scenario)
    switch scenario.kind {
    case .delta:
      #expect(before.match == .before, "before tree: \(before.match) — observed \(before.observed)")
      #expect(after.match == .after, "after tree: \(after.match) — observed \(after.observed)")
    case .noChange:
      #expect(before.match == .both, "before tree: \(before.match) — observed \(before.observed)")
      #expect(after.match == .both, "after tree: \(after.match) — observed \(after.observed)")
    }
    #expect(!scenario.beforeHeadline.isEmpty && !scenario.afterHeadline.isEmpty)
  }

  @Test("A no-change scenario matches both expectations on both trees, the same way each time")
  func noChange() throws {
    let scenario = try ScenarioLibrary.load(
      file: scenarioDirectory + "/gfp-retry-mayfail-readback--no-change-flag-clear.json")
    #expect(scenario.kind == .noChange && scenario.expectBefore == scenario.expectAfter)
    let first = try runPair(scenario)
    let second = try runPair(scenario)
    #expect(first.before.match == .both && first.after.match == .both)
    #expect(first.before == second.before && first.after == second.after, "deterministic")
  }

  @Test("A scenario runs on a stable branch's tree that carries its patch's code")
  func stableTree() throws {
    let scenario = try ScenarioLibrary.load(
      file: scenarioDirectory + "/null-handle-pages-backup--purge-write-combined.json")
    let tree = try #require(StableTrees.branch("7.1.y")).tree
    let result = try ScenarioLibrary.run(scenario, on: tree)
    #expect(result.match == .after, "7.1.y carries the fix: \(result.observed)")
    #expect(try ScenarioLibrary.run(scenario, on: tree) == result)
  }

  @Test("A tree without the patch's code is refused")
  func codeAbsent() throws {
    let scenario = try ScenarioLibrary.load(
      file: scenarioDirectory + "/gfp-retry-mayfail-readback--readback-under-pressure.json")
    let tree = try KernelTree(base: "v6.12", stack: [])
    #expect(throws: ScenarioError.self) { try ScenarioLibrary.run(scenario, on: tree) }
    do {
      _ = try ScenarioLibrary.run(scenario, on: tree)
    } catch let error as ScenarioError {
      #expect(error.description.contains("absent from v6.12") && error.description.contains("shmem-backup-v14"))
    }
  }

  // MARK: Bad input

  /// A valid scenario to break in one place.
  static let valid = """
    {
      "patch": "shmem-backup-v14",
      "title": "t",
      "kind": "delta",
      "headline": {"before": "b", "after": "a"},
      "setup": {"memoryPages": 64, "swapPages": 64},
      "steps": [
        {"op": "create", "bo": "bo", "pages": 4},
        {"op": "swapout", "bo": "bo", "result": "swapout"}
      ],
      "expect": {
        "before": {"bos": {"bo": {"swapped": true}}},
        "after": {"bos": {"bo": {"backedUp": true}}}
      }
    }
    """

  func message(_ text: String) -> String? {
    do {
      _ = try ScenarioLibrary.parse(text, file: "bad.json")
      return nil
    } catch let error as ScenarioError {
      return error.description
    } catch {
      return "unexpected \(error)"
    }
  }

  @Test("The valid base scenario loads and is a delta")
  func validBase() throws {
    let s = try ScenarioLibrary.parse(Self.valid, file: "ok.json")
    let (before, after) = try runPair(s)
    #expect(before.match == .before && after.match == .after)
  }

  @Test(
    "Bad input: one line naming the file, the place and the problem",
    arguments: [
      (
        "malformed JSON", "\"swapPages\": 64}", "\"swapPages\": 64,}",
        "bad.json: line 6, column 48: expected a key in double quotes, found '}'"
      ),
      (
        "wrong type", "\"pages\": 4}", "\"pages\": \"four\"}",
        "bad.json: steps[0].pages: expected an integer, got a string"
      ),
      (
        "unknown key", "\"memoryPages\": 64", "\"memoryPagez\": 64",
        "bad.json: setup.memoryPagez: unknown key \"memoryPagez\" (known here: memoryPages, swapPages, watermarkMin, poolOrder, shmemLargeFolioOrder, debugList, bugOnDataCorruption, faultInjection, ttmDriver, poolDMAAlloc, poolDMA32, vramPages, ttmPagesLimit)"
      ),
      (
        "unknown op", "\"op\": \"swapout\"", "\"op\": \"swapotu\"",
        "bad.json: steps[1].op: unknown op \"swapotu\" (known: create, populate, fill, check, swapout, destroy, set, spawn, exit, arm, disarm, shrink, count, alloc, fragment, resetCounters, madvise, job, globalSwapout, place, evict, backupPage, copyPage, dropHandle, insertFolio, restoreAndAlloc)"
      ),
      (
        "unknown slug", "\"shmem-backup-v14\"", "\"shmem-backup-v15\"",
        "bad.json: patch: unknown patch \"shmem-backup-v15\" (known: madvise-list-move, shmem-backup-v14, gfp-retry-mayfail-readback, drop-restore-after-restore, zero-copy-insert-folio, null-handle-pages-backup, native-order-backup)"
      ),
      (
        "negative memory", "\"memoryPages\": 64", "\"memoryPages\": -64",
        "bad.json: setup.memoryPages: must be from 1 to 1048576, got -64"
      ),
      (
        "order above 10", "\"swapPages\": 64}", "\"swapPages\": 64, \"poolOrder\": 11}",
        "bad.json: setup.poolOrder: must be from 0 to 10, got 11"
      ),
      (
        "undefined BO", "\"bo\": \"bo\", \"result\"", "\"bo\": \"ghost\", \"result\"",
        "bad.json: steps[1].bo: no BO named \"ghost\" exists at this step"
      ),
      (
        "op of the other driver", "\"op\": \"swapout\"", "\"op\": \"madvise\"",
        "bad.json: steps[1].op: \"madvise\" is a panfrost op, and shmem-backup-v14 runs on TTM"
      ),
      (
        "same expectation twice", "{\"backedUp\": true}", "{\"swapped\": true}",
        "bad.json: expect: before and after are the same, so this is not a delta (use kind \"no-change\" with \"both\")"
      ),
    ] as [(String, String, String, String)])
  func badInput(_ what: String, _ original: String, _ replacement: String, _ expected: String) throws {
    #expect(Self.valid.contains(original), "\(what): the base text has \(original)")
    let text = Self.valid.replacingOccurrences(of: original, with: replacement)
    let got = message(text)
    #expect(got == expected, "\(what)")
    #expect(got.map { !$0.contains("\n") } ?? false, "one line")
  }

  @Test("An unreadable directory or file is one line too")
  func unreadable() {
    #expect(throws: ScenarioError("/nonexistent: cannot read the directory")) {
      try ScenarioLibrary.load(directory: "/nonexistent")
    }
    #expect(throws: ScenarioError("/nonexistent.json: cannot read the file")) {
      try ScenarioLibrary.load(file: "/nonexistent.json")
    }
  }
}
