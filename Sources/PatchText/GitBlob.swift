/// Git object ids of file contents, as `git hash-object` computes them.
public enum GitBlob {
  /// The blob id of `text`: SHA-1 of `"blob <byte count>\0"` followed by the bytes, in
  /// lowercase hex.
  public static func id(of text: String) -> String {
    id(ofBytes: Array(text.utf8))
  }

  /// The blob id of a file's bytes.
  public static func id(ofBytes bytes: [UInt8]) -> String {
    sha1(Array("blob \(bytes.count)\0".utf8) + bytes)
  }

  /// Whether `id` (full or abbreviated, as in an `index` line) names the blob of `text`.
  public static func matches(_ id: String, _ text: String) -> Bool {
    !id.isEmpty && self.id(of: text).hasPrefix(id.lowercased())
  }

  /// SHA-1 (FIPS 180-4) of `message`, in lowercase hex. Used for git ids only, not security.
  static func sha1(_ message: [UInt8]) -> String {
    sha1Digest(message).map { byte in
      let s = String(byte, radix: 16)
      return s.count == 1 ? "0" + s : s
    }.joined()
  }

  /// SHA-1 (FIPS 180-4) of `message`: the 20-byte digest, most significant byte first (as git
  /// stores an object id). Used for git ids only (blob ids, `git patch-id`), not security.
  public static func sha1Digest(_ message: [UInt8]) -> [UInt8] {
    var h: (UInt32, UInt32, UInt32, UInt32, UInt32) =
      (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
    var data = message
    let bitLength = UInt64(message.count) * 8
    data.append(0x80)
    while data.count % 64 != 56 { data.append(0) }
    for shift in stride(from: 56, through: 0, by: -8) {
      data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
    }
    var w = [UInt32](repeating: 0, count: 80)
    for chunk in stride(from: 0, to: data.count, by: 64) {
      for t in 0..<16 {
        let b = chunk + t * 4
        w[t] = UInt32(data[b]) << 24 | UInt32(data[b + 1]) << 16 | UInt32(data[b + 2]) << 8 | UInt32(data[b + 3])
      }
      for t in 16..<80 {
        let x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]
        w[t] = x << 1 | x >> 31
      }
      var (a, b, c, d, e) = h
      for t in 0..<80 {
        let f: UInt32
        let k: UInt32
        switch t {
        case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A82_7999)
        case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9_EBA1)
        case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
        default: (f, k) = (b ^ c ^ d, 0xCA62_C1D6)
        }
        let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[t]
        e = d
        d = c
        c = b << 30 | b >> 2
        b = a
        a = temp
      }
      h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
    }
    return [h.0, h.1, h.2, h.3, h.4].flatMap { v in
      [
        UInt8(truncatingIfNeeded: v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8),
        UInt8(truncatingIfNeeded: v),
      ]
    }
  }
}
