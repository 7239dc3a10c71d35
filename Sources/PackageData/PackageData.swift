import Foundation

/// Where the tool reads the package's data from: `patches/` and `fixtures/` (the branch
/// fixture, the scenarios, the kernel files).
///
/// The data ships as SwiftPM resources of the package (the `bo-repro_PackageData.resources`
/// folder next to the built binary, which `Bundle.module` finds), so the binary works outside
/// the checkout. The first of these that exists is used:
/// 1. the directory given with `--data DIR`;
/// 2. the directory in the `BO_REPRO_DATA` environment variable;
/// 3. the resources next to the binary (`bo-repro_PackageData.resources`);
/// 4. the checkout the binary was built from, while it still exists (a binary copied alone
///    to `~/bin`).
///
/// A given directory that does not hold the data is an error, never a fallback: a reviewer
/// who points at their own fixtures must not silently get the package's.
public struct PackageData: Sendable, Hashable {
  /// The directory holding `patches/` and `fixtures/`.
  public let root: String
  /// Where it came from: `--data`, `BO_REPRO_DATA`, `resources` or `checkout`.
  public let origin: String

  /// `patches/`.
  public var patches: String { root + "/patches" }
  /// `fixtures/stable-branches.json`.
  public var branches: String { root + "/fixtures/stable-branches.json" }
  /// `fixtures/scenarios/`.
  public var scenarios: String { root + "/fixtures/scenarios" }
  /// `fixtures/kernel-files/`.
  public var kernelFiles: String { root + "/fixtures/kernel-files" }

  /// The name of the environment variable that points at a data directory.
  public static let environmentVariable = "BO_REPRO_DATA"

  /// Why no data directory could be used: one line.
  public struct NotFound: Error, CustomStringConvertible {
    public let description: String
  }

  /// The data directory to use (see the type's documentation for the order).
  public static func locate(
    explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws -> PackageData {
    if let explicit {
      guard holdsData(explicit) else {
        throw NotFound(description: "--data \(explicit): not a bo-repro data directory (no patches/ and fixtures/)")
      }
      return PackageData(root: explicit, origin: "--data")
    }
    if let dir = environment[environmentVariable], !dir.isEmpty {
      guard holdsData(dir) else {
        throw NotFound(
          description: "\(environmentVariable)=\(dir): not a bo-repro data directory (no patches/ and fixtures/)")
      }
      return PackageData(root: dir, origin: environmentVariable)
    }
    if let resources = resourcesNextToBinary() { return PackageData(root: resources, origin: "resources") }
    let checkout = buildCheckout
    if holdsData(checkout) { return PackageData(root: checkout, origin: "checkout") }
    throw NotFound(
      description:
        "cannot find the package data: copy bo-repro_PackageData.resources next to the binary, or set \(environmentVariable) or --data to a directory holding patches/ and fixtures/"
    )
  }

  /// Whether `dir` holds `patches/` and `fixtures/`.
  static func holdsData(_ dir: String) -> Bool {
    var isDirectory: ObjCBool = false
    let fm = FileManager.default
    return ["patches", "fixtures"].allSatisfy {
      fm.fileExists(atPath: (dir as NSString).appendingPathComponent($0), isDirectory: &isDirectory)
        && isDirectory.boolValue
    }
  }

  /// The resource bundle next to the running binary, where `Bundle.module` looks first.
  /// `Bundle.module` itself stops the process when neither of its two places exists, so it is
  /// asked only once the folder is known to be there.
  static func resourcesNextToBinary() -> String? {
    let name = "bo-repro_PackageData.resources"
    var candidates = [Bundle.main.bundleURL.appendingPathComponent(name).path]
    // Started through a symlink (~/bin/bo-repro -> .build/release/bo-repro): the real place.
    if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      candidates.append(((executable as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name))
    }
    guard let first = candidates.first(where: holdsData) else { return nil }
    if first == candidates[0] { return Bundle.module.bundlePath }
    return first
  }

  /// The checkout this file was compiled in (`Sources/PackageData/PackageData.swift`).
  static let buildCheckout: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
  }()
}
