import PatchMail
import Testing

/// The subject prefixes of the stable workflow (stable-formats.md 1.4, 2.1, 2.2, pitfall 3),
/// each taken apart as b4 does.
@Suite struct SubjectLineTests {
  struct Case: Sendable, CustomTestStringConvertible {
    let raw: String
    let reply: Bool
    let extras: [String]
    let revision: Int
    let counter: [Int]
    let subject: String
    let branches: [String]
    var testDescription: String { raw }
  }

  static let cases: [Case] = [
    Case(
      raw: "[PATCH 5.15 021/167] drm/panfrost: Fix shrinker list corruption by madvise IOCTL", reply: false,
      extras: ["5.15"], revision: 1, counter: [21, 167],
      subject: "drm/panfrost: Fix shrinker list corruption by madvise IOCTL", branches: ["5.15"]),
    Case(
      raw: "[PATCH AUTOSEL 6.18 04/12] drm/ttm: Avoid invoking the OOM killer", reply: false,
      extras: ["AUTOSEL", "6.18"], revision: 1, counter: [4, 12], subject: "drm/ttm: Avoid invoking the OOM killer",
      branches: ["6.18"]),
    Case(
      raw: "[PATCH AUTOSEL 7.0-6.18] drm/ttm: x", reply: false, extras: ["AUTOSEL", "7.0-6.18"], revision: 1,
      counter: [], subject: "drm/ttm: x", branches: ["7.0", "6.18"]),
    Case(
      raw: "[PATCH v2 2/3] drm/ttm: y", reply: false, extras: [], revision: 2, counter: [2, 3], subject: "drm/ttm: y",
      branches: []),
    Case(
      raw: "[PATCHv3] drm/ttm: z", reply: false, extras: [], revision: 3, counter: [], subject: "drm/ttm: z",
      branches: []),
    Case(
      raw: "Re: [PATCH 6.1.y] drm/ttm: w", reply: true, extras: ["6.1.y"], revision: 1, counter: [],
      subject: "drm/ttm: w", branches: ["6.1"]),
    Case(
      raw: "[STABLE 6.1.y] [PATCH] drm/ttm: w", reply: false, extras: ["STABLE", "6.1.y"], revision: 1, counter: [],
      subject: "drm/ttm: w", branches: ["6.1"]),
    Case(
      raw: "drm/ttm: no prefix [at all]", reply: false, extras: [], revision: 1, counter: [],
      subject: "drm/ttm: no prefix [at all]", branches: []),
  ]

  @Test(arguments: cases)
  func prefixes(_ c: Case) {
    let s = SubjectLine(c.raw)
    #expect(s.isReply == c.reply)
    #expect(s.extras == c.extras)
    #expect(s.revision == c.revision)
    #expect(s.counter.map { [$0.number, $0.total] } ?? [] == c.counter)
    #expect(s.subject == c.subject)
    #expect(s.branches == c.branches)
    #expect(s.isAutosel == c.extras.contains("AUTOSEL"))
  }
}
