/// A kernel error number, as returned negated from kernel functions (`-ENOMEM`).
///
/// The raw values are the generic Linux ones from `include/uapi/asm-generic/errno-base.h`
/// and `include/linux/errno.h` (`ERESTARTSYS`). Model functions that fail throw or return an
/// `Errno`; ``description`` prints it the way kernel code and logs spell it (`-ENOMEM`).
public struct Errno: RawRepresentable, Error, Hashable, Codable, Sendable {
  /// The positive error number (`ENOMEM` is 12).
  public let rawValue: Int32

  /// Creates an error number from its positive raw value.
  public init(rawValue: Int32) { self.rawValue = rawValue }

  /// No such file or directory. The corresponding C error is `ENOENT`.
  public static let ENOENT = Errno(rawValue: 2)
  /// Interrupted system call: a signal was pending. The corresponding C error is `EINTR`.
  public static let EINTR = Errno(rawValue: 4)
  /// I/O error, e.g. a failed swap write. The corresponding C error is `EIO`.
  public static let EIO = Errno(rawValue: 5)
  /// Try again. The corresponding C error is `EAGAIN`.
  public static let EAGAIN = Errno(rawValue: 11)
  /// Out of memory. The corresponding C error is `ENOMEM`.
  public static let ENOMEM = Errno(rawValue: 12)
  /// File exists: the page-cache slot is taken. The corresponding C error is `EEXIST`.
  public static let EEXIST = Errno(rawValue: 17)
  /// Bad address. The corresponding C error is `EFAULT`.
  public static let EFAULT = Errno(rawValue: 14)
  /// Device or resource busy; `ttm_pool_backup()` returns it without swap space.
  /// The corresponding C error is `EBUSY`.
  public static let EBUSY = Errno(rawValue: 16)
  /// Invalid argument. The corresponding C error is `EINVAL`.
  public static let EINVAL = Errno(rawValue: 22)
  /// No space left on device: no free swap slot. The corresponding C error is `ENOSPC`.
  public static let ENOSPC = Errno(rawValue: 28)
  /// Operation already in progress (`include/uapi/asm-generic/errno.h`): the LRU walk skips a
  /// BO that returns it. The corresponding C error is `EALREADY`.
  public static let EALREADY = Errno(rawValue: 114)
  /// Kernel-internal "restart the system call". The corresponding C error is `ERESTARTSYS`.
  public static let ERESTARTSYS = Errno(rawValue: 512)

  /// The symbolic name without sign (`ENOMEM`), or the number for an unknown value.
  public var name: String {
    switch self {
    case .ENOENT: "ENOENT"
    case .EINTR: "EINTR"
    case .EIO: "EIO"
    case .EAGAIN: "EAGAIN"
    case .ENOMEM: "ENOMEM"
    case .EEXIST: "EEXIST"
    case .EFAULT: "EFAULT"
    case .EBUSY: "EBUSY"
    case .EINVAL: "EINVAL"
    case .ENOSPC: "ENOSPC"
    case .EALREADY: "EALREADY"
    case .ERESTARTSYS: "ERESTARTSYS"
    default: "\(rawValue)"
    }
  }
}

extension Errno: CustomStringConvertible {
  /// The negated form kernel code returns and logs print: `-ENOMEM`.
  public var description: String { "-\(name)" }
}
