import Foundation
import PackageTestSupport
import PatchText
import Testing

@testable import Patches

extension UpstreamPatch: CustomTestStringConvertible {
  public var testDescription: String { slug }
}

@Suite("Patch catalog")
struct CatalogTests {
  /// The catalog states facts the patch texts do not carry; where both say something, they
  /// must agree.
  @Test("the catalog agrees with the patch texts", arguments: PatchCatalog.all)
  func agreesWithPatchText(_ entry: UpstreamPatch) throws {
    let patch = try PatchFile(contentsOf: "\(patchesDirectory)/\(entry.slug).patch")
    #expect(patch.subject == entry.subject)
    #expect(patch.files.map(\.path) == entry.files)
    #expect(patch.upstreamCommit == entry.upstreamCommit)
    if case .notMerged = entry.status {
      #expect(patch.commit == nil && patch.notes.contains("Not merged"))
    }
    if let link = patch.trailers("Link").first {
      #expect(link.hasSuffix(entry.messageID))
    }
  }

  @Test("the catalog and patches/ hold the same seven slugs")
  func sameSlugs() throws {
    let set = try PatchSet(directory: patchesDirectory)
    #expect(Set(set.patches.map(\.slug)) == Set(PatchCatalog.all.map(\.slug)))
    #expect(PatchCatalog.all.count == 7)
  }

  @Test("series siblings name the prerequisite the zero-copy patch needs")
  func zeroCopyNeedsInsertFolio() throws {
    let series = try #require(PatchCatalog.zeroCopyInsertFolio.series)
    #expect(series.position == "2/2")
    #expect(series.siblings.map(\.subject) == ["mm/shmem: add shmem_insert_folio()"])
    #expect(series.siblings.first?.commit == nil)
  }
}
