import Foundation

/// Where the package's data lives (`patches/`, `fixtures/...`), for the command-line tool and
/// the libraries that read it.
public enum PackageFiles {
  /// `relative` (e.g. `patches` or `fixtures/scenarios`) in the current directory or the
  /// nearest parent that holds it next to a `Package.swift`; `explicit` if given; else
  /// `relative` itself, so that the error names the path looked for.
  public static func locate(_ relative: String, explicit: String? = nil) -> String {
    if let explicit { return explicit }
    let fm = FileManager.default
    var dir = fm.currentDirectoryPath
    while true {
      let candidate = (dir as NSString).appendingPathComponent(relative)
      if fm.fileExists(atPath: (dir as NSString).appendingPathComponent("Package.swift")),
        fm.fileExists(atPath: candidate)
      {
        return candidate
      }
      let parent = (dir as NSString).deletingLastPathComponent
      if parent == dir || parent.isEmpty { return relative }
      dir = parent
    }
  }
}
