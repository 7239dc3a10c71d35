import Foundation

/// The kernel version a tree's top-level `Makefile` states (`VERSION`, `PATCHLEVEL`,
/// `SUBLEVEL`, `EXTRAVERSION`), and the stable branch it belongs to.
public struct KernelVersion: Hashable, Sendable, Comparable, CustomStringConvertible {
  public let version: Int
  public let patchLevel: Int
  public let subLevel: Int
  /// `-rc3`, or empty.
  public let extraVersion: String

  public init(version: Int, patchLevel: Int, subLevel: Int, extraVersion: String = "") {
    self.version = version
    self.patchLevel = patchLevel
    self.subLevel = subLevel
    self.extraVersion = extraVersion
  }

  /// `6.12.58`, `6.13-rc3`, `6.12` (the `.0` release is written without its sublevel, as the
  /// kernel's own `make kernelversion` does not, but as its tags do).
  public var description: String {
    (subLevel == 0 ? "\(version).\(patchLevel)" : "\(version).\(patchLevel).\(subLevel)") + extraVersion
  }

  /// `6.12.y`; a release candidate (`6.13-rc3`) is mainline, not yet a stable branch.
  public var branch: String {
    extraVersion.hasPrefix("-rc") && subLevel == 0 ? "mainline" : "\(version).\(patchLevel).y"
  }

  public static func < (a: KernelVersion, b: KernelVersion) -> Bool {
    if (a.version, a.patchLevel, a.subLevel) != (b.version, b.patchLevel, b.subLevel) {
      return (a.version, a.patchLevel, a.subLevel) < (b.version, b.patchLevel, b.subLevel)
    }
    // 6.13-rc3 < 6.13: a release candidate comes before its release.
    if a.extraVersion.isEmpty != b.extraVersion.isEmpty { return !a.extraVersion.isEmpty }
    return a.extraVersion.compare(b.extraVersion, options: .numeric) == .orderedAscending
  }

  /// Parses the assignments at the top of a kernel `Makefile`; `nil` when `VERSION`,
  /// `PATCHLEVEL` or `SUBLEVEL` is missing or not a number (not a kernel Makefile).
  public init?(makefile text: String) {
    var values: [String: String] = [:]
    for line in text.split(separator: "\n", maxSplits: 40, omittingEmptySubsequences: false).prefix(40) {
      guard let eq = line.firstIndex(of: "=") else { continue }
      let key = line[..<eq].trimmingCharacters(in: .whitespaces)
      guard ["VERSION", "PATCHLEVEL", "SUBLEVEL", "EXTRAVERSION"].contains(key), values[key] == nil else { continue }
      values[key] = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
    }
    guard let v = values["VERSION"].flatMap({ Int($0) }), let p = values["PATCHLEVEL"].flatMap({ Int($0) }),
      let s = values["SUBLEVEL"].flatMap({ Int($0) }), (0...99).contains(v), (0...999).contains(p),
      (0...9999).contains(s)
    else { return nil }
    let extra = values["EXTRAVERSION"] ?? ""
    // Only a plain suffix (-rc3, -android14); anything else is not a version.
    guard extra.count <= 32, extra.allSatisfy({ $0.isLetter || $0.isNumber || "-_.+".contains($0) }) else {
      return nil
    }
    self.init(version: v, patchLevel: p, subLevel: s, extraVersion: extra)
  }

  /// Parses a tag or version: `v6.12.58`, `6.12.58`, `v6.13-rc3`, `v6.12`. By hand, not by
  /// a regex: a history parses every tag of a repository.
  public init?(tag: String) {
    var t = Substring(tag)
    if t.hasPrefix("v") { t = t.dropFirst() }
    var rc = ""
    if let dash = t.firstIndex(of: "-") {
      let suffix = t[dash...]
      guard suffix.hasPrefix("-rc"), suffix.count > 3, suffix.dropFirst(3).allSatisfy(\.isASCIIDigit) else {
        return nil
      }
      rc = String(suffix)
      t = t[..<dash]
    }
    let parts = t.split(separator: ".", omittingEmptySubsequences: false)
    guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }),
      let v = Int(parts[0]), let p = Int(parts[1]), v <= 99, p <= 999
    else { return nil }
    let s = parts.count == 3 ? Int(parts[2]) : 0
    guard let s, s <= 9999 else { return nil }
    self.init(version: v, patchLevel: p, subLevel: s, extraVersion: rc)
  }
}

extension Character {
  /// `0` to `9` only (not every Unicode digit).
  var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
