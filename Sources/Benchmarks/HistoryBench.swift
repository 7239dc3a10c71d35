import Foundation
import Harness
import History
import PatchText

/// `history`'s measurement (issue 16's budgets): a repository of `tags` release tags whose
/// files the patches touch take `versions` distinct versions in all, built for the run with
/// `git fast-import`, read by ``History/read`` over every tag.
public struct BenchHistory: Hashable, Codable, Sendable {
  public let tags: Int
  public let versions: Int
  public let branches: Int
  /// Seconds to build the repository (not part of the budget).
  public let buildSeconds: Double
  /// Seconds for the history: open the repository, list and select the tags, read every
  /// point, decide every distinct blob, run every distinct tree state.
  public let seconds: Double
  public let blobsRead: Int
  public let treesRead: Int
  public let objects: Int
  public let fileDecisions: Int
  public let treeStates: Int
  /// Peak resident size of the process (`VmHWM` in `/proc/self/status`), MiB.
  public let peakMiB: Double?
  /// The budget for this shape: 5 s per 3,000 tags and 200 versions, linear.
  public let budgetSeconds: Double
  public let met: Bool
}

extension Bench {
  /// Builds the repository in a temporary directory and reads its history.
  public static func history(
    tags: Int, versions: Int, patches: String, kernelFiles: String, scenarios: String,
    progress: (String) -> Void = { _ in }
  ) throws -> BenchHistory {
    let repo = NSTemporaryDirectory() + "bo-repro-bench-history-\(UInt32.random(in: 0...UInt32.max))"
    defer { try? FileManager.default.removeItem(atPath: repo) }
    let (branches, buildSeconds) = try time {
      try makeHistoryRepository(repo, tags: tags, versions: versions, kernelFiles: kernelFiles)
    }
    progress("built \(tags) tags, \(versions) file versions in \(String(format: "%.1f", buildSeconds)) s")
    let set = try PatchSet(directory: patches)
    let library = try ScenarioLibrary.load(directory: scenarios)
    let (h, seconds) = try time {
      try History.read(
        try GitRepository(path: repo), selecting: [], patches: set.patches, scenarios: library, progress: progress)
    }
    let budget = 5.0 * max(Double(tags) / 3000, Double(versions) / 200)
    return BenchHistory(
      tags: h.stats.points, versions: versions, branches: branches, buildSeconds: buildSeconds, seconds: seconds,
      blobsRead: h.stats.blobsRead, treesRead: h.stats.treesRead, objects: h.stats.objects,
      fileDecisions: h.stats.fileDecisions, treeStates: h.stats.treeStatesRun, peakMiB: peakResidentMiB(),
      budgetSeconds: budget, met: seconds < budget && (peakResidentMiB() ?? 0) < 500)
  }

  /// The peak resident size of this process, MiB.
  static func peakResidentMiB() -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
      let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return nil }
    return kb / 1024
  }

  /// A kernel-shaped repository: one linear history of `tags` commits, each tagged (an
  /// annotated tag, `vX.Y` then `vX.Y.1` .. `vX.Y.99`, 100 per branch); every commit changes
  /// the top-level Makefile and a file in drivers/gpu/drm (so the trees on the way differ
  /// at every tag, as in a real stable release), and `versions` times in all, evenly spread,
  /// one of the files the patches touch takes a new version (a real fixture text of that file,
  /// cycling through them, with a line of its own). The directories carry filler entries as
  /// large as the kernel's (drivers/ about 140, drivers/gpu/drm about 100). Returns the
  /// number of branches.
  static func makeHistoryRepository(_ repo: String, tags: Int, versions: Int, kernelFiles: String) throws -> Int {
    try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
    try git(repo, ["init", "-q", "--bare"])
    func read(_ name: String) throws -> String { try String(contentsOfFile: "\(kernelFiles)/\(name)", encoding: .utf8) }
    // Each tracked file and the fixture versions it cycles through.
    let tracked: [(path: String, texts: [String])] = [
      (
        "drivers/gpu/drm/panfrost/panfrost_drv.c",
        try ["1ffaef5ec5ff", "de533f372764"].map { try read("panfrost_drv.c@\($0)") }
      ),
      (
        "drivers/gpu/drm/ttm/ttm_pool.c",
        try ["278bbe7a11ad", "d380a3c7fe40", "3d5f2ae0a456", "ff043420d517", "80d0ad41456a"].map {
          try read("ttm_pool.c@\($0)")
        }
      ),
      (
        "drivers/gpu/drm/ttm/ttm_backup.c", try ["6bd4c123d94c", "81df4cb5606b"].map { try read("ttm_backup.c@\($0)") }
      ),
      ("include/drm/ttm/ttm_backup.h", try ["c33cba111171", "29b9c855af77"].map { try read("ttm_backup.h@\($0)") }),
      ("drivers/gpu/drm/ttm/ttm_pool_internal.h", [try read("ttm_pool_internal.h@24c179fd69d1")]),
      ("drivers/gpu/drm/ttm/Makefile", [try read("Makefile@40d07a35293a")]),
    ]
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["git", "-C", repo, "fast-import", "--quiet", "--done"]
    let stdin = Pipe()
    p.standardInput = stdin
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    let out = stdin.fileHandleForWriting
    var buffer = Data()
    func emit(_ s: String) {
      buffer.append(contentsOf: Array(s.utf8))
      if buffer.count > 1 << 20 { flush() }
    }
    func flush() {
      out.write(buffer)
      buffer.removeAll(keepingCapacity: true)
    }
    func data(_ s: String) { emit("data \(s.utf8.count)\n\(s)\n") }
    var mark = 0
    func blob(_ text: String) -> Int {
      mark += 1
      emit("blob\nmark :\(mark)\n")
      data(text)
      return mark
    }
    let filler = blob("/* filler */\n")
    // The first version of each tracked file, then one new version per change.
    var current = tracked.map { blob($0.texts[0]) }
    let changes = max(versions - tracked.count, 0)
    var changeAt: [Int: Int] = [:]  // tag index -> how many changes there
    for c in 0..<changes { changeAt[(c * tags) / max(changes, 1), default: 0] += 1 }
    var changed = 0
    var branches = 0
    var previous: Int?
    for i in 0..<tags {
      let branch = i / 100
      let sub = i % 100
      if sub == 0 { branches += 1 }
      let version = "\(5 + branch / 20).\(branch % 20)" + (sub == 0 ? "" : ".\(sub)")
      var modified: [(String, Int)] = []
      for _ in 0..<(changeAt[i] ?? 0) {
        let k = changed % tracked.count
        let texts = tracked[k].texts
        current[k] = blob(texts[(changed / tracked.count) % texts.count] + "/* bench version \(changed) */\n")
        modified.append((tracked[k].path, current[k]))
        changed += 1
      }
      mark += 1
      let commit = mark
      let stamp = 1_600_000_000 + i * 60
      emit("commit refs/heads/main\nmark :\(commit)\ncommitter Bench <bench@example.org> \(stamp) +0000\n")
      data("v\(version)")
      if let previous { emit("from :\(previous)\n") }
      if previous == nil {
        for (k, file) in tracked.enumerated() { emit("M 100644 :\(current[k]) \(file.path)\n") }
        for f in 0..<20 { emit("M 100644 :\(filler) top-\(f)\n") }
        for f in 0..<140 { emit("M 100644 :\(filler) drivers/filler-\(f).c\n") }
        for f in 0..<100 { emit("M 100644 :\(filler) drivers/gpu/drm/filler-\(f).c\n") }
        for f in 0..<80 { emit("M 100644 :\(filler) include/drm/filler-\(f).h\n") }
      }
      for (path, m) in modified { emit("M 100644 :\(m) \(path)\n") }
      let parts = version.split(separator: ".")
      emit("M 100644 inline Makefile\n")
      data(
        "VERSION = \(parts[0])\nPATCHLEVEL = \(parts[1])\nSUBLEVEL = \(parts.count > 2 ? parts[2] : "0")\nEXTRAVERSION =\n"
      )
      emit("M 100644 inline drivers/gpu/drm/CHANGES\n")
      data("v\(version)\n")
      emit("tag v\(version)\nfrom :\(commit)\ntagger Bench <bench@example.org> \(stamp) +0000\n")
      data("Linux \(version)")
      previous = commit
    }
    emit("done\n")
    flush()
    try out.close()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw BenchError(description: "bench: git fast-import failed") }
    return branches
  }
}
