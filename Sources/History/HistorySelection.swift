import Foundation
import PatchText

/// Which points of a repository a history reads, from the command's arguments:
/// - none: every tag of the form `vX.Y` or `vX.Y.Z`, grouped by branch `X.Y.y`, in version
///   order (`vX.Y` is the branch's first point);
/// - a glob (`v5.15.*`, `v6.1[0-9]*`): the tags it matches; version tags (release candidates
///   too) go to their branch (release candidates to `mainline`), others to `refs`;
/// - a range `A..B`: every commit `git rev-list A..B` lists, oldest first, as one group;
/// - anything else: one tag, branch or commit, to its branch if it is a version tag, else
///   to `refs`.
/// A selection that selects nothing is an error, not an empty history.
public enum HistorySelection {
  public struct Point: Hashable, Sendable {
    public let name: String
    public let version: KernelVersion?
    public let commit: String?
    public let problem: String?
  }

  public struct Group: Hashable, Sendable {
    public let name: String
    public let kind: HistoryGroup.Kind
    public var points: [Point]
  }

  /// A release tag as the kernel names them: `v5.15`, `v5.15.56` (no release candidate).
  public static func isReleaseTag(_ name: String) -> Bool {
    guard name.hasPrefix("v"), let v = KernelVersion(tag: name) else { return false }
    return v.extraVersion.isEmpty
  }

  public static func select(_ git: GitRepository, _ arguments: [String]) throws -> [Group] {
    var branches: [String: Group] = [:]
    var ranges: [Group] = []
    var refs = Group(name: "refs", kind: .refs, points: [])
    var seen: Set<String> = []
    var tagsCache: [GitTag]?
    func tags() throws -> [GitTag] {
      if let tagsCache { return tagsCache }
      let t = try git.tags()
      tagsCache = t
      return t
    }
    func place(_ tag: GitTag) {
      guard seen.insert("tag:" + tag.name).inserted else { return }
      let version = tag.name.hasPrefix("v") ? KernelVersion(tag: tag.name) : nil
      let point = Point(name: tag.name, version: version, commit: tag.commit, problem: tag.problem)
      guard let version else {
        refs.points.append(point)
        return
      }
      let name = version.branch
      branches[name, default: Group(name: name, kind: name == "mainline" ? .mainline : .branch, points: [])]
        .points.append(point)
    }

    if arguments.isEmpty {
      let all = try tags()
      guard !all.isEmpty else {
        throw HistoryError(
          "\(git.path): no tags (history reads the version tags vX.Y and vX.Y.Z; give refs, globs or A..B ranges)")
      }
      let releases = all.filter { isReleaseTag($0.name) }
      guard !releases.isEmpty else {
        throw HistoryError(
          "\(git.path): \(all.count) tag(s), none of the form vX.Y or vX.Y.Z (such as '\(all[0].name)'); give refs, globs or A..B ranges"
        )
      }
      releases.forEach(place)
    }
    for argument in arguments {
      guard !argument.isEmpty, !argument.hasPrefix("-"),
        !argument.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
      else { throw HistoryError("'\(argument)': not a ref, glob or range") }
      if argument.contains("..") {
        let commits = try git.commits(inRange: argument)
        guard !commits.isEmpty else { throw HistoryError("'\(argument)': the range selects no commit") }
        var tagged: [String: [String]] = [:]
        for tag in try tags() where isReleaseTag(tag.name) || KernelVersion(tag: tag.name) != nil {
          if let c = tag.commit { tagged[c, default: []].append(tag.name) }
        }
        ranges.append(
          Group(
            name: argument, kind: .range,
            points: commits.map { c in
              let names = tagged[c].map { " (\($0.sorted().joined(separator: ", ")))" } ?? ""
              return Point(name: String(c.prefix(12)) + names, version: nil, commit: c, problem: nil)
            }))
      } else if argument.contains(where: { "*?[".contains($0) }) {
        let matched = try tags().filter { fnmatch(argument, $0.name, 0) == 0 }
        guard !matched.isEmpty else { throw HistoryError("'\(argument)': matches no tag") }
        matched.forEach(place)
      } else if let tag = try tags().first(where: { $0.name == argument }) {
        place(tag)
      } else {
        let commit = try git.commit(argument)
        guard seen.insert("ref:" + argument).inserted else { continue }
        refs.points.append(Point(name: argument, version: nil, commit: commit, problem: nil))
      }
    }
    func branchOrder(_ g: Group) -> (Int, Int) {
      let v = g.points.compactMap(\.version).min()
      return (v?.version ?? Int.max, v?.patchLevel ?? Int.max)
    }
    var groups = branches.values.filter { $0.kind == .branch }.sorted { branchOrder($0) < branchOrder($1) }
    groups = groups.map { g in
      var g = g
      g.points.sort { ($0.version!, $0.name) < ($1.version!, $1.name) }
      return g
    }
    if var mainline = branches["mainline"] {
      mainline.points.sort { ($0.version!, $0.name) < ($1.version!, $1.name) }
      groups.append(mainline)
    }
    groups += ranges
    if !refs.points.isEmpty { groups.append(refs) }
    return groups
  }
}
