/// `PANFROST_MADV_WILLNEED` (`include/uapi/drm/panfrost_drm.h`): the BO is needed again.
public let PANFROST_MADV_WILLNEED: UInt32 = 0
/// `PANFROST_MADV_DONTNEED` (`include/uapi/drm/panfrost_drm.h`): the BO's content may be
/// dropped under memory pressure.
public let PANFROST_MADV_DONTNEED: UInt32 = 1

/// `struct drm_panfrost_madvise` (`include/uapi/drm/panfrost_drm.h`), the argument of
/// `DRM_IOCTL_PANFROST_MADVISE`.
public struct DRMPanfrostMadvise: Hashable, Codable, Sendable {
  /// `handle`: the GEM handle of the BO (in).
  public var handle: UInt32
  /// `madv`: `PANFROST_MADV_WILLNEED` or `PANFROST_MADV_DONTNEED` (in).
  public var madv: UInt32
  /// `retained`: whether the backing pages still exist, i.e. the BO was not purged (out).
  public var retained: UInt32

  public init(handle: UInt32, madv: UInt32, retained: UInt32 = 0) {
    self.handle = handle
    self.madv = madv
    self.retained = retained
  }
}

/// A `struct mutex` as the model needs it: single-threaded, so a lock is either free or held
/// by "someone else" (a test sets that up to show the trylock paths).
///
/// `mutex_trylock()` fails on a held mutex. `mutex_lock()` on a held mutex would sleep until
/// the holder releases it, which a single-threaded model cannot run; it stops with
/// ``KernelHalt/lockup(_:)`` and a `[model]` note instead of pretending the wait ends.
public struct KernelMutex: Hashable, Sendable {
  /// The lock's name in the kernel, for messages (`shrinker_lock`, `mappings.lock`, ...).
  public let name: String
  /// Whether the mutex is held.
  public private(set) var locked = false

  public init(_ name: String) { self.name = name }

  /// `mutex_trylock()`: takes the mutex if it is free.
  public mutating func trylock() -> Bool {
    if locked { return false }
    locked = true
    return true
  }

  /// `mutex_lock()`.
  ///
  /// - Throws: ``KernelHalt/lockup(_:)`` when the mutex is held: the caller would sleep
  ///   until a holder the model does not run releases it.
  public mutating func lock() throws {
    if locked {
      throw KernelHalt.lockup(
        "[model] mutex_lock(&\(name)) waits for its holder, which this single-threaded model does not run")
    }
    locked = true
  }

  /// `mutex_unlock()`.
  public mutating func unlock() {
    precondition(locked, "mutex_unlock(&\(name)) of an unlocked mutex")
    locked = false
  }
}

extension ListDebugConfig {
  /// `CONFIG_DEBUG_LIST=y` with the 5.x wording of `lib/list_debug.c` (no `(prev=%px)` /
  /// `(next=%px)` suffix on the `list_del` reports): the kernels the panfrost model follows
  /// (5.4 .. 5.19) printed it this way. Which release added the suffix is UNVERIFIED (see
  /// ``ListDebugConfig/Messages``).
  public static let on5x = ListDebugConfig(debugList: true, messages: .withoutPointerSuffix)
}
