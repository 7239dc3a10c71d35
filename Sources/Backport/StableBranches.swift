import Foundation
import Harness
import KernelTrees
import PatchText
import Patches

/// Where a patch stands on a branch: the three states the branch data states by hand
/// (absent, before, after), and the four more a scan of a tree's code can find (adapted,
/// partial, rewritten, unknown). One type with the scanner's, so a scanned state is a branch
/// state as it is.
public typealias PatchState = ScanState

extension ScanState {
  /// Whether the tree carries the patch's code (after, or adapted), so its after side runs.
  public var applied: Bool { self == .after || self == .adapted }

  /// Whether the model can run the patch's scenarios for this state: not for partial,
  /// rewritten or unknown, where either side would claim what the code does not show.
  public var runnable: Bool { [.absent, .before, .after, .adapted].contains(self) }
}

/// A branch's maintenance status.
public struct BranchStatus: Hashable, Sendable, CustomStringConvertible {
  /// `lts`, `stable`, `eol` or `mainline`.
  public let kind: String
  /// The projected end of life of an LTS branch (`YYYY-MM`).
  public let projectedEOL: String?
  /// Verified, or unverified with the reason.
  public let confidence: Confidence

  public var description: String {
    var text =
      switch kind {
      case "lts": "LTS" + (projectedEOL.map { ", EOL \($0)" } ?? "")
      case "eol": "end of life"
      case "stable": "stable"
      case "scanned": "scanned"
      default: kind
      }
    if case .unverified = confidence { text += " (UNVERIFIED)" }
    return text
  }
}

/// One patch on one branch, as the fixture states it.
public struct BranchPatch: Hashable, Sendable {
  public let patch: String
  public let state: PatchState
  /// The upstream commit, stable point release or queue mail that says so.
  public let evidence: String
  public let confidence: Confidence
  /// Where the state comes from: `hand-kept` (typed from the public record) or `scan` (found
  /// in the branch's code by the tree reader).
  public var source: String = "hand-kept"
}

/// A scan of real files of a branch, recorded with where each file was read: the states the
/// scanner found in them. A recording is a snapshot at a release (`at`), which may predate
/// the branch head the hand-kept states describe; the check that the recorded files still
/// scan to the recorded states runs in CI (`RecordedScanTests`).
public struct RecordedScan: Hashable, Sendable {
  /// One file read: its kernel path, its blob id, and where it was read from.
  public struct File: Hashable, Sendable {
    public let path: String
    public let blob: String
    public let from: String
  }

  /// The release the files are from (`6.12.15`).
  public let at: String
  /// What the recording does and does not cover.
  public let note: String?
  public let files: [File]
  /// The state of every patch whose files were all read.
  public let states: [String: ScanState]
}

/// A stable branch (or mainline) and what it carries.
public struct StableBranch: Hashable, Sendable {
  public let name: String
  public let status: BranchStatus
  /// One entry per catalog patch, in catalog order.
  public let patches: [BranchPatch]
  /// A recorded scan of some of the branch's real files, if there is one.
  public var recorded: RecordedScan?

  /// The entry for `slug`.
  public func patch(_ slug: String) -> BranchPatch? { patches.first { $0.patch == slug } }

  /// The kernel tree: every applied patch, in upstream order. Loading the branch data checked
  /// that its stack can exist; a scanned branch may not (``compose()``).
  public var tree: KernelTree { try! compose() }

  /// The kernel tree, or why the model cannot compose one (a scan found a patch applied
  /// without the one it needs, or two that rewrite the same code).
  public func compose() throws -> KernelTree {
    let applied = Set(patches.filter { $0.state.applied }.map(\.patch))
    let stack = PatchModels.all.map { $0.patch.slug }.filter(applied.contains)
    return try KernelTree(base: name, stack: stack)
  }

  public init(name: String, status: BranchStatus, patches: [BranchPatch], recorded: RecordedScan? = nil) {
    self.name = name
    self.status = status
    self.patches = patches
    self.recorded = recorded
  }

  /// A branch read from a scan of its code: every state, with the scan's first evidence line.
  public init(name: String, scan: TreeScan) {
    self.name = name
    status = BranchStatus(
      kind: "scanned" + (scan.version.map { " \($0)" } ?? "") + (scan.origin.commit.map { " @\($0.prefix(12))" } ?? ""),
      projectedEOL: nil, confidence: .verified)
    patches = PatchCatalog.all.map { entry in
      guard let p = scan.patch(entry.slug) else {
        return BranchPatch(
          patch: entry.slug, state: .unknown, evidence: "the scan had no patch text for it", confidence: .verified)
      }
      let evidence = (p.notes.first.map { [$0] } ?? []) + p.evidence.prefix(1)
      return BranchPatch(
        patch: entry.slug, state: p.state, evidence: evidence.joined(separator: "; "),
        confidence: .verified, source: "scan")
    }
  }
}

/// A problem in the branch fixture: one line with the file, the place and what is wrong.
public struct StableBranchError: Error, Hashable, Sendable, CustomStringConvertible {
  public let description: String
  public init(description: String) { self.description = description }
}

/// `fixtures/stable-branches.json`, loaded and checked.
public struct StableBranchSet: Sendable {
  public let branches: [StableBranch]

  /// Branches already built (from scans).
  public init(branches: [StableBranch]) { self.branches = branches }

  /// The branch named `name`, as people write it: `6.18.y`, `6.18`, `v6.18`, `linux-6.18.y`,
  /// `stable/linux-6.18.y` (also `origin/` or `refs/heads/` before it), and `master` for
  /// mainline. A release (`v6.18.42`) is not a branch: the data describes the branch, not one
  /// of its releases.
  public func branch(_ name: String) -> StableBranch? {
    if let exact = branches.first(where: { $0.name == name }) { return exact }
    guard let canonical = Self.canonicalName(name) else { return nil }
    return branches.first { $0.name == canonical }
  }

  /// `6.18.y` for every way of writing that branch; `mainline` for `master`; `nil` for a name
  /// that is not a branch.
  public static func canonicalName(_ name: String) -> String? {
    var n = Substring(name.lowercased())
    for prefix in ["refs/heads/", "refs/remotes/", "origin/", "stable/", "linux-stable/", "linux-"]
    where n.hasPrefix(prefix) {
      n = n.dropFirst(prefix.count)
    }
    if n == "master" || n == "mainline" { return "mainline" }
    if n.hasPrefix("v") { n = n.dropFirst() }
    if let m = n.wholeMatch(of: /([0-9]+)\.([0-9]+)(\.y)?/) { return "\(m.1).\(m.2).y" }
    return nil
  }

  /// Reads and checks the file: its shape (no unknown keys, the right types), that every
  /// branch is listed once and names every catalog patch exactly once with a known state, that
  /// an unverified fact gives its reason, and that no state contradicts a prerequisite (a patch
  /// applied, or its code present, where the code it changes is not) or another applied patch
  /// that rewrites the same code another way (``PatchModel/excludes``).
  ///
  /// The prerequisites the patch texts imply (a pre-image that is another patch's post-image)
  /// are not enforced: stable backports are adapted, and 7.1.y carries native order without
  /// "Drop tt->restore", whose lines native order's posted pre-image contains.
  public init(contentsOf path: String) throws {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw StableBranchError(description: "\(path): cannot read the file")
    }
    try self.init(data: data, path: path)
  }

  public init(data: Data, path: String) throws {
    func fail(_ place: String, _ problem: String) -> StableBranchError {
      StableBranchError(description: "\(path): \(place.isEmpty ? "" : place + ": ")\(problem)")
    }
    let root: Any
    do {
      root = try JSONSerialization.jsonObject(with: data)
    } catch {
      throw fail("", "not valid JSON")
    }
    func object(_ value: Any?, _ place: String, keys: Set<String>, required: Set<String>) throws -> [String: Any] {
      guard let dict = value as? [String: Any] else { throw fail(place, "expected an object") }
      if let unknown = dict.keys.sorted().first(where: { !keys.contains($0) }) {
        throw fail(place, "unknown key '\(unknown)'")
      }
      if let missing = required.sorted().first(where: { dict[$0] == nil }) {
        throw fail(place, "missing key '\(missing)'")
      }
      return dict
    }
    func string(_ value: Any?, _ place: String) throws -> String {
      guard let s = value as? String, !s.isEmpty else { throw fail(place, "expected a non-empty string") }
      if let c = s.unicodeScalars.first(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
        throw fail(
          place,
          "contains the control character U+\(String(c.value, radix: 16, uppercase: true)) (text is printed to a terminal)"
        )
      }
      return s
    }
    func confidence(_ dict: [String: Any], _ place: String) throws -> Confidence {
      let level = try dict["confidence"].map { try string($0, place + ".confidence") } ?? "verified"
      switch level {
      case "verified":
        if dict["reason"] != nil { throw fail(place + ".reason", "a verified fact has no reason") }
        return .verified
      case "unverified":
        guard let reason = dict["reason"] else { throw fail(place, "an unverified fact needs a 'reason'") }
        return .unverified(try string(reason, place + ".reason"))
      default:
        throw fail(place + ".confidence", "unknown confidence '\(level)' (verified or unverified)")
      }
    }

    let top = try object(root, "", keys: ["description", "branches"], required: ["branches"])
    guard let list = top["branches"] as? [Any] else { throw fail("branches", "expected an array") }
    guard !list.isEmpty else { throw fail("branches", "no branches") }
    let slugs = PatchCatalog.all.map(\.slug)
    var seen: Set<String> = []
    var branches: [StableBranch] = []
    for (i, entry) in list.enumerated() {
      let place = "branches[\(i)]"
      let b = try object(
        entry, place, keys: ["name", "status", "patches", "recorded"], required: ["name", "status", "patches"])
      let name = try string(b["name"], place + ".name")
      guard name.wholeMatch(of: /[A-Za-z0-9][A-Za-z0-9._+-]*/) != nil else {
        throw fail(place + ".name", "'\(name)' is not a branch name (letters, digits, '.', '_', '+' or '-')")
      }
      guard seen.insert(name).inserted else { throw fail(place + ".name", "duplicate branch '\(name)'") }
      let bplace = "branch \(name)"
      let s = try object(
        b["status"], bplace + ".status", keys: ["kind", "projectedEOL", "reason"], required: ["kind"])
      let kind = try string(s["kind"], bplace + ".status.kind")
      guard ["lts", "stable", "eol", "mainline"].contains(kind) else {
        throw fail(bplace + ".status.kind", "unknown status '\(kind)' (lts, stable, eol or mainline)")
      }
      let eol = try s["projectedEOL"].map { try string($0, bplace + ".status.projectedEOL") }
      if let eol, eol.wholeMatch(of: /[0-9]{4}-[0-9]{2}/) == nil {
        throw fail(bplace + ".status.projectedEOL", "expected YYYY-MM, got '\(eol)'")
      }
      var statusConfidence = Confidence.verified
      if let reason = s["reason"] { statusConfidence = .unverified(try string(reason, bplace + ".status.reason")) }
      let status = BranchStatus(kind: kind, projectedEOL: eol, confidence: statusConfidence)

      guard let patchDict = b["patches"] as? [String: Any] else {
        throw fail(bplace + ".patches", "expected an object keyed by patch slug")
      }
      if let unknown = patchDict.keys.sorted().first(where: { !slugs.contains($0) }) {
        throw fail(bplace + ".patches", "unknown patch slug '\(unknown)' (known: \(slugs.joined(separator: ", ")))")
      }
      if let missing = slugs.first(where: { patchDict[$0] == nil }) {
        throw fail(bplace + ".patches", "no entry for patch '\(missing)'")
      }
      var patches: [BranchPatch] = []
      for slug in slugs {
        let pplace = "\(bplace).patches.\(slug)"
        let p = try object(
          patchDict[slug], pplace, keys: ["state", "evidence", "confidence", "reason", "source"],
          required: ["state", "evidence"])
        let source = try p["source"].map { try string($0, pplace + ".source") } ?? "hand-kept"
        guard ["hand-kept", "scan"].contains(source) else {
          throw fail(pplace + ".source", "unknown source '\(source)' (hand-kept or scan)")
        }
        let stateText = try string(p["state"], pplace + ".state")
        guard let state = PatchState(rawValue: stateText) else {
          throw fail(
            pplace + ".state",
            "unknown state '\(stateText)' (\(PatchState.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        patches.append(
          BranchPatch(
            patch: slug, state: state, evidence: try string(p["evidence"], pplace + ".evidence"),
            confidence: try confidence(p, pplace), source: source))
      }
      // Prerequisites: a patch whose code needs another patch can only exist where that one
      // is applied, and must exist there.
      for p in patches {
        guard let model = PatchModels.model(p.patch) else { continue }
        for required in model.requires {
          let r = patches.first { $0.patch == required }!
          if p.state != .absent && p.state.runnable && !r.state.applied && r.state.runnable {
            throw fail(
              "\(bplace).patches.\(p.patch).state",
              "'\(p.state)' contradicts '\(required)' being '\(r.state)': its code exists only where '\(required)' is applied"
            )
          }
          if p.state == .absent && r.state.applied {
            throw fail(
              "\(bplace).patches.\(p.patch).state",
              "'absent' contradicts '\(required)' being 'after': the code it changes is there")
          }
        }
        for other in model.excludes
        where p.state.applied && patches.first(where: { $0.patch == other })?.state.applied == true {
          throw fail(
            "\(bplace).patches.\(p.patch).state",
            "'after' contradicts '\(other)' being 'after': both rewrite the same code in different ways")
        }
      }
      var branch = StableBranch(name: name, status: status, patches: patches)
      if let r = b["recorded"] {
        let rplace = bplace + ".recorded"
        let rec = try object(r, rplace, keys: ["at", "note", "files", "states"], required: ["at", "files", "states"])
        guard let list = rec["files"] as? [Any], !list.isEmpty else {
          throw fail(rplace + ".files", "expected a non-empty array")
        }
        let known = Set(PatchCatalog.all.flatMap(\.files) + ["Makefile"])
        let files = try list.enumerated().map { j, item -> RecordedScan.File in
          let fplace = "\(rplace).files[\(j)]"
          let f = try object(item, fplace, keys: ["path", "blob", "from"], required: ["path", "blob", "from"])
          let path = try string(f["path"], fplace + ".path")
          guard known.contains(path) else { throw fail(fplace + ".path", "'\(path)' is no file a patch touches") }
          let blob = try string(f["blob"], fplace + ".blob")
          guard blob.wholeMatch(of: /[0-9a-f]{40}/) != nil else {
            throw fail(fplace + ".blob", "expected 40 hex digits")
          }
          return RecordedScan.File(path: path, blob: blob, from: try string(f["from"], fplace + ".from"))
        }
        guard let stateDict = rec["states"] as? [String: Any] else {
          throw fail(rplace + ".states", "expected an object keyed by patch slug")
        }
        var states: [String: ScanState] = [:]
        for (slug, value) in stateDict {
          guard slugs.contains(slug) else { throw fail(rplace + ".states", "unknown patch slug '\(slug)'") }
          let text = try string(value, "\(rplace).states.\(slug)")
          guard let state = ScanState(rawValue: text) else {
            throw fail("\(rplace).states.\(slug)", "unknown state '\(text)'")
          }
          states[slug] = state
        }
        branch.recorded = RecordedScan(
          at: try string(rec["at"], rplace + ".at"), note: try rec["note"].map { try string($0, rplace + ".note") },
          files: files, states: states)
      }
      branches.append(branch)
    }
    self.branches = branches
  }
}
