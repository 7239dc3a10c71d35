import Foundation

/// A tag of a repository, as `git for-each-ref refs/tags` lists it.
public struct GitTag: Hashable, Sendable {
  /// `v5.15.56`: the name under `refs/tags/`.
  public let name: String
  /// The commit it names, peeled through an annotated tag; `nil` when it names no commit.
  public let commit: String?
  /// What it names when that is not a commit (`tree`, `blob`), or why it could not be
  /// peeled.
  public let problem: String?

  public init(name: String, commit: String?, problem: String? = nil) {
    self.name = name
    self.commit = commit
    self.problem = problem
  }
}

extension GitRepository {
  /// Every tag under `refs/tags`: one `git for-each-ref` process for the names and ids (which
  /// needs no object, so a repository missing some still lists them all), then every tag
  /// object asked of the batch process in one stream and peeled from its own `object` and
  /// `type` lines. A tag whose object is missing, or that names a tree or a blob, is listed
  /// with the problem; a tag of a tag is peeled by git.
  public func tags() throws -> [GitTag] {
    guard let git = GitRepository.findGit() else { throw Error(description: "git: command not found") }
    let result = try GitRepository.run(
      git, ["-C", path, "for-each-ref", "--format=%(refname:strip=2)%00%(objectname)", "refs/tags"])
    guard result.status == 0 else {
      throw Error(description: "\(path): git for-each-ref failed: \(Self.firstLine(result.err))")
    }
    var listed: [(name: String, id: String)] = []
    for line in result.out.split(separator: 0x0A) {
      let f = line.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
      guard f.count == 2, Self.isSafeName(f[0]), f[1].allSatisfy(\.isHexDigit) else { continue }
      listed.append((f[0], f[1]))
    }
    var tags: [GitTag] = []
    var nested: [String] = []
    try objects(listed.map(\.id), limit: 1 << 20) { index, answer in
      let name = listed[index].name
      switch answer {
      case nil:
        tags.append(
          GitTag(
            name: name, commit: nil,
            problem:
              "the object it names, \(listed[index].id.prefix(12)), is missing from the repository (a shallow clone?)"))
      case (let id, "commit", _)?:
        tags.append(GitTag(name: name, commit: id))
      case (_, "tag", let data?)?:
        // "object <id>\ntype <type>\n...": the first two lines of a tag object.
        let head = data.prefix(256).split(separator: 0x0A).prefix(2).map { String(decoding: $0, as: UTF8.self) }
        let object = head.first.flatMap { $0.hasPrefix("object ") ? String($0.dropFirst(7)) : nil }
        let type = head.count > 1 && head[1].hasPrefix("type ") ? String(head[1].dropFirst(5)) : nil
        switch (object, type) {
        case (let o?, "commit"?): tags.append(GitTag(name: name, commit: o))
        case (_, "tag"?):
          nested.append(name)
          tags.append(GitTag(name: name, commit: nil, problem: "a tag of a tag"))
        case (_, let t?): tags.append(GitTag(name: name, commit: nil, problem: "names a \(t)"))
        default: tags.append(GitTag(name: name, commit: nil, problem: "a tag object git could not read"))
        }
      case (_, let type, _)?:
        tags.append(GitTag(name: name, commit: nil, problem: "names a \(type)"))
      }
    }
    // A tag of a tag (rare): let git peel it all the way.
    for name in nested {
      guard let k = tags.firstIndex(where: { $0.name == name }) else { continue }
      if let commit = try? commit("refs/tags/\(name)") {
        tags[k] = GitTag(name: name, commit: commit)
      } else {
        tags[k] = GitTag(name: name, commit: nil, problem: "a tag of a tag that names no commit")
      }
    }
    return tags
  }

  /// The commits `range` selects (`v5.15.55..v5.15.57`, as `git rev-list` reads it), oldest
  /// first: one `git rev-list --reverse --topo-order` process.
  public func commits(inRange range: String) throws -> [String] {
    guard let git = GitRepository.findGit() else { throw Error(description: "git: command not found") }
    guard Self.isSafeName(range), !range.hasPrefix("-"), !range.contains(" ") else {
      throw Error(description: "'\(range)' is not a range (give A..B)")
    }
    let result = try GitRepository.run(git, ["-C", path, "rev-list", "--reverse", "--topo-order", range, "--"])
    guard result.status == 0 else {
      throw Error(description: "\(path): '\(range)': \(Self.firstLine(result.err))")
    }
    return result.out.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
  }

  static func firstLine(_ text: String) -> String {
    (text.split(separator: "\n").first.map(String.init) ?? "no reason given")
      .replacingOccurrences(of: "fatal: ", with: "")
  }
}

/// What a fixed set of paths holds at any number of commits, read through the repository's
/// one `git cat-file --batch`: per commit, the commit object (is it there?) and the
/// directory of each path (`<commit>:drivers/gpu/drm/ttm`, which git resolves itself), all
/// commits' questions written at once while the answers are read, so the cost is git's
/// lookups, not one round trip each. A directory's entries are parsed once per tree id. No
/// blob is read here: the caller reads the distinct blobs it needs.
///
/// A directory git says is missing makes its paths missing; in a partial clone that lacks
/// trees (`--filter=tree:0`) git fetches what it lacks, as any git command there does.
public final class GitPathReader {
  public let repository: GitRepository
  public let paths: [String]
  /// The directories holding the paths ("" for the top level), with the names wanted in each
  /// and their indexes in ``paths``.
  private let directories: [(dir: String, names: [String: Int])]
  private var parsed: [String: [(Int, FileIdentity)]] = [:]
  /// Distinct (directory, tree id) pairs parsed.
  public private(set) var treesRead = 0
  /// Commit objects read.
  public private(set) var commitsRead = 0

  public init(repository: GitRepository, paths: [String]) {
    self.repository = repository
    self.paths = paths
    var dirs: [(dir: String, names: [String: Int])] = []
    for (index, path) in paths.enumerated() {
      let dir = (path as NSString).deletingLastPathComponent
      let name = (path as NSString).lastPathComponent
      if let k = dirs.firstIndex(where: { $0.dir == dir }) {
        dirs[k].names[name] = index
      } else {
        dirs.append((dir, [name: index]))
      }
    }
    directories = dirs
  }

  /// What each path holds at `commit`.
  public func identities(commit: String) throws -> [String: FileIdentity] {
    try identities(commits: [commit])[0]
  }

  /// Why `identities` of a commit are all unreadable, when the commit itself could not be
  /// read (missing from the repository, or not a commit): the reason every path carries.
  public static func commitProblem(_ identities: [String: FileIdentity]) -> String? {
    guard let first = identities.values.first, case .unreadable(nil, let reason) = first,
      reason.hasPrefix(Self.commitProblemPrefix), identities.values.allSatisfy({ $0 == first })
    else { return nil }
    return reason
  }

  static let commitProblemPrefix = "the commit "

  /// What each path holds at each of `commits`, in order. An object the repository lacks
  /// makes the paths it should hold unreadable, with that reason; only a failing git throws.
  public func identities(commits: [String]) throws -> [[String: FileIdentity]] {
    let per = 1 + directories.count
    var names: [String] = []
    names.reserveCapacity(commits.count * per)
    for c in commits {
      names.append(c)
      for d in directories { names.append(d.dir.isEmpty ? "\(c)^{tree}" : "\(c):\(d.dir)") }
    }
    var out: [[String: FileIdentity]] = []
    out.reserveCapacity(commits.count)
    var current: [String: FileIdentity] = [:]
    var commitMissing = false
    try repository.objects(names, limit: 16 << 20) { index, answer in
      let k = index % per
      if k == 0 {
        commitsRead += 1
        current = [:]
        commitMissing = !(answer?.1 == "commit")
        if commitMissing {
          let c = commits[index / per]
          let why: FileIdentity = .unreadable(
            blob: nil,
            reason: Self.commitProblemPrefix
              + (answer == nil
                ? "\(c.prefix(12)) is missing from the repository (a shallow clone?)"
                : "\(c.prefix(12)) is a \(answer!.1), not a commit"))
          for p in paths { current[p] = why }
        }
      } else if !commitMissing {
        let d = directories[k - 1]
        switch answer {
        case nil:
          for (_, i) in d.names { current[paths[i]] = .missing }
        case (let id, "tree", let data?)?:
          for (i, identity) in entries(of: d.dir, names: d.names, tree: id, data) { current[paths[i]] = identity }
        case (_, let type, _)?:
          for (_, i) in d.names {
            current[paths[i]] = .unreadable(blob: nil, reason: "\(d.dir) is a \(type), not a directory")
          }
        }
      }
      if k == per - 1 { out.append(current) }
    }
    return out
  }

  /// The wanted entries of one directory's tree, parsed once per tree id.
  private func entries(of dir: String, names: [String: Int], tree: String, _ data: Data) -> [(Int, FileIdentity)] {
    let key = dir + "|" + tree
    if let hit = parsed[key] { return hit }
    treesRead += 1
    var out: [(Int, FileIdentity)] = []
    var seen: Set<String> = []
    for entry in Self.entries(data, hashBytes: tree.count / 2, named: Set(names.keys)) {
      guard let index = names[entry.name] else { continue }
      seen.insert(entry.name)
      switch entry.mode {
      case "100644", "100755": out.append((index, .blob(entry.id)))
      case "120000": out.append((index, .unreadable(blob: entry.id, reason: "a symbolic link in the repository")))
      case "160000": out.append((index, .unreadable(blob: nil, reason: "a submodule, not a file")))
      default: out.append((index, .unreadable(blob: nil, reason: "a directory, not a file")))
      }
    }
    for (name, index) in names where !seen.contains(name) { out.append((index, .missing)) }
    parsed[key] = out
    return out
  }

  /// The entries named in `names` of a tree object, whose entries are `<mode> <name>\0<hash>`
  /// each, the hash `hashBytes` raw bytes (20 for SHA-1, 32 for SHA-256). Names are compared
  /// as bytes, so a kernel directory of a few hundred entries costs no string per entry.
  static func entries(_ data: Data, hashBytes: Int, named names: Set<String>) -> [(
    mode: String, name: String, id: String
  )] {
    let wanted = names.map { (name: $0, bytes: Array($0.utf8)) }
    var out: [(String, String, String)] = []
    let hex = Array("0123456789abcdef".utf8)
    data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
      let bytes = raw.bindMemory(to: UInt8.self)
      var i = 0
      while i < bytes.count, out.count < wanted.count {
        var space = i
        while space < bytes.count, bytes[space] != 0x20 { space += 1 }
        var nul = space + 1
        while nul < bytes.count, bytes[nul] != 0 { nul += 1 }
        guard nul + 1 + hashBytes <= bytes.count else { break }
        let nameStart = space + 1
        let length = nul - nameStart
        if let match = wanted.first(where: { w in
          w.bytes.count == length && w.bytes.indices.allSatisfy { bytes[nameStart + $0] == w.bytes[$0] }
        }) {
          var id = [UInt8]()
          id.reserveCapacity(hashBytes * 2)
          for k in (nul + 1)..<(nul + 1 + hashBytes) {
            id.append(hex[Int(bytes[k] >> 4)])
            id.append(hex[Int(bytes[k] & 15)])
          }
          let mode = String(decoding: UnsafeBufferPointer(rebasing: bytes[i..<space]), as: UTF8.self)
          out.append((mode, match.name, String(decoding: id, as: UTF8.self)))
        }
        i = nul + 1 + hashBytes
      }
    }
    return out
  }
}
