import Foundation
import PackageTestSupport
import PatchText
import Testing

@testable import Backport

/// The recorded scans in the branch data (`"recorded"`): the files each names are in
/// fixtures/kernel-files, and they still scan to the recorded states. A scanner change that
/// would read a real tree differently fails here.
@Suite("Recorded scans of the branch data")
struct RecordedScanTests {
  static let branches = Result { try StableBranchSet(contentsOf: branchesFile).branches }

  static let recorded: [String] = ((try? branches.get()) ?? []).filter { $0.recorded != nil }.map(\.name)

  @Test("the branch data records scans of real files", .enabled(if: !recorded.isEmpty))
  func some() {
    #expect(Self.recorded.count >= 5)
  }

  @Test("each recording's files still scan to its states", arguments: recorded)
  func rescan(_ name: String) throws {
    let branch = try #require(try Self.branches.get().first { $0.name == name })
    let r = try #require(branch.recorded)
    let tree = try TemporaryTree()
    for f in r.files {
      let text = try requireKernelFile((f.path as NSString).lastPathComponent, f.blob)
      #expect(GitBlob.id(of: text) == f.blob, "\(f.path)")
      try tree.write(f.path, text)
    }
    let scan = try TreeScanner(patches: try PatchSet(directory: patchesDirectory).patches)
      .scan(try DirectorySource(root: tree.root))
    for (slug, state) in r.states {
      #expect(scan.patch(slug)?.state == state, "\(name) \(slug): \(scan.patch(slug)?.evidence ?? [])")
      // Only patches all of whose files were read are recorded.
      let files = Set(scan.patch(slug)?.files.map(\.path) ?? [])
      #expect(files.isSubset(of: Set(r.files.map(\.path))), "\(name) \(slug) has files not read")
    }
  }

  /// The hand-kept state at the branch head and the recorded snapshot disagree only where
  /// history explains it: the NULL/handle fix reached 6.18.y in 6.18.42, after the 6.18.19
  /// snapshot.
  @Test("where a recording and the hand-kept head state disagree, a later release explains it")
  func disagreements() throws {
    var found: [String] = []
    for b in try Self.branches.get() {
      guard let r = b.recorded else { continue }
      for (slug, state) in r.states where state.applied != b.patch(slug)?.state.applied {
        found.append("\(b.name) \(slug)")
      }
    }
    #expect(found == ["6.18.y null-handle-pages-backup"])
  }

  @Test("a malformed recording is refused with one line")
  func malformed() throws {
    let text = try String(contentsOfFile: branchesFile, encoding: .utf8)
    for (from, to, message) in [
      ("\"at\": \"6.12.15\"", "\"at\": 6", "branch 6.12.y.recorded.at: expected a non-empty string"),
      ("\"madvise-list-move\": \"after\"", "\"madvise-list-move\": \"fixed\"", "unknown state 'fixed'"),
      (
        "\"path\": \"Makefile\"", "\"path\": \"Documentation/x.rst\"",
        "'Documentation/x.rst' is no file a patch touches"
      ),
    ] {
      #expect(text.contains(from), "\(from)")
      let edited = text.replacingOccurrences(of: from, with: to)
      let error = #expect(throws: StableBranchError.self) {
        try StableBranchSet(data: Data(edited.utf8), path: "b.json")
      }
      #expect(error?.description.contains(message) == true, "\(error?.description ?? "")")
    }
  }
}
