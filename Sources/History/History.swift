import Backport
import Foundation
import Harness
import PatchText
import Patches

/// Why a history cannot be made: one line.
public struct HistoryError: Error, Hashable, Sendable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// One point of a history: a tag, or a commit of a range, and what the tree reader found
/// there.
public struct HistoryPoint: Hashable, Sendable {
  /// `v5.15.56`; a commit of a range is its 12-digit id, with its version tags if it has any.
  public let name: String
  /// From the tag's name, else from the tree's Makefile.
  public let version: KernelVersion?
  /// `nil` when the tag names no commit (``problem`` says why).
  public let commit: String?
  /// Why the point could not be read at all; its patches are then unknown.
  public let problem: String?
  /// Per patch (in ``History/patches`` order), the index of its scan in ``History/scans``.
  public let scans: [Int]
  /// The index of the point's tree state (every patch's state) in ``History/treeStates``.
  public let treeState: Int
}

/// The points of one branch (`5.15.y`), of release candidates (`mainline`), of one range of
/// commits (`v5.15.55..v5.15.57`), or of other refs (`refs`), in order.
public struct HistoryGroup: Hashable, Sendable {
  public enum Kind: String, Hashable, Sendable {
    /// A stable branch: version tags `vX.Y` and `vX.Y.Z` in version order.
    case branch
    /// Release-candidate tags, in version order.
    case mainline
    /// The commits of a range, oldest first.
    case range
    /// Refs named one by one, in the order given.
    case refs
  }

  public let name: String
  public let kind: Kind
  public let points: [HistoryPoint]
}

/// A run of consecutive points where a patch has one state and one behaviour.
public struct StateRun: Hashable, Sendable {
  public let state: ScanState
  /// Indexes into the group's points.
  public let first: Int
  public let last: Int
  /// The patch's scan at the first point (index into ``History/scans``): its deciding line.
  public let scan: Int
  /// What the patch's scenarios showed on the tree at the first point.
  public let verdict: String
  /// Whether that verdict agrees with the state.
  public let consistent: Bool
}

/// What a patch's scenarios showed on one tree state, as the matrix cell says it.
public struct Behaviour: Hashable, Sendable {
  public let verdict: String
  /// Whether the verdict agrees with the state.
  public let consistent: Bool
}

/// How much the history read and decided: the cost grows with the distinct objects, not
/// the points.
public struct HistoryStats: Hashable, Sendable {
  public var points = 0
  public var commitsRead = 0
  public var treesRead = 0
  /// Distinct blobs read (each once).
  public var blobsRead = 0
  /// Distinct (patch, file version) decisions made; every other point reused one.
  public var fileDecisions = 0
  /// Distinct patch scans (patch, its files' versions).
  public var patchScans = 0
  /// Distinct tree states whose scenarios were run.
  public var treeStatesRun = 0
  /// Objects asked of the one `git cat-file --batch`.
  public var objects = 0
}

/// When each branch got each behaviour: for every selected point of a repository the tree
/// reader's state of every patch, and for each distinct tree state the behaviour the
/// scenarios show (README.md "History").
///
/// Each point costs one commit read and the trees on the way to the patches' files that no
/// earlier point had; each distinct blob is read once and decided once per patch touching
/// it; each distinct combination of states runs the scenarios once.
public struct History: Sendable {
  /// The repository as given.
  public let repository: String
  /// The patches looked for, in order (slugs).
  public let patches: [String]
  /// The patches' files, per patch.
  public let files: [[String]]
  public let groups: [HistoryGroup]
  /// Every distinct patch scan the points refer to.
  public let scans: [PatchScan]
  /// Every distinct tree state: each patch's state, in ``patches`` order.
  public let treeStates: [[ScanState]]
  /// Per tree state, per patch: what its scenarios showed.
  public let cells: [[Behaviour]]
  public let stats: HistoryStats

  /// The runs of one patch along one group's points.
  public func runs(group g: Int, patch p: Int) -> [StateRun] {
    var runs: [StateRun] = []
    let points = groups[g].points
    for (i, point) in points.enumerated() {
      let scan = point.scans[p]
      let state = scans[scan].state
      let cell = cells[point.treeState][p]
      if let last = runs.last, last.state == state, last.verdict == cell.verdict {
        runs[runs.count - 1] = StateRun(
          state: last.state, first: last.first, last: i, scan: last.scan, verdict: last.verdict,
          consistent: last.consistent)
      } else {
        runs.append(
          StateRun(state: state, first: i, last: i, scan: scan, verdict: cell.verdict, consistent: cell.consistent))
      }
    }
    return runs
  }

  /// The index of `slug` in ``patches``.
  public func patchIndex(_ slug: String) -> Int? { patches.firstIndex(of: slug) }

  /// Reads the history of `repository` at the points `arguments` select (``HistorySelection``),
  /// for `patches`, running `scenarios` once per distinct tree state.
  public static func read(
    _ git: GitRepository, selecting arguments: [String], patches: [PatchFile], scenarios: [Scenario],
    progress: (String) -> Void = { _ in }
  ) throws -> History {
    let selected = try HistorySelection.select(git, arguments)
    let scanner = TreeScanner(patches: patches)
    let reader = GitPathReader(repository: git, paths: scanner.paths)
    var stats = HistoryStats()
    var scans: [PatchScan] = []
    var scanIndex: [String: Int] = [:]
    var treeStates: [[ScanState]] = []
    var stateIndex: [[ScanState]: Int] = [:]
    var cells: [[Behaviour]] = []
    var makefileVersions: [String: KernelVersion?] = [:]
    let slugs = patches.map(\.slug)
    let patchPaths = patches.map { $0.files.map(\.path) }

    func missingBlob(_ blob: String) -> SourceFile {
      .unreadable(blob: blob, reason: "blob \(blob.prefix(12)) is missing from the repository (a partial clone?)")
    }

    var groups: [HistoryGroup] = []
    for group in selected {
      var points: [HistoryPoint] = []
      // The points' directories are asked for a thousand commits at a time, in one stream.
      var read: [[String: FileIdentity]] = []
      for (n, p) in group.points.enumerated() {
        if n % 1000 == 0 {
          let chunk = group.points[n..<min(n + 1000, group.points.count)].compactMap(\.commit)
          read = try reader.identities(commits: chunk).reversed()
        }
        stats.points += 1
        if stats.points % 1000 == 0 { progress("\(stats.points) points read") }
        let identities: [String: FileIdentity] =
          if p.commit != nil {
            read.removeLast()
          } else {
            Dictionary(
              uniqueKeysWithValues: scanner.paths.map {
                ($0, FileIdentity.unreadable(blob: nil, reason: p.problem ?? "no commit"))
              })
          }
        let problem = p.problem ?? GitPathReader.commitProblem(identities)
        // The version: the tag's, else the tree's Makefile (read once per blob).
        var version = p.version
        if version == nil, case .blob(let id)? = identities["Makefile"] {
          if let known = makefileVersions[id] {
            version = known
          } else {
            stats.blobsRead += 1
            var v: KernelVersion?
            if case .text(_, let text)? = try git.blob(id) { v = KernelVersion(makefile: text) }
            makefileVersions[id] = v
            version = v
          }
        }
        // Each patch's key: its files' identities. Only a point with a new key is scanned.
        let keys = patchPaths.indices.map { i in
          slugs[i] + "|" + patchPaths[i].map { (identities[$0] ?? .missing).key }.joined(separator: "|")
        }
        if keys.contains(where: { scanIndex[$0] == nil }) {
          let origin = TreeOrigin(repository: git.path, ref: p.name, commit: p.commit)
          let scan = try scanner.scan(origin: origin, version: version, identities: identities) {
            (_, blob) throws -> SourceFile in
            stats.blobsRead += 1
            return try git.blob(blob) ?? missingBlob(blob)
          }
          for (key, patchScan) in zip(keys, scan.patches) where scanIndex[key] == nil {
            scanIndex[key] = scans.count
            scans.append(patchScan)
          }
        }
        let indexes = keys.map { scanIndex[$0]! }
        let states = indexes.map { scans[$0].state }
        let treeState: Int
        if let known = stateIndex[states] {
          treeState = known
        } else {
          treeState = treeStates.count
          stateIndex[states] = treeState
          treeStates.append(states)
          let row = try RegressionMatrix.cells(
            branch: group.name, states: Dictionary(uniqueKeysWithValues: zip(slugs, states)), scenarios: scenarios)
          cells.append(
            slugs.map { slug in
              row.first { $0.patch == slug }.map { Behaviour(verdict: $0.verdict, consistent: $0.consistent) }
                ?? Behaviour(verdict: "no model: the state only", consistent: true)
            })
        }
        // A commit of a range with no tag of its own is named by its Makefile's version too.
        let name =
          group.kind == .range && !p.name.hasSuffix(")") && version != nil
          ? "\(p.name) (Makefile \(version!))" : p.name
        points.append(
          HistoryPoint(
            name: name, version: version, commit: p.commit, problem: problem, scans: indexes, treeState: treeState))
      }
      groups.append(HistoryGroup(name: group.name, kind: group.kind, points: points))
    }
    stats.commitsRead = reader.commitsRead
    stats.treesRead = reader.treesRead
    stats.fileDecisions = scanner.decisions - scanner.memoHits
    stats.patchScans = scans.count
    stats.treeStatesRun = treeStates.count
    stats.objects = git.objectsRead
    return History(
      repository: git.path, patches: slugs, files: patchPaths, groups: groups, scans: scans,
      treeStates: treeStates, cells: cells, stats: stats)
  }
}
