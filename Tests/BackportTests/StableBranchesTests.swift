import Foundation
import KernelTrees
import PackageTestSupport
import PatchText
import Patches
import Testing

@testable import Backport

/// The branch fixture: what it says, and that a broken one is refused with one clear line.
@Suite("Stable branches fixture")
struct StableBranchesTests {
  @Test("lists the fourteen branches, each with every patch")
  func loads() throws {
    let set = try StableBranchSet(contentsOf: branchesFile)
    #expect(
      set.branches.map(\.name) == [
        "5.10.y", "5.15.y", "6.1.y", "6.6.y", "6.12.y", "6.15.y", "6.16.y", "6.17.y", "6.18.y", "6.19.y", "7.0.y",
        "7.1.y", "7.2.y", "mainline",
      ])
    for branch in set.branches {
      #expect(branch.patches.map(\.patch) == PatchCatalog.all.map(\.slug))
    }
  }

  /// The trees the fixture composes are the ones `StableTrees` states for the four branches
  /// the backup fixes reached.
  @Test("its trees agree with StableTrees", arguments: StableTrees.branches.map(\.name))
  func agreesWithStableTrees(_ name: String) throws {
    let set = try StableBranchSet(contentsOf: branchesFile)
    let fromFixture = try #require(set.branch(name)).tree.stack
    let stated = try #require(StableTrees.branch(name)).stack
    #expect(Set(fromFixture) == Set(stated).union(["madvise-list-move"]))
  }

  /// Facts the references mark UNVERIFIED are unverified here too.
  @Test("the gfp fix on 6.18.y is unverified, with the AUTOSEL reason")
  func unverifiedStaysUnverified() throws {
    let set = try StableBranchSet(contentsOf: branchesFile)
    let entry = try #require(set.branch("6.18.y")?.patch("gfp-retry-mayfail-readback"))
    #expect(entry.state == .before)
    guard case .unverified(let why) = entry.confidence else {
      Issue.record("6.18.y gfp fix marked verified")
      return
    }
    #expect(why.contains("probably not applied"))
    let zeroCopy = try #require(set.branch("mainline")?.patch("zero-copy-insert-folio"))
    #expect(zeroCopy.state == .before && zeroCopy.confidence != .verified)
  }

  /// One class of broken fixture per case: the edit, and the exact message.
  @Test(
    "a broken fixture is refused with one line naming the place",
    arguments: [
      ("{", "x.json: not valid JSON"),
      ("{\"branches\": [], \"extra\": 1}", "x.json: unknown key 'extra'"),
      ("{\"branches\": {}}", "x.json: branches: expected an array"),
    ])
  func brokenShapes(_ text: String, _ message: String) {
    #expect(throws: StableBranchError(description: message)) {
      try StableBranchSet(data: Data(text.utf8), path: "x.json")
    }
  }

  /// One kind of inconsistency, made by editing the real fixture.
  enum Breakage: String, CaseIterable, Sendable {
    case duplicateBranch, unknownSlug, contradictsPrerequisite, unknownState, unverifiedWithoutReason
    case exclusivePatches

    func apply(_ b: inout [[String: Any]]) {
      func editPatch(_ branch: Int, _ slug: String, _ change: (inout [String: Any]) -> Void) {
        var patches = b[branch]["patches"] as! [String: Any]
        var entry = patches[slug] as! [String: Any]
        change(&entry)
        patches[slug] = entry
        b[branch]["patches"] = patches
      }
      switch self {
      case .duplicateBranch:
        b.append(b[0])
      case .unknownSlug:
        var patches = b[0]["patches"] as! [String: Any]
        patches["no-such-patch"] = patches["madvise-list-move"]
        b[0]["patches"] = patches
      case .contradictsPrerequisite:
        editPatch(0, "gfp-retry-mayfail-readback") { $0["state"] = "after" }
      case .unknownState:
        editPatch(3, "madvise-list-move") { $0["state"] = "fixed" }
      case .unverifiedWithoutReason:
        editPatch(13, "madvise-list-move") { $0["confidence"] = "unverified" }
      case .exclusivePatches:
        editPatch(13, "zero-copy-insert-folio") { $0["state"] = "after" }
      }
    }

    var message: String {
      switch self {
      case .duplicateBranch: "x.json: branches[14].name: duplicate branch '5.10.y'"
      case .unknownSlug:
        "x.json: branch 5.10.y.patches: unknown patch slug 'no-such-patch' (known: shmem-backup-v14, gfp-retry-mayfail-readback, zero-copy-insert-folio, madvise-list-move, drop-restore-after-restore, null-handle-pages-backup, native-order-backup)"
      case .contradictsPrerequisite:
        "x.json: branch 5.10.y.patches.gfp-retry-mayfail-readback.state: 'after' contradicts 'shmem-backup-v14' being 'before': its code exists only where 'shmem-backup-v14' is applied"
      case .unknownState:
        "x.json: branch 6.6.y.patches.madvise-list-move.state: unknown state 'fixed' (absent, before, after, adapted, partial, rewritten, unknown)"
      case .unverifiedWithoutReason:
        "x.json: branch mainline.patches.madvise-list-move: an unverified fact needs a 'reason'"
      case .exclusivePatches:
        "x.json: branch mainline.patches.zero-copy-insert-folio.state: 'after' contradicts 'native-order-backup' being 'after': both rewrite the same code in different ways"
      }
    }
  }

  @Test("an inconsistent fixture is refused with one line naming the place", arguments: Breakage.allCases)
  func brokenContent(_ breakage: Breakage) throws {
    let data = try #require(FileManager.default.contents(atPath: branchesFile))
    var root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    var branches = try #require(root["branches"] as? [[String: Any]])
    breakage.apply(&branches)
    root["branches"] = branches
    let edited = try JSONSerialization.data(withJSONObject: root)
    #expect(throws: StableBranchError(description: breakage.message)) {
      try StableBranchSet(data: edited, path: "x.json")
    }
  }

  /// A patch's state against its prerequisite's, on 5.10.y (where the gfp fix is `absent` and
  /// v14 `before`): each row changes one of the two states. A patch whose code needs another
  /// exists (before or after) only where that one is applied, and is absent nowhere it is; a
  /// state a scan could not decide contradicts nothing.
  @Test(
    "prerequisite states: what loads and what is refused",
    arguments: [
      ("absent", "before", nil),
      ("before", "before", "'before' contradicts 'shmem-backup-v14' being 'before'"),
      ("after", "before", "'after' contradicts 'shmem-backup-v14' being 'before'"),
      ("before", "absent", "'before' contradicts 'shmem-backup-v14' being 'absent'"),
      ("absent", "absent", nil),
      ("absent", "after", "'absent' contradicts 'shmem-backup-v14' being 'after'"),
      ("unknown", "before", nil),
    ] as [(String, String, String?)])
  func prerequisiteStates(_ gfp: String, _ v14: String, _ refusal: String?) throws {
    let data = try #require(FileManager.default.contents(atPath: branchesFile))
    var root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    var branches = try #require(root["branches"] as? [[String: Any]])
    #expect(branches[0]["name"] as? String == "5.10.y")
    var patches = try #require(branches[0]["patches"] as? [String: Any])
    for (slug, state) in [("gfp-retry-mayfail-readback", gfp), ("shmem-backup-v14", v14)] {
      var entry = try #require(patches[slug] as? [String: Any])
      entry["state"] = state
      patches[slug] = entry
    }
    branches[0]["patches"] = patches
    root["branches"] = branches
    let edited = try JSONSerialization.data(withJSONObject: root)
    if let refusal {
      let error = #expect(throws: StableBranchError.self) { try StableBranchSet(data: edited, path: "x.json") }
      #expect(
        error?.description.hasPrefix("x.json: branch 5.10.y.patches.gfp-retry-mayfail-readback.state: " + refusal)
          == true, "\(error.map(\.description) ?? "loaded")")
    } else {
      let set = try StableBranchSet(data: edited, path: "x.json")
      #expect(set.branch("5.10.y")?.patch("gfp-retry-mayfail-readback")?.state.rawValue == gfp)
    }
  }
}
