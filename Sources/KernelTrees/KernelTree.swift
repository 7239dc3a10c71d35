import BOCore
import DropRestoreAfterRestoreModel
import GFPRetryMayfailReadbackModel
import MadviseListMoveModel
import NativeOrderBackupModel
import NullHandlePagesBackupModel
import Patches
import ShmemBackupV14Model
import ZeroCopyInsertFolioModel

/// Every modelled patch, in the order they were written upstream; a later patch's seams
/// override an earlier one's.
public enum PatchModels {
  public static let all: [any PatchModel.Type] = [
    MadviseListMove.self,
    ShmemBackupV14.self,
    GFPRetryMayfailReadback.self,
    DropRestoreAfterRestore.self,
    ZeroCopyInsertFolio.self,
    NullHandlePagesBackup.self,
    NativeOrderBackup.self,
  ]

  /// The model for `slug`, if there is one.
  public static func model(_ slug: String) -> (any PatchModel.Type)? {
    all.first { $0.patch.slug == slug }
  }
}

/// Why a stack of patches cannot form a kernel tree.
public enum KernelTreeError: Error, Hashable, Sendable, CustomStringConvertible {
  /// No model for this slug.
  case unknownPatch(String)
  /// The slug appears twice.
  case duplicatePatch(String)
  /// `patch` changes code that `missing` adds, and `missing` is not earlier in the stack.
  case missingPrerequisite(patch: String, missing: String)
  /// `patch` and `other` rewrite the same code in different ways (``PatchModel/excludes``).
  case exclusive(patch: String, other: String)

  public var description: String {
    switch self {
    case .unknownPatch(let slug):
      "unknown patch '\(slug)' (known: \(PatchModels.all.map { $0.patch.slug }.joined(separator: ", ")))"
    case .duplicatePatch(let slug): "patch '\(slug)' appears twice in the stack"
    case .missingPrerequisite(let patch, let missing):
      "'\(patch)' changes code that '\(missing)' adds, so '\(missing)' must come before it in the stack"
    case .exclusive(let patch, let other):
      "'\(patch)' and '\(other)' rewrite the same code in different ways; the model has no tree with both"
    }
  }
}

/// A kernel tree: a base plus a stack of applied patches, turned into the seam functions
/// the BO core calls (DESIGN.md, "a kernel tree is a base plus a stack of patches").
///
/// First every modelled patch not in the stack whose prerequisites are all in it installs its
/// Before side (the code it would change exists, unpatched), latest patch first so that the
/// earliest one's remains; then every patch in the stack installs its After side, in upstream
/// order, so a later patch's change to a seam overrides an earlier one's. A patch whose
/// prerequisites are missing has no code in the tree and installs nothing.
public struct KernelTree: Sendable, CustomStringConvertible {
  /// The base the stack applies to, for reports (e.g. `v6.12`, `v7.0`).
  public let base: String
  /// The applied patches, by slug, in stack order.
  public let stack: [String]
  /// The seams the core calls.
  public let kernelFunctions: KernelFunctions
  /// The TTM seams.
  public var functions: TTMFunctions { kernelFunctions.ttm }

  /// Composes a tree, or throws ``KernelTreeError`` for a stack that cannot exist.
  public init(base: String = "mainline", stack: [String]) throws {
    try self.init(base: base, stack: stack, showingBefore: nil)
  }

  /// `showingBefore`, when not in the stack, installs its Before side after every other
  /// unapplied patch's, so that the tree runs that patch's own pre-image code even where an
  /// earlier unapplied patch changes the same seam (``pair(_:_:)``).
  init(base: String, stack: [String], showingBefore: (any PatchModel.Type)?) throws {
    var seen: Set<String> = []
    for slug in stack {
      guard let model = PatchModels.model(slug) else { throw KernelTreeError.unknownPatch(slug) }
      guard seen.insert(slug).inserted else { throw KernelTreeError.duplicatePatch(slug) }
      for required in model.requires where !seen.contains(required) {
        throw KernelTreeError.missingPrerequisite(patch: slug, missing: required)
      }
      if let other = model.excludes.first(where: seen.contains) {
        throw KernelTreeError.exclusive(patch: other, other: slug)
      }
    }
    var functions = KernelFunctions()
    // Unpatched code first, then every applied patch: an After side always wins over a
    // Before side, so a later patch that is not applied cannot undo an earlier one that is
    // (two patches may change the same lines the same way). Before sides go latest first, so
    // where several unapplied patches change the same seam, the earliest one's Before side,
    // the oldest code, is what the tree has.
    let befores = PatchModels.all.reversed().filter {
      !seen.contains($0.patch.slug) && $0.requires.allSatisfy(seen.contains)
    }
    for model in befores { model.install(.before, into: &functions) }
    if let shown = showingBefore, !seen.contains(shown.patch.slug) {
      shown.install(.before, into: &functions)
    }
    for model in PatchModels.all where seen.contains(model.patch.slug) {
      model.install(.after, into: &functions)
    }
    self.base = base
    self.stack = stack
    self.kernelFunctions = functions
  }

  /// The tree that shows `variant` of `model`: its prerequisites and the patches its
  /// pre-image carries (``PatchModel/writtenOn``), each with its own prerequisites, in
  /// upstream order, plus the patch itself for `.after`. For `.before` the patch's own Before side is installed last
  /// among the unapplied patches', so the tree runs its pre-image code, not an earlier
  /// patch's version of the same seam.
  public static func pair(_ model: any PatchModel.Type, _ variant: Variant) -> KernelTree {
    var wanted: Set<String> = []
    func add(_ m: any PatchModel.Type) {
      guard wanted.insert(m.patch.slug).inserted else { return }
      for slug in m.requires { add(PatchModels.model(slug)!) }
    }
    for slug in model.requires + model.writtenOn { add(PatchModels.model(slug)!) }
    if variant == .after { wanted.insert(model.patch.slug) }
    let stack = PatchModels.all.map { $0.patch.slug }.filter(wanted.contains)
    // The prerequisites of a modelled patch are modelled patches, in upstream order before
    // it, so this cannot fail.
    return try! KernelTree(base: "mainline", stack: stack, showingBefore: variant == .before ? model : nil)
  }

  /// This tree with its seams changed by `edit` after composition: a model broken on
  /// purpose, so that a test can show that a checker (the fuzzer's invariants and its
  /// shortest-prefix search, the fault sweep's expected breaks) reports exactly the failure
  /// put in. The stack is kept: the tree still claims every patch it carries, so a break it
  /// shows is one no missing fix explains. `what` names the breakage in ``description``.
  public func breaking(_ what: String, _ edit: (inout KernelFunctions) -> Void) -> KernelTree {
    var functions = kernelFunctions
    edit(&functions)
    return KernelTree(base: "\(base) [broken: \(what)]", stack: stack, kernelFunctions: functions)
  }

  private init(base: String, stack: [String], kernelFunctions: KernelFunctions) {
    self.base = base
    self.stack = stack
    self.kernelFunctions = kernelFunctions
  }

  /// Whether the tree carries the code `model` changes.
  public func hasCode(of model: any PatchModel.Type) -> Bool {
    model.requires.allSatisfy(stack.contains)
  }

  public var description: String {
    stack.isEmpty ? base : base + " + " + stack.joined(separator: " + ")
  }

  /// A TTM device on `machine` that runs this tree's code.
  public func makeDevice(on machine: Machine, pool: TTMPool = TTMPool(), driverStyle: TTMDriverStyle = .xe)
    -> TTMDevice
  {
    TTMDevice(machine: machine, pool: pool, driverStyle: driverStyle, functions: functions)
  }
}
