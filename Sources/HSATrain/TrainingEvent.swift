import Foundation

/// What the trainer reports while it runs; the CLI turns these into lines, a progress bar,
/// a JSONL log and plots.
public enum TrainingEvent: Sendable {
    case step(StepReport)
    case evaluation(EvaluationReport)
    case checkpoint(step: Int, directory: URL)
}

/// One optimizer step.
public struct StepReport: Codable, Sendable {
    public var step: Int
    public var totalSteps: Int
    public var loss: Double
    public var learningRate: Double
    public var gradientNorm: Double
    public var tokensPerSecond: Double
    public var milliseconds: Double
    /// The step's loss or gradient norm was not finite and it was skipped without an update
    /// (`NonFinitePolicy.skip`).
    public var skipped = false
    /// Steps skipped so far in the run, this one included.
    public var skippedSteps = 0
    /// Per HSA layer, bottom to top, on this rank's last micro-batch of every
    /// `Trainer.fusionHealthEvery`-th step (empty otherwise, and for joint fusion): the mean
    /// fusion mass and the mean largest chunk weight (`FusionHealth`).
    public var fusionMass: [Double] = []
    public var fusionPeak: [Double] = []
}

/// One validation pass.
public struct EvaluationReport: Codable, Sendable {
    public var step: Int
    public var validationLoss: Double
}
