import Backport
import Benchmarks
import Foundation
import JSONText
import PackageData
import Patches

/// `bo-repro bench`.
enum BenchCommand: Command {
  static let spec = CommandSpec(
    name: "bench",
    abstract: "Measure the models against the budgets (use a release build).",
    discussion: """
      Measures, in this build (swift run -c release bo-repro bench): TTM backup and restore throughput for both variants of every TTM patch at tt sizes 2^10 .. 2^<n> pages, how the per-page time grows with size, the model's memory per simulated page, the full matrix run time and the madvise exploration (3 BOs, depth 8), and checks the budgets. Each round trip runs 5 times up to 2^14 pages (once with --quick), twice above; the best time counts. Progress goes to stderr. BENCHMARKS.md records the figures.
      """,
    options: [
      OptionSpec(name: "--quick", help: "One run per size, sizes up to 2^14 pages."),
      OptionSpec(
        name: "--max-order", value: "n", defaultValue: "20 (14 with --quick)",
        help: "The largest tt, 2^n pages (10 to 22)."),
      OptionSpec(
        name: "--history", value: "tags:versions",
        help:
          "Instead: build a repository of this many release tags and distinct versions of the patches' files (git fast-import) and time 'history' over every tag, with its peak memory (budget 5 s per 3000 tags and 200 versions, under 500 MiB)."
      ),
      .format(["text", "json"], default: "text"),
    ],
    examples: [
      ("swift run -c release bo-repro bench", "The full benchmark, as BENCHMARKS.md records it."),
      ("swift run -c release bo-repro bench --history 30000:2000", "The history budget at 30,000 tags."),
    ],
    exitStatuses: [
      (.success, "measured (a missed budget is reported, not an error)"),
      (.error, "a round trip that failed or lost content"), (.usage, "usage error"),
    ])

  static func run(_ a: Arguments) throws -> ExitStatus {
    let quick = a.flag("--quick")
    let maxOrder = try a.int("--max-order", default: quick ? 14 : 20, in: 10...22)
    #if DEBUG
      let build = "debug"
    #else
      let build = "release"
    #endif
    let data = try a.data()
    if let shape = a["--history"] {
      return try history(shape, data: data, json: a.value("--format") == "json")
    }
    let report = try Bench.run(
      minOrder: 10, maxOrder: maxOrder, repeats: quick ? 1 : 5, build: build, branches: data.branches,
      scenarios: data.scenarios, patches: data.patches, kernelFiles: data.kernelFiles
    ) { line in
      FileHandle.standardError.write(Data("bench: \(line)\n".utf8))
    }
    if a.value("--format") == "json" {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      let fields = try JSONParser.parse(String(decoding: try encoder.encode(report), as: UTF8.self))
      guard case .object(let members) = fields else {
        throw CheckFailed(description: "bench: the report is not a JSON object")
      }
      printJSON(.object([JSONMember("schema", 1), JSONMember("command", "bench")] + members))
    } else {
      Terminal.print(BenchText.render(report))
    }
    return .success
  }
}

extension BenchCommand {
  /// `--history TAGS:VERSIONS`.
  static func history(_ shape: String, data: PackageData, json: Bool) throws -> ExitStatus {
    let parts = shape.split(separator: ":").map { Int($0) }
    guard parts.count == 2, let tags = parts[0], let versions = parts[1], (1...200_000).contains(tags),
      (6...tags + 6).contains(versions)
    else {
      throw UsageError(
        description:
          "--history takes TAGS:VERSIONS (1 to 200000 tags, 6 to TAGS+6 versions), not '\(Terminal.escaped(shape))'")
    }
    let r = try Bench.history(
      tags: tags, versions: versions, patches: data.patches, kernelFiles: data.kernelFiles, scenarios: data.scenarios
    ) { FileHandle.standardError.write(Data("bench: \($0)\n".utf8)) }
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      let fields = try JSONParser.parse(String(decoding: try encoder.encode(r), as: UTF8.self))
      printJSON(.object([JSONMember("schema", 1), JSONMember("command", "bench")] + fields.objectMembers))
    } else {
      Terminal.print(
        """
        history over \(r.tags) tags in \(r.branches) branches, \(r.versions) distinct file versions: \(BenchText.fixed(r.seconds, 2)) s (budget \(BenchText.fixed(r.budgetSeconds, 1)) s), peak \(r.peakMiB.map { BenchText.fixed($0, 0) } ?? "?") MiB (budget 500 MiB): \(r.met ? "met" : "MISSED")
          read \(r.blobsRead) blobs, \(r.treesRead) trees, \(r.objects) objects through one git cat-file; \(r.fileDecisions) file decisions; \(r.treeStates) tree states run
          (repository built in \(BenchText.fixed(r.buildSeconds, 1)) s, not counted)
        """)
    }
    return .success
  }
}

/// The text form of a benchmark report.
enum BenchText {
  static func fixed(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }

  /// `1234567` as `1.23 M`.
  static func rate(_ x: Double) -> String {
    x >= 1e6 ? fixed(x / 1e6, 2) + " M" : x >= 1e3 ? fixed(x / 1e3, 1) + " k" : fixed(x, 0)
  }

  static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

  static func render(_ r: BenchReport) -> String {
    var out = ["bo-repro bench (\(r.build) build)", "", "operations:"]
    for (key, text) in r.operations.sorted(by: { $0.key < $1.key }) { out.append("  \(key): \(text)") }
    out.append("")
    out.append("backup and restore (best of the repeats; pages/s):")
    let header = [
      pad("patch", 28), pad("variant", 7), pad("pages", 8), pad("backup s", 9), pad("backup p/s", 11),
      pad("restore s", 9), pad("restore p/s", 11), "ns/page",
    ]
    out.append("  " + header.joined(separator: " "))
    for t in r.roundTrips {
      let cols = [
        pad(t.patch, 28), pad(t.variant.rawValue, 7), pad("\(t.pages)", 8), pad(fixed(t.backupSeconds, 4), 9),
        pad(rate(t.backupPagesPerSecond), 11), pad(fixed(t.restoreSeconds, 4), 9),
        pad(rate(t.restorePagesPerSecond), 11), fixed(t.roundTripNanosPerPage, 1),
      ]
      out.append("  " + cols.joined(separator: " "))
    }
    out.append("")
    out.append(
      "linearity (round-trip ns/page per size; largest/smallest size, max/min; non-linear above "
        + "\(fixed(Bench.linearityLimit, 1))x):")
    for l in r.linearity {
      out.append(
        "  \(pad(l.patch, 28)) \(pad(l.variant.rawValue, 7)) "
          + l.nanosPerPage.map { fixed($0, 0) }.joined(separator: " ")
          + "  ratio \(fixed(l.largestOverSmallest, 2)), max/min \(fixed(l.maxOverMin, 2))"
          + (l.linear ? "  linear" : "  NON-LINEAR"))
    }
    let m = r.memory
    out.append("")
    out.append("memory per simulated page:")
    out.append("  frame table (MemoryLayout<PageFrame>.stride): \(m.pageFrameStride) bytes per page of RAM")
    out.append("  tt page array (MemoryLayout<TTMPagePointer>.stride): \(m.ttSlotStride) bytes per tt page")
    if let boot = m.bootResidentBytesPerPage, let pop = m.populatedResidentBytesPerPage {
      out.append(
        "  resident size (/proc/self/statm), machine of \(m.machinePages) pages: boot \(fixed(boot, 1)) bytes/page, "
          + "with a tt populated over all of it \(fixed(pop, 1)) bytes/page")
    } else {
      out.append("  resident size: /proc/self/statm not available")
    }
    let x = r.matrix
    out.append("")
    out.append(
      "matrix: \(x.branches) branches, \(x.scenarios) scenarios, \(x.cells) cells: load \(fixed(x.loadSeconds)) s + "
        + "compute \(fixed(x.computeSeconds)) s = \(fixed(x.totalSeconds)) s")
    let sc = r.scan
    out.append(
      "scan: one tree (\(sc.treeBytes) bytes) \(fixed(sc.treeSeconds * 1000, 2)) ms; matrix --git over \(sc.refs) refs \(fixed(sc.gitMatrixSeconds)) s (\(sc.gitObjects) objects, one cat-file); ns/byte at 1x/4x/16x: "
        + sc.nanosPerByte.map { fixed($0, 2) }.joined(separator: " / ") + (sc.linear ? " (linear)" : " (NOT linear)"))
    let e = r.exploration
    out.append(
      "exploration: madvise, \(e.bos) BOs, depth \(e.depth), before + after: \(fixed(e.seconds)) s, "
        + "\(e.transitions) transitions over \(e.soundStates) distinct states, \(rate(e.statesPerSecond)) states/s")
    out.append("")
    out.append("budgets:")
    for b in r.budgets {
      let result =
        b.measuredSeconds.map { fixed($0) + " s " + ($0 < b.limitSeconds ? "met" : "MISSED") } ?? "not measured"
      out.append(
        "  \(pad(b.name, 48)) < \(fixed(b.limitSeconds, b.limitSeconds < 0.1 ? 3 : 1)) s: \(result) (\(b.detail))")
    }
    return out.joined(separator: "\n")
  }
}
