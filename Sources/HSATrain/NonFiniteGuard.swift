import Foundation

/// What the trainer does with a step whose loss or gradient norm is NaN or infinite.
public enum NonFinitePolicy: String, Codable, Sendable, CaseIterable {
    /// Throw `NonFiniteError.step` before the optimizer update (the default).
    case stop
    /// Drop the step's gradients without an update, count it and go on with the next batch;
    /// more than `TrainingOptions.maxSkippedSteps` in a row stop as `stop` does.
    case skip
}

/// A non-finite value where training cannot go on.
public enum NonFiniteError: Error, CustomStringConvertible, Equatable {
    /// Step `step` (1-based) had a non-finite loss or gradient norm and was not applied.
    /// `consecutiveSkips` is the run of skipped steps it ended (0 under `stop`);
    /// `lastCheckpoint` is the newest checkpoint on disk, untouched by this step.
    case step(
        step: Int, loss: Double, gradientNorm: Double, consecutiveSkips: Int,
        lastCheckpoint: String?)
    /// A checkpoint of step `step` was not written: `tensor` (in `store`) is not finite.
    case checkpoint(step: Int, store: String, tensor: String)

    public var description: String {
        switch self {
        case .step(let step, let loss, let norm, let skips, let checkpoint):
            let values = "loss \(loss), gradient norm \(norm)"
            let cause =
                skips == 0
                ? "\(values): not finite"
                : "\(skips) consecutive non-finite steps, more than max_skipped_steps (\(values))"
            let kept =
                checkpoint.map { "the last checkpoint \($0) is intact" }
                ?? "no checkpoint written yet"
            return "step \(step): \(cause); stopped before the optimizer update, \(kept)"
        case .checkpoint(let step, let store, let tensor):
            return "step \(step): not writing a checkpoint: \(store) '\(tensor)' holds NaN or "
                + "infinity (the previous checkpoints are kept)"
        }
    }
}

/// Decides, step by step, whether the optimizer may apply a step's gradients, and counts the
/// steps it skips (`TrainingOptions.onNonFinite`).
struct NonFiniteGuard {
    let policy: NonFinitePolicy
    let maxConsecutiveSkips: Int
    /// Steps skipped over the whole run (restored from the checkpoint on resume).
    var skippedSteps: Int
    /// The current run of skipped steps; any applied step ends it.
    private(set) var consecutiveSkips = 0

    init(options: TrainingOptions, skippedSteps: Int = 0) {
        policy = options.onNonFinite ?? .stop
        maxConsecutiveSkips = options.maxSkippedSteps ?? TrainingOptions.defaultMaxSkippedSteps
        self.skippedSteps = skippedSteps
    }

    /// True when step `step` (1-based) may be applied; false when it is to be skipped.
    /// - Throws: `NonFiniteError.step` under `stop`, or after too many consecutive skips.
    mutating func admits(
        step: Int, loss: Double, gradientNorm: Double, lastCheckpoint: @autoclosure () -> URL?
    ) throws -> Bool {
        if loss.isFinite && gradientNorm.isFinite {
            consecutiveSkips = 0
            return true
        }
        if policy == .skip && consecutiveSkips < maxConsecutiveSkips {
            consecutiveSkips += 1
            skippedSteps += 1
            return false
        }
        throw NonFiniteError.step(
            step: step, loss: loss, gradientNorm: gradientNorm,
            consecutiveSkips: policy == .skip ? consecutiveSkips + 1 : 0,
            lastCheckpoint: lastCheckpoint()?.lastPathComponent)
    }
}
