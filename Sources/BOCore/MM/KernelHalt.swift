/// Something after which the kernel would not return to the caller: a panic, a BUG, an oops,
/// or a loop that never ends.
///
/// Model functions throw an ``Errno`` where the kernel function returns an error code, and a
/// `KernelHalt` where the kernel would never return at all. A test asserts on the halt
/// instead of hanging or crashing, so both variants of a patch run in one process.
public enum KernelHalt: Error, Hashable, Sendable, CustomStringConvertible {
  /// `panic()`, e.g. "System is deadlocked on memory" when the OOM killer finds no victim.
  case panic(String)
  /// An oops: a fault on a bad pointer (NULL, list poison, a handle used as a page pointer).
  /// The first line is the kernel's (`general protection fault, ...`), followed by the call
  /// chain the model can name.
  case oops(message: String, callChain: [String])
  /// `BUG()`, e.g. `CHECK_DATA_CORRUPTION` with `CONFIG_BUG_ON_DATA_CORRUPTION` when the model
  /// is asked not to trap (see ``ListHeads``).
  case bug(String)
  /// A loop the kernel would never leave (a list walk that cycles, an allocation that retries
  /// forever). The kernel shows this as a soft lockup or a hung task; the model stops and
  /// says why.
  case lockup(String)

  public var description: String {
    switch self {
    case .panic(let msg): "Kernel panic - not syncing: \(msg)"
    case .oops(let msg, let chain):
      ([msg] + (chain.isEmpty ? [] : ["Call Trace:"] + chain.map { " \($0)" }))
        .joined(separator: "\n")
    case .bug(let msg): msg
    case .lockup(let msg): msg
    }
  }
}

extension KernelHalt {
  /// The same halt seen from one frame further out: an oops gains `frame` at the end of its
  /// call chain, so a fault deep in `set_pages_array_wb()` reports the path it came by (the
  /// kernel's `Call Trace:`, innermost first). Other halts are unchanged.
  public func calledFrom(_ frame: String) -> KernelHalt {
    guard case .oops(let message, let chain) = self else { return self }
    return .oops(message: message, callChain: chain + [frame])
  }
}

/// Runs `body` as the kernel function `frame`: an oops thrown inside gains the frame.
public func kernelFrame<T>(_ frame: String, _ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let halt as KernelHalt {
    throw halt.calledFrom(frame)
  }
}
