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
    #expect(r.out.hasPrefix("seed 1: 40 steps, ") && r.out.contains("on mainline: ok\n"))
    #expect(r.out.hasSuffix("\nfuzz: 1 run(s) of 40 steps on mainline: 1 ok, 0 failed\n"))
  }

  /// The replay line carries every option that chose the tree, and replays the failure; the
  /// failure is the stale restore state, which the fix 7.1.y lacks explains.
  @Test("a failure prints the fix that explains it and a replay command that reproduces it")
  func replay() throws {
    let args = [
      "fuzz", "--seed", "16", "--steps", "300", "--branch", "7.1.y", "--branches", "fixtures/stable-branches.json",
    ]
    let r = try runTool(args)
    #expect(r.status == 2)
    #expect(r.err == "bo-repro: fuzz: 1 of 1 run(s) broke an invariant (see above)\n")
    let lines = r.out.split(separator: "\n").map(String.init)
    #expect(lines.count > 1 && lines[1].hasPrefix("explained by drop-restore-after-restore, which 7.1.y lacks: "))
    #expect(
      lines.last
        == "fuzz: 1 run(s) of 300 steps on 7.1.y: 0 ok, 1 failed (1 explained by drop-restore-after-restore, 0 unexplained)"
    )
    let replay = try #require(lines.dropLast().last)
    #expect(
      replay == "replay: bo-repro fuzz --seed 16 --steps 284 --branch 7.1.y --branches fixtures/stable-branches.json")
    let again = try runTool(replay.split(separator: " ").dropFirst(2).map(String.init))
    #expect(again.status == 2)
    #expect(again.out.split(separator: "\n").first == lines.first.map { Substring($0) })
  }
}
