import Foundation
import JSONText
import PatchText

/// Regenerating the branch data from a kernel repository: each branch named gets the states
/// the scanner finds at its ref, every file read recorded with its blob id and where it was
/// read, and the facts code cannot show (status, EOL, the hand-kept evidence of the branches
/// not named) left as they are (`bo-repro record`).
public enum BranchRecording {
  /// The branch data `text` with `scans` (row name, scan) recorded into it: the branch's
  /// `patches` states and evidence replaced by the scan's, and a `recorded` block. A branch
  /// not yet in the data is added with status `stable`, marked unverified.
  public static func record(into text: String, path: String, scans: [(name: String, scan: TreeScan)]) throws
    -> JSONValue
  {
    let root: JSONValue
    do {
      root = try JSONParser.parse(text)
    } catch {
      throw StableBranchError(description: "\(path): \(error.description)")
    }
    guard case .object(var top) = root, let index = top.firstIndex(where: { $0.key == "branches" }),
      case .array(var branches) = top[index].value
    else { throw StableBranchError(description: "\(path): missing key 'branches'") }
    for (name, scan) in scans {
      let block = recorded(scan)
      let patches = JSONValue.object(
        scan.patches.map { p in
          JSONMember(
            p.patch,
            [
              "state": .string(p.state.rawValue),
              "evidence": .string(
                "scanned at \(scan.origin.description): " + (p.notes.first.map { $0 + "; " } ?? "")
                  + (p.evidence.first ?? "")),
              "confidence": "verified", "source": "scan",
            ])
        })
      if let i = branches.firstIndex(where: { $0["name"] == .string(name) }), case .object(var members) = branches[i] {
        members.removeAll { $0.key == "patches" || $0.key == "recorded" }
        members.append(JSONMember("patches", patches))
        members.append(JSONMember("recorded", block))
        branches[i] = .object(members)
      } else {
        branches.append(
          [
            "name": .string(name),
            "status": ["kind": "stable", "reason": "added by bo-repro record; the status is not known from the code"],
            "patches": patches, "recorded": block,
          ])
      }
    }
    top[index] = JSONMember("branches", .array(branches))
    return .object(top)
  }

  /// `{"at", "note", "files": [{"path", "blob", "from"}], "states"}` for one scan.
  static func recorded(_ scan: TreeScan) -> JSONValue {
    let from = scan.origin.description
    var files: [JSONValue] = []
    var seen: Set<String> = []
    if let blob = scan.makefileBlob {
      files.append(["path": "Makefile", "blob": .string(blob), "from": .string(from)])
      seen.insert("Makefile")
    }
    for p in scan.patches {
      for f in p.files where !seen.contains(f.path) {
        seen.insert(f.path)
        guard let blob = f.blob else { continue }
        files.append(["path": .string(f.path), "blob": .string(blob), "from": .string(from)])
      }
    }
    return [
      "at": .string(scan.version?.description ?? scan.origin.ref ?? "?"),
      "note": .string("a scan of \(from); a file the patches touch that is not listed is not in that tree"),
      "files": .array(files),
      "states": .object(scan.patches.map { JSONMember($0.patch, .string($0.state.rawValue)) }),
    ]
  }
}
