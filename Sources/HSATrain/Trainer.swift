import Foundation
import HSACore
import HSAData
import HSAModel

/// The training loop: gradient accumulation, AdamW with the warm-up + cosine schedule,
/// periodic validation and checkpoints, all reported as `TrainingEvent`s.
public final class Trainer {
    public let model: LanguageModel
    public let optimizer: AdamWOptimizer
    public let options: TrainingOptions
    public let runDirectory: URL
    let source: BatchSource
    let validation: [TrainingBatch]
    let tokenizer: (any Tokenizer)?
    /// Optimizer steps completed.
    public private(set) var step = 0
    /// Tokens consumed so far.
    public private(set) var tokensSeen = 0

    public init(
        model: LanguageModel, options: TrainingOptions, source: BatchSource,
        validation: [TrainingBatch], runDirectory: URL, tokenizer: (any Tokenizer)?
    ) {
        self.model = model
        self.options = options
        self.source = source
        self.validation = validation
        self.runDirectory = runDirectory
        self.tokenizer = tokenizer
        optimizer = AdamWOptimizer(
            layout: model.layout, weightDecay: Float(options.weightDecay),
            maxGradientNorm: options.gradientClip > 0 ? Float(options.gradientClip) : nil)
    }

    /// Continues from the newest checkpoint in the run directory, if any. Returns its step.
    @discardableResult
    public func resumeFromLatestCheckpoint() throws -> Int? {
        guard let latest = TrainingCheckpoint.list(runDirectory: runDirectory).last else {
            return nil
        }
        let state = try TrainingCheckpoint.load(from: latest, into: model, optimizer: optimizer)
        try source.restoreState(state.dataState)
        step = state.step
        tokensSeen = state.tokensSeen
        return step
    }

    /// The batch's loss mask, or nil (every target counts) with `lossOnAllTokens`.
    private func lossMask(_ batch: TrainingBatch) -> [Float]? {
        options.lossOnAllTokens == true ? nil : batch.mask
    }

    /// Mean loss over the validation batches.
    public func validationLoss() -> Double {
        guard !validation.isEmpty else { return .nan }
        var total = 0.0
        for batch in validation {
            let pass = model.forward(
                tokens: batch.inputs, targets: batch.targets, lossMask: lossMask(batch),
                batch: batch.batchSize, sequenceLength: batch.sequenceLength)
            total += Double(pass.loss)
        }
        return total / Double(validation.count)
    }

    /// Trains until `options.steps` (or `stopAfter` more steps, whichever comes first).
    public func run(stopAfter: Int? = nil, onEvent: (TrainingEvent) throws -> Void) throws {
        let schedule = options.schedule
        let end = min(options.steps, stopAfter.map { step + $0 } ?? Int.max)
        while step < end {
            let started = Date()
            model.zeroGradients()
            var loss = 0.0
            var tokens = 0
            let micro = options.gradientAccumulation
            for _ in 0..<micro {
                let batch = try source.nextBatch()
                let pass = model.forward(
                    tokens: batch.inputs, targets: batch.targets, lossMask: lossMask(batch),
                    batch: batch.batchSize, sequenceLength: batch.sequenceLength)
                model.backward(pass, lossScale: 1 / Float(micro))
                loss += Double(pass.loss) / Double(micro)
                tokens += batch.inputs.count
            }
            let rate = schedule.rate(at: step)
            let norm = optimizer.update(
                parameters: model.parameters, gradients: model.gradients,
                learningRate: Float(rate))
            step += 1
            tokensSeen += tokens
            let seconds = Date().timeIntervalSince(started)
            try onEvent(
                .step(
                    StepReport(
                        step: step, totalSteps: options.steps, loss: loss, learningRate: rate,
                        gradientNorm: norm, tokensPerSecond: Double(tokens) / max(seconds, 1e-9),
                        milliseconds: seconds * 1000)))
            if options.evalEvery > 0, step % options.evalEvery == 0 || step == options.steps {
                try onEvent(
                    .evaluation(EvaluationReport(step: step, validationLoss: validationLoss())))
            }
            let due = options.checkpointEvery > 0 && step % options.checkpointEvery == 0
            if due || step == end {
                try onEvent(.checkpoint(step: step, directory: try saveCheckpoint()))
            }
        }
    }

    /// Writes a checkpoint of the current state and prunes old ones.
    public func saveCheckpoint() throws -> URL {
        let state = TrainerState(
            step: step, dataState: try source.saveState(), tokensSeen: tokensSeen,
            options: options)
        let url = try TrainingCheckpoint.save(
            model: model, optimizer: optimizer, state: state, tokenizer: tokenizer,
            runDirectory: runDirectory, maxShardBytes: options.maxShardBytes)
        TrainingCheckpoint.prune(runDirectory: runDirectory, keep: options.keepCheckpoints)
        return url
    }
}
