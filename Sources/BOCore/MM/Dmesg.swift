/// A kernel log level (`KERN_*` in `include/linux/kern_levels.h`).
public enum LogLevel: Int, Comparable, Codable, Sendable {
  case emerg = 0
  case alert, crit, err, warning, notice, info, debug

  public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One line of the kernel log.
public struct DmesgLine: Hashable, Codable, Sendable, CustomStringConvertible {
  /// The line's log level.
  public var level: LogLevel
  /// The text, in the kernel's message shape.
  public var text: String
  /// `true` for lines the model adds about itself (marked `[model]`), never for text the
  /// kernel would print.
  public var isModelNote: Bool

  public var description: String { isModelNote ? "[model] \(text)" : text }
}

/// The kernel ring buffer (`dmesg`), with the message shapes of the functions that print.
///
/// Only the first, identifying line of multi-line reports (the OOM report, the allocation
/// failure splat, an oops) is logged; the stack dumps and memory summaries that follow in the
/// kernel are not modelled.
public struct Dmesg: Sendable {
  /// Every line logged, oldest first.
  public private(set) var lines: [DmesgLine] = []

  public init() {}

  /// `printk()` at `level`.
  public mutating func printk(_ level: LogLevel, _ text: String) {
    lines.append(DmesgLine(level: level, text: text, isModelNote: false))
  }

  /// A note from the model itself, e.g. that an allocation would retry forever.
  public mutating func modelNote(_ text: String) {
    lines.append(DmesgLine(level: .info, text: text, isModelNote: true))
  }

  /// Lines whose text contains `needle`.
  public func grep(_ needle: String) -> [DmesgLine] {
    lines.filter { $0.text.contains(needle) }
  }

  /// The log as `dmesg` would print it, one line each.
  public var rendered: String { lines.map(\.description).joined(separator: "\n") }
}
