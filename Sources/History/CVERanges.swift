import Foundation
import JSONText
import PatchText
import Patches

/// One item of a CVE record's `affected[].versions` list (CVE JSON 5): exactly `{version,
/// status}`, `{version, status, versionType}`, or that with `lessThan` or `lessThanOrEqual`.
public struct CVEVersion: Hashable, Sendable {
  public var version: String
  public var lessThan: String?
  public var lessThanOrEqual: String?
  /// `affected`, `unaffected` or `unknown`.
  public var status: String
  /// `semver`, `original_commit_for_fix`, `git`, `custom`; `nil` for a range-less item.
  public var versionType: String?

  public init(
    version: String, lessThan: String? = nil, lessThanOrEqual: String? = nil, status: String,
    versionType: String? = nil
  ) {
    self.version = version
    self.lessThan = lessThan
    self.lessThanOrEqual = lessThanOrEqual
    self.status = status
    self.versionType = versionType
  }

  /// The item in the record's key order (version, lessThan/lessThanOrEqual, status,
  /// versionType), as the kernel CNA's bippy writes it.
  public var json: JSONValue {
    var members: [(String, JSONValue)] = [("version", .string(version))]
    if let lessThan { members.append(("lessThan", .string(lessThan))) }
    if let lessThanOrEqual { members.append(("lessThanOrEqual", .string(lessThanOrEqual))) }
    members.append(("status", .string(status)))
    if let versionType { members.append(("versionType", .string(versionType))) }
    return JSONValue(members)
  }

  /// `5.15.56 <= v <= 5.15.*`, `v = 5.4`, for messages.
  public var range: String {
    if let lessThan { return "\(version) <= v < \(lessThan)" }
    if let lessThanOrEqual { return "\(version) <= v <= \(lessThanOrEqual)" }
    return "v = \(version)"
  }

  /// Whether version `v` falls in this item: a range item from ``version`` up to its limit
  /// (`*` as a component is arbitrarily large), a range-less item at its version only.
  public func matches(_ v: [Int]) -> Bool {
    guard let low = CVEVersion.numbers(version) else { return false }
    if let lessThan {
      return CVEVersion.compare(v, low) >= 0 && CVEVersion.compare(v, limit: lessThan) < 0
    }
    if let lessThanOrEqual {
      return CVEVersion.compare(v, low) >= 0 && CVEVersion.compare(v, limit: lessThanOrEqual) <= 0
    }
    return CVEVersion.compare(v, low) == 0
  }

  /// `5.15.56` as `[5, 15, 56]`; `nil` for anything not made of numbers (a commit id).
  public static func numbers(_ s: String) -> [Int]? {
    let parts = s.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
    guard !parts.isEmpty, parts.allSatisfy({ $0 != nil && $0! >= 0 }) else { return nil }
    return parts.map { $0! }
  }

  /// -1, 0, 1; missing components are 0 (`5.4` = `5.4.0`).
  static func compare(_ a: [Int], _ b: [Int]) -> Int {
    for i in 0..<max(a.count, b.count) {
      let x = i < a.count ? a[i] : 0
      let y = i < b.count ? b[i] : 0
      if x != y { return x < y ? -1 : 1 }
    }
    return 0
  }

  /// `v` against a limit that may end in `*` (`5.15.*`, `*`): below the `*`, equal before it.
  static func compare(_ v: [Int], limit: String) -> Int {
    let parts = limit.split(separator: ".", omittingEmptySubsequences: false)
    for (i, part) in parts.enumerated() {
      if part == "*" { return -1 }
      guard let y = Int(part) else { return 1 }
      let x = i < v.count ? v[i] : 0
      if x != y { return x < y ? -1 : 1 }
    }
    return v.count > parts.count && v[parts.count...].contains(where: { $0 > 0 }) ? 1 : 0
  }
}

/// One entry of a CVE record's `affected` list: a product's versions and the status of
/// those no item names.
public struct CVEAffected: Hashable, Sendable {
  public var defaultStatus: String
  public var repo: String?
  public var programFiles: [String]
  public var versions: [CVEVersion]

  /// The status of `version` by the CVE schema's rule: the first item that matches, else
  /// ``defaultStatus``; with the item that decided.
  public func status(of version: KernelVersion) -> (status: String, by: CVEVersion?) {
    let v = [version.version, version.patchLevel, version.subLevel]
    if let item = versions.first(where: { $0.versionType != "git" && $0.matches(v) }) { return (item.status, item) }
    return (defaultStatus, nil)
  }

  public var json: JSONValue {
    var members: [(String, JSONValue)] = [
      ("product", "Linux"), ("vendor", "Linux"), ("defaultStatus", .string(defaultStatus)),
    ]
    if let repo { members.append(("repo", .string(repo))) }
    members.append(("programFiles", JSONValue(programFiles)))
    // The schema wants at least one item where there is a list; none is said by the default.
    if !versions.isEmpty { members.append(("versions", .array(versions.map(\.json)))) }
    return JSONValue(members)
  }
}

/// A history as a CVE record's version ranges (README.md "History"), in the shape the
/// kernel CNA publishes (`bippy`): `defaultStatus` affected; the first affected release
/// alone; `0 <= v < it` unaffected; per stable branch the releases from a fix on,
/// `X.Y.Z <= v <= X.Y.*` (semver); and the first mainline release from which every later
/// branch carries the fix, `X.Y <= v <= *` (`original_commit_for_fix`). Where the code says
/// more than one fix arrival (a revert and a refix, a partial backport), each run of the
/// branch gets its own item, so the ranges say exactly what the tags show.
public enum CVERanges {
  /// A fix's status in a tree from its state there: the bug is in a tree `before` the fix;
  /// a tree carrying it (after, adapted) or lacking the code it fixes (absent) is
  /// unaffected; partial, rewritten and unknown are unknown.
  public static func status(_ state: ScanState) -> String {
    switch state {
    case .before: "affected"
    case .after, .adapted, .absent: "unaffected"
    case .partial, .rewritten, .unknown: "unknown"
    }
  }

  /// The points a CVE range can speak of: release tags of stable branches, with versions.
  static func releasePoints(_ h: History) -> [(group: Int, point: HistoryPoint)] {
    h.groups.enumerated().filter { $0.element.kind == .branch }.flatMap { g, group in
      group.points.compactMap { p in p.version == nil ? nil : (g, p) }
    }
  }

  /// The ranges for patch `p` of `h`, with notes on what they leave out.
  public static func affected(_ h: History, patch p: Int, repo: String?) -> (affected: CVEAffected, notes: [String]) {
    var notes: [String] = []
    let points = releasePoints(h)
    let skipped = h.groups.filter { $0.kind != .branch }.map(\.name)
    if !skipped.isEmpty {
      notes.append("not in the ranges (not release tags of a branch): \(skipped.joined(separator: ", "))")
    }
    func status(_ point: HistoryPoint) -> String { CVERanges.status(h.scans[point.scans[p]].state) }
    func text(_ v: KernelVersion) -> String { v.description }
    var affected = CVEAffected(defaultStatus: "affected", repo: repo, programFiles: h.files[p], versions: [])
    guard let first = points.first(where: { status($0.point) != "unaffected" }) else {
      affected.defaultStatus = "unaffected"
      notes.append("no release tag carries the bug: every one carries the fix or lacks the code it fixes")
      return (affected, notes)
    }
    let introduced = first.point.version!
    if status(first.point) == "affected" {
      affected.versions.append(CVEVersion(version: text(introduced), status: "affected"))
    }
    if points.contains(where: { $0.point.version! < introduced }) {
      affected.versions.append(
        CVEVersion(version: "0", lessThan: text(introduced), status: "unaffected", versionType: "semver"))
    }
    // The first branch from which every branch is unaffected at every tag: the mainline fix.
    let branchGroups = Array(Set(points.map(\.group))).sorted()
    var mainline: Int?
    for g in branchGroups.reversed() {
      guard h.groups[g].points.allSatisfy({ status($0) == "unaffected" }) else { break }
      mainline = g
    }
    for g in branchGroups where g != mainline && (mainline.map { g < $0 } ?? true) {
      let group = h.groups[g]
      let pts = group.points.filter { $0.version != nil && $0.version! >= introduced }
      guard !pts.isEmpty else { continue }
      // Runs of one status along the branch; the affected ones fall to the default.
      var runs: [(status: String, first: KernelVersion)] = []
      for point in pts where runs.last?.status != status(point) {
        runs.append((status(point), point.version!))
      }
      for (k, run) in runs.enumerated() where run.status != "affected" {
        let v = run.first
        affected.versions.append(
          k == runs.count - 1
            ? CVEVersion(
              version: text(v), lessThanOrEqual: "\(v.version).\(v.patchLevel).*", status: run.status,
              versionType: "semver")
            : CVEVersion(version: text(v), lessThan: text(runs[k + 1].first), status: run.status, versionType: "semver")
        )
      }
      if runs.count > 2 || (runs.count == 2 && runs[0].status != "affected") {
        notes.append(
          "\(group.name): the status changes \(runs.count - 1) times (\(runs.map { "\($0.status) from \($0.first)" }.joined(separator: ", "))): one item per run"
        )
      }
      if runs.contains(where: { $0.status == "unknown" }) {
        notes.append(
          "\(group.name): the code cannot say for some tags (partial, rewritten or unknown): status unknown there")
      }
    }
    if let m = mainline, let v = h.groups[m].points.first?.version {
      affected.versions.append(
        CVEVersion(version: text(v), lessThanOrEqual: "*", status: "unaffected", versionType: "original_commit_for_fix")
      )
    }
    notes.append(
      "the git ranges (introducing commit .. fix commit per branch) are not written: the tags say in which release a fix arrived, not which commit; 'original_commit_for_fix' is compared as a version number (UNVERIFIED reading of the CVE schema)"
    )
    return (affected, notes)
  }

  /// `{"schema": 1, "command": "history", "format": "cve", "repository", "records": [{"patch",
  /// "fixes", "title", "affected": [...], "notes"}], "comparisons": [...]}`, one record per fix
  /// (features have no CVE ranges).
  public static func json(_ h: History, repo: String?, comparisons: [CVEComparison]) -> JSONValue {
    var records: [JSONValue] = []
    for (i, slug) in h.patches.enumerated() {
      let entry = PatchCatalog.all.first { $0.slug == slug }
      if PatchCatalog.features.contains(slug) { continue }
      let (affected, notes) = Self.affected(h, patch: i, repo: repo)
      records.append(
        [
          "patch": .string(slug), "fixes": JSONValue(entry?.upstreamCommit), "title": JSONValue(entry?.subject),
          "affected": [affected.json], "notes": JSONValue(notes),
        ])
    }
    return [
      "schema": 1, "command": "history", "format": "cve", "repository": .string(h.repository),
      "features": JSONValue(h.patches.filter { PatchCatalog.features.contains($0) }),
      "records": .array(records), "comparisons": .array(comparisons.map(\.json)),
    ]
  }

  /// The ranges as text, one item per line, with the comparisons.
  public static func text(_ h: History, repo: String?, comparisons: [CVEComparison]) -> String {
    var out: [String] = []
    for (i, slug) in h.patches.enumerated() where !PatchCatalog.features.contains(slug) {
      let (affected, notes) = Self.affected(h, patch: i, repo: repo)
      out.append("\(slug): defaultStatus \(affected.defaultStatus)")
      for v in affected.versions {
        out.append(
          "  \(v.status.padding(toLength: 10, withPad: " ", startingAt: 0)) \(v.range)\(v.versionType.map { " (\($0))" } ?? "")"
        )
      }
      out += notes.map { "  note: \($0)" }
      out.append("")
    }
    for c in comparisons { out += c.text }
    return out.joined(separator: "\n").trimmingCharacters(in: .newlines)
  }
}

/// A published CVE record, as far as the comparison reads it: its id, title, the commits it
/// names as fixes, and its `affected` entries.
public struct PublishedCVE: Hashable, Sendable {
  public let id: String
  public let title: String?
  /// Every 40-hex id the record names: `references` (`/stable/c/<id>`) and the git items'
  /// `lessThan`.
  public let fixCommits: [String]
  public let affected: [CVEAffected]

  /// Reads a CVE JSON 5 record (`containers.cna.affected`), or the `cna` container alone.
  public init(json text: String, source: String) throws {
    func fail(_ problem: String) -> HistoryError { HistoryError("\(source): \(problem)") }
    let root: JSONValue
    do { root = try JSONParser.parse(text) } catch { throw fail("not JSON (\(error))") }
    let cna: JSONValue
    if let inner = root["containers"]?["cna"] {
      cna = inner
    } else if root["affected"] != nil {
      cna = root
    } else {
      throw fail("not a CVE record (no containers.cna)")
    }
    id = {
      if case .string(let s)? = root["cveMetadata"]?["cveID"] { return s }
      return (source as NSString).lastPathComponent
    }()
    if case .string(let t)? = cna["title"] { title = t } else { title = nil }
    guard case .array(let entries)? = cna["affected"] else { throw fail("no affected list") }
    var fixes: [String] = []
    var affected: [CVEAffected] = []
    for (n, e) in entries.enumerated() {
      guard case .array(let items)? = e["versions"] else { throw fail("affected[\(n)] has no versions list") }
      var versions: [CVEVersion] = []
      for (k, item) in items.enumerated() {
        func string(_ key: String) -> String? {
          if case .string(let s)? = item[key] { return s }
          return nil
        }
        guard let version = string("version"), let status = string("status"),
          ["affected", "unaffected", "unknown"].contains(status)
        else { throw fail("affected[\(n)].versions[\(k)] needs a version and a status") }
        let v = CVEVersion(
          version: version, lessThan: string("lessThan"), lessThanOrEqual: string("lessThanOrEqual"), status: status,
          versionType: string("versionType"))
        if v.versionType == "git", let fix = v.lessThan { fixes.append(fix) }
        versions.append(v)
      }
      let defaultStatus: String = {
        if case .string(let s)? = e["defaultStatus"] { return s }
        return "unknown"
      }()
      var files: [String] = []
      if case .array(let list)? = e["programFiles"] {
        files = list.compactMap { if case .string(let s) = $0 { s } else { nil } }
      }
      var repo: String?
      if case .string(let r)? = e["repo"] { repo = r }
      affected.append(CVEAffected(defaultStatus: defaultStatus, repo: repo, programFiles: files, versions: versions))
    }
    if case .array(let refs)? = cna["references"] {
      for r in refs {
        guard case .string(let url)? = r["url"], let m = url.firstMatch(of: /\/c\/([0-9a-f]{40})/) else { continue }
        fixes.append(String(m.1))
      }
    }
    var seen: Set<String> = []
    fixCommits = fixes.filter { seen.insert($0).inserted }
    self.affected = affected
  }

  /// The entry with version numbers (the kernel CNA writes one with git ids and one with
  /// numbers): the one a tag's version can be looked up in.
  public var numbered: CVEAffected? {
    affected.first { $0.versions.contains { $0.versionType != "git" } }
  }
}

/// A published record's ranges against what the code says at each release tag.
public struct CVEComparison: Hashable, Sendable {
  public struct Disagreement: Hashable, Sendable {
    public let group: String
    public let from: String
    public let to: String
    public let points: Int
    public let published: String
    /// The item that decided the published status, or `nil` for the default status.
    public let by: String
    public let code: String
    public let state: ScanState
    public let evidence: String
  }

  public let cve: String
  public let patch: String
  public let agree: Int
  /// Tags where the code cannot say (partial, rewritten, unknown).
  public let unchecked: Int
  public let disagreements: [Disagreement]
  /// Branches the record speaks of that the history has no tag of.
  public let notInHistory: [String]

  /// Compares `record` with patch `slug` of `h` (or the modelled patch the record's fix
  /// commits name, when `slug` is `nil`).
  public init(_ record: PublishedCVE, history h: History, patch slug: String? = nil) throws {
    let name: String
    if let slug {
      name = slug
    } else {
      let match = PatchCatalog.all.first { entry in
        guard let c = entry.upstreamCommit?.lowercased(), c.count >= 12 else { return false }
        return record.fixCommits.contains { $0.lowercased().hasPrefix(c) || c.hasPrefix($0.lowercased()) }
      }
      guard let match else {
        throw HistoryError(
          "\(record.id): names no commit of a modelled patch (\(record.fixCommits.map { String($0.prefix(12)) }.joined(separator: ", "))); give --cve-patch SLUG"
        )
      }
      name = match.slug
    }
    guard let p = h.patchIndex(name) else { throw HistoryError("\(record.id): the history has no patch '\(name)'") }
    guard let entry = record.numbered else {
      throw HistoryError("\(record.id): no affected entry with version numbers to compare")
    }
    cve = record.id
    patch = name
    var agree = 0
    var unchecked = 0
    var out: [Disagreement] = []
    for group in h.groups where group.kind == .branch {
      var open: Disagreement?
      func close() {
        if let d = open { out.append(d) }
        open = nil
      }
      for point in group.points {
        guard let v = point.version else { continue }
        let scan = h.scans[point.scans[p]]
        let code = CVERanges.status(scan.state)
        let (published, item) = entry.status(of: v)
        if code == "unknown" {
          unchecked += 1
          close()
          continue
        }
        if code == published {
          agree += 1
          close()
          continue
        }
        let by = item.map { "\($0.range)\($0.versionType.map { ", \($0)" } ?? "")" } ?? "defaultStatus"
        if let d = open, d.published == published, d.code == code, d.by == by {
          open = Disagreement(
            group: d.group, from: d.from, to: point.name, points: d.points + 1, published: published, by: by,
            code: code, state: d.state, evidence: d.evidence)
        } else {
          close()
          open = Disagreement(
            group: group.name, from: point.name, to: point.name, points: 1, published: published, by: by, code: code,
            state: scan.state, evidence: HistoryReport.decidingLine(scan))
        }
      }
      close()
    }
    self.agree = agree
    self.unchecked = unchecked
    disagreements = out
    // Branches the record names (X.Y.Z <= v <= X.Y.*) with no tag in the history.
    let have = Set(h.groups.filter { $0.kind == .branch }.map(\.name))
    notInHistory = entry.versions.compactMap { item in
      guard item.versionType == "semver", let limit = item.lessThanOrEqual, limit.hasSuffix(".*") else { return nil }
      let branch = String(limit.dropLast(2)) + ".y"
      return have.contains(branch) ? nil : branch
    }
  }

  public var text: [String] {
    var out = [
      "compare \(cve) with the code (\(patch)): \(agree) tag(s) agree, \(disagreements.reduce(0) { $0 + $1.points }) disagree, \(unchecked) the code cannot say"
    ]
    for d in disagreements {
      let span = d.from == d.to ? d.from : "\(d.from) .. \(d.to) (\(d.points) tags)"
      out.append(
        "  \(d.group): \(span): the record says \(d.published) (\(d.by)), the code says \(d.code) (\(d.state): \(d.evidence))"
      )
    }
    if !notInHistory.isEmpty {
      out.append("  not checked (no tag of the branch in the repository): \(notInHistory.joined(separator: ", "))")
    }
    return out
  }

  public var json: JSONValue {
    [
      "cve": .string(cve), "patch": .string(patch), "agree": .int(agree), "unchecked": .int(unchecked),
      "disagreements": .array(
        disagreements.map { d in
          [
            "branch": .string(d.group), "from": .string(d.from), "to": .string(d.to), "tags": .int(d.points),
            "published": .string(d.published), "by": .string(d.by), "code": .string(d.code),
            "state": .string(d.state.rawValue), "evidence": .string(d.evidence),
          ]
        }),
      "notInHistory": JSONValue(notInHistory),
    ]
  }
}
