import Foundation
import Harness
import JSONText
import PatchMail
import PatchText

extension ReviewReport {
  /// The note as a reply body a stable reviewer can paste (`review --format email`): the
  /// quoted subject and upstream id, the finding in one paragraph, the "Possible
  /// dependencies:" list where there is one, then the behaviour evidence, each line citing
  /// the scenario that shows it, and the command that reruns it. Plain text, 72 columns.
  public var email: String {
    var out: [String] = []
    let subjectLine = mail?.subject.raw ?? (subject.isEmpty ? patch : "[PATCH] \(subject)")
    out.append("> Subject: \(subjectLine)")
    if let failed = mail?.failed {
      out.append("> FAILED to apply to \(failed.branch)-stable")
    }
    if let upstreamCommit {
      out.append(upstreamCommit.count == 40 ? "> commit \(upstreamCommit) upstream." : "> upstream \(upstreamCommit)")
    } else if let upstreamStatus {
      out.append("> upstream: \(upstreamStatus)")
    }
    out.append("")
    out += Self.wrap(finding).map { $0 }
    if (verdict == .blocked || verdict == .partial) && !possibleDependencies.isEmpty {
      out.append("")
      out.append("Possible dependencies:")
      out.append("")
      out += possibleDependencies.map(\.dependencyLine)
    }
    if !dependencies.isEmpty {
      out.append("")
      out.append("Of the \"Possible dependencies\" in the FAILED mail:")
      for d in dependencies {
        out += Self.wrap(
          "- \(d.commit.prefix(12)) (\"\(d.subject)\"): code \(d.code.rawValue), behaviour \(d.behaviour.rawValue); \(d.why).",
          indent: "  ")
      }
    }
    if let t = treeCheck {
      out.append("")
      out.append("Against \(t.tree): \(t.outcome.rawValue).")
      for h in t.hunks where !h.placement.appliesCleanly {
        out += Self.wrap(
          "- \((h.file as NSString).lastPathComponent) \(h.header)\(h.function.map { " (\($0))" } ?? ""): \(h.summary)",
          indent: "  ")
      }
      for e in t.explanations { out += Self.wrap("- " + e, indent: "  ") }
    }
    if !behaviour.isEmpty {
      out.append("")
      out.append("Behaviour on \(branch), modelled (bo-repro, without -> with the patch):")
      for b in behaviour {
        let line: String
        switch b.kind {
        case .delta:
          line =
            b.expected
            ? "- changes: \(b.title): \(b.before) -> \(b.after) [\(b.scenario)]"
            : "- CHECK: \(b.title): expected \(b.before) -> \(b.after), observed \(b.observedWithout) -> \(b.observedWith) [\(b.scenario)]"
        case .noChange:
          line = b.expected ? "- unchanged: \(b.title) [\(b.scenario)]" : "- CHECK: \(b.title) changed [\(b.scenario)]"
        }
        out += Self.wrap(line, indent: "  ")
      }
    }
    if !proof.isEmpty {
      out.append("")
      out.append("To rerun: \(proof.last!)")
    }
    out.append("")
    out.append("-- ")
    out.append("bo-repro review: \(verdict.rawValue)")
    return out.joined(separator: "\n")
  }

  /// The finding, one paragraph: what to do and why.
  var finding: String {
    let tree =
      treeCheck.map { t -> String in
        switch t.outcome {
        case .applies: " It applies cleanly to \(t.tree)."
        case .appliesWithOffset: " It applies to \(t.tree) with an offset."
        case .appliesWithFuzz: " It applies to \(t.tree) only with fuzz; please check the result."
        case .appliesIgnoringWhitespace: " It applies to \(t.tree) only with whitespace ignored."
        default: ""
        }
      } ?? ""
    switch verdict {
    case .apply:
      let why = reason.hasPrefix("needed: ") ? String(reason.dropFirst(8)) : reason
      return "This is needed on \(branch): \(why)\(tree) Please apply."
    case .notNeeded:
      return "This is not needed on \(branch): \(reason) Please drop it from the \(branch) queue."
    case .alreadyApplied:
      return "\(branch) already has this: \(reason) Please drop it."
    case .blocked:
      return "This is needed on \(branch), but not as is: \(reason)"
        + (possibleDependencies.isEmpty ? "" : " It needs the patches below first.")
    case .partial:
      return "This backport is partial: \(reason)"
    case .unknown:
      return "I cannot say from the models whether \(branch) needs this: \(reason)"
    }
  }

  /// `text` wrapped at 72 columns, continuation lines indented by `indent`.
  static func wrap(_ text: String, indent: String = "") -> [String] {
    var lines: [String] = []
    var line = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: true) {
      if !line.isEmpty && line.count + 1 + word.count > 72 {
        lines.append(line)
        line = indent + word
      } else {
        line += (line.isEmpty ? "" : " ") + word
      }
    }
    if !line.isEmpty { lines.append(line) }
    return lines
  }

  /// A series as JSON: `{"schema": 1, "command": "review", "source", "reviews": [...],
  /// "unreadable": [{"index", "source", "error"}], "skipped": [{"index", "source", "why"}]}`.
  public static func seriesJSON(_ items: [SeriesReview.Item], source: String) -> JSONValue {
    var reviews: [JSONValue] = []
    var unreadable: [JSONValue] = []
    var skipped: [JSONValue] = []
    for item in items {
      switch item {
      case .reviewed(let r): reviews.append(r.json)
      case .unreadable(let index, let source, let error):
        unreadable.append(["index": .int(index), "source": .string(source), "error": .string(error)])
      case .skipped(let index, let source, let why):
        skipped.append(["index": .int(index), "source": .string(source), "why": .string(why)])
      }
    }
    return [
      "schema": 1, "command": "review", "source": .string(source), "reviews": .array(reviews),
      "unreadable": .array(unreadable), "skipped": .array(skipped),
    ]
  }
}
