import Foundation
import PackageTestSupport
import Testing

/// `bo-repro fuzz` from the command line.
@Suite("bo-repro fuzz", .serialized)
struct FuzzCommandTests {
  @Test("a passing seed exits 0")
  func passes() throws {
    let r = try runTool(["fuzz", "--seed", "1", "--steps", "40"])
    #expect(r.status == 0, "\(r.err)")
    #expect(r.out.hasPrefix("seed 1: 40 steps, ") && r.out.hasSuffix("on mainline: ok\n"))
  }

  /// The replay line carries every option that chose the tree, and replays the failure.
  @Test("a failure prints a replay command that reproduces it")
  func replay() throws {
    let args = [
      "fuzz", "--seed", "4", "--steps", "300", "--branch", "7.1.y", "--branches", "fixtures/stable-branches.json",
    ]
    let r = try runTool(args)
    #expect(r.status == 1)
    #expect(r.err == "bo-repro: fuzz: an invariant failed (see above)\n")
    let lines = r.out.split(separator: "\n").map(String.init)
    let replay = try #require(lines.last)
    #expect(
      replay == "replay: bo-repro fuzz --seed 4 --steps 66 --branch 7.1.y --branches fixtures/stable-branches.json")
    let again = try runTool(replay.split(separator: " ").dropFirst(2).map(String.init))
    #expect(again.status == 1)
    #expect(again.out.split(separator: "\n").first == lines.first.map { Substring($0) })
  }
}
