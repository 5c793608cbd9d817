import Foundation
import HSACore
import HSAData
import HSAModel

/// The training loop: gradient accumulation, AdamW with the warm-up + cosine schedule,
/// periodic validation and checkpoints, all reported as `TrainingEvent`s.
///
/// With a `GradientReducer` of N ranks it trains data-parallel: every rank reads the same
/// global batch and trains on its slice (`TrainingBatch.slice`), the gradients are summed over
/// the ranks (each 25 MB bucket as soon as the last micro-batch's backward pass finishes it,
/// `OverlappedGradientReduction`) before the identical AdamW update, and only rank 0 writes
/// checkpoints. Each rank's loss is weighted by its share of the global batch's loss targets,
/// so the summed gradient is the single-process gradient of the same global batch up to
/// summation order.
///
/// With `options.statePassing` the batches come from a `TokenLaneLoader` and the trainer carries
/// each micro-batch's Mamba2 states from one step to the next (`CarriedMamba2States`), saved in
/// checkpoints with the loader's position so that a resumed run continues exactly.
public final class Trainer {
    public let model: LanguageModel
    public let optimizer: AdamWOptimizer
    public let options: TrainingOptions
    public let runDirectory: URL
    let source: BatchSource
    let validation: [TrainingBatch]
    let tokenizer: (any Tokenizer)?
    /// The data-parallel group, or nil for single-process training.
    public let reducer: (any GradientReducer)?
    /// Steps between fusion-health readings (`StepReport.fusionMass`): reading the fusion
    /// weights back from a GPU costs a copy, so not every step pays it.
    public static let fusionHealthEvery = 10
    /// This trainer's rank (0 without a reducer).
    public var rank: Int { reducer?.rank ?? 0 }
    /// Ranks training together (1 without a reducer).
    public var worldSize: Int { reducer?.worldSize ?? 1 }
    /// Optimizer steps completed.
    public private(set) var step = 0
    /// Tokens consumed so far.
    public private(set) var tokensSeen = 0
    /// Steps skipped for a non-finite loss or gradient norm so far (`NonFinitePolicy.skip`).
    public var skippedSteps: Int { nonFiniteGuard.skippedSteps }
    /// The run-defining differences from the checkpoint that
    /// `resumeFromLatestCheckpoint(allowingChangedOptions: true)` accepted (empty otherwise).
    public private(set) var changesSinceCheckpoint: [RunDefinition.Change] = []
    private var nonFiniteGuard: NonFiniteGuard
    /// The Mamba2 states carried across steps; nil without `options.statePassing`.
    private let carriedStates: CarriedMamba2States?
    /// Data-parallel: start each gradient bucket's all-reduce during the last micro-batch's
    /// backward pass, as soon as its gradients are final (default), instead of after it. The
    /// results are bit-identical either way. `HSA_OVERLAP_REDUCE=0` turns it off.
    public var overlapsGradientReduction = GradientOverlap.isEnabled()
    /// Data-parallel: the largest all-reduce bucket in Floats (default 25 MB).
    public var gradientBucketElements = GradientBuckets.defaultElements

    public init(
        model: LanguageModel, options: TrainingOptions, source: BatchSource,
        validation: [TrainingBatch], runDirectory: URL, tokenizer: (any Tokenizer)?,
        reducer: (any GradientReducer)? = nil
    ) {
        self.model = model
        self.options = options
        self.source = source
        self.validation = validation
        self.runDirectory = runDirectory
        self.tokenizer = tokenizer
        self.reducer = reducer
        nonFiniteGuard = NonFiniteGuard(options: options)
        optimizer = AdamWOptimizer(
            layout: model.layout, weightDecay: Float(options.weightDecay),
            maxGradientNorm: options.gradientClip > 0 ? Float(options.gradientClip) : nil)
        optimizer.retrievalWeightDecay = options.retrievalWeightDecay.map(Float.init)
        optimizer.retrievalLearningRateScale = Float(options.retrievalLearningRateScale ?? 1)
        carriedStates =
            options.statePassing == true
            ? CarriedMamba2States(
                model: model, microBatches: options.gradientAccumulation,
                globalBatch: options.batchSize, rank: reducer?.rank ?? 0,
                worldSize: reducer?.worldSize ?? 1) : nil
    }

    /// Continues from the newest checkpoint in the run directory, if any. Returns its step.
    ///
    /// The checkpoint's run definition (options and model config) must match this trainer's
    /// (`RunDefinition.changes(from:)`); `allowingChangedOptions` accepts differences and
    /// records them in `changesSinceCheckpoint`.
    /// - Throws: `ResumeMismatchError`, before anything is loaded, on a difference not allowed.
    @discardableResult
    public func resumeFromLatestCheckpoint(allowingChangedOptions: Bool = false) throws -> Int? {
        TrainingCheckpoint.removeStaleTemporaries(runDirectory: runDirectory)
        guard let latest = TrainingCheckpoint.list(runDirectory: runDirectory).last else {
            return nil
        }
        let stored = try TrainingCheckpoint.runDefinition(at: latest)
        let changes = RunDefinition(options: options, model: model.config).changes(from: stored)
        // Not even allowed changes: the data position and carried states belong to one loader.
        if changes.contains(where: { $0.field == "state_passing" }) {
            throw StatePassingResumeError(
                checkpoint: latest.lastPathComponent,
                checkpointPassesState: stored.options.statePassing == true)
        }
        guard changes.isEmpty || allowingChangedOptions else {
            throw ResumeMismatchError(checkpoint: latest.lastPathComponent, changes: changes)
        }
        changesSinceCheckpoint = changes
        let state = try TrainingCheckpoint.load(from: latest, into: model, optimizer: optimizer)
        do { try source.restoreState(state.dataState) } catch {
            // A cursor outside the data (or data_state garbled) is the state file's fault.
            throw CheckpointError.invalid(
                file: latest.appendingPathComponent("trainer_state.json").path,
                reason: "data_state: \(error)")
        }
        try carriedStates?.load(from: latest)
        step = state.step
        tokensSeen = state.tokensSeen
        nonFiniteGuard.skippedSteps = state.skippedSteps ?? 0
        return step
    }

    /// The batch's loss mask, or nil (every target counts) with `lossOnAllTokens`.
    private func lossMask(_ batch: TrainingBatch) -> [Float]? {
        options.lossOnAllTokens == true ? nil : batch.mask
    }

    /// Mean loss over the validation batches (data-parallel: a collective, each rank
    /// evaluates its slice of every batch).
    public func validationLoss() throws -> Double {
        guard !validation.isEmpty else { return .nan }
        var losses: [Double] = []
        for batch in validation {
            let (pass, share) = try forwardSlice(of: batch)
            losses.append(Double(pass.loss) * share)
        }
        if let reducer, worldSize > 1 { losses = try reducer.allReduceSum(losses) }
        return losses.reduce(0, +) / Double(validation.count)
    }

    /// Runs the forward pass over this rank's slice of the global `batch`, continuing from
    /// `mamba2States` (advanced) if given. Returns the pass and the slice's share of the batch's
    /// loss targets (1 for a single process), the weight that turns the slice's mean loss into
    /// its part of the global mean.
    private func forwardSlice(of batch: TrainingBatch, mamba2States: [Mamba2State]? = nil) throws
        -> (LanguageModel.Pass, Double)
    {
        let local = try batch.slice(rank: rank, worldSize: worldSize)
        let mask = lossMask(local)
        let pass = model.forward(
            tokens: local.inputs, targets: local.targets, lossMask: mask,
            batch: local.batchSize, sequenceLength: local.sequenceLength,
            mamba2States: mamba2States)
        if worldSize == 1 { return (pass, 1) }
        let globalCount = batch.lossTargetCount(lossMask: lossMask(batch))
        return (pass, globalCount > 0 ? Double(pass.targetCount) / Double(globalCount) : 0)
    }

    /// The overlapped reduction of this step's gradients, or nil (one process, or overlap off).
    private func makeOverlappedReduction() -> OverlappedGradientReduction? {
        guard let reducer, worldSize > 1, overlapsGradientReduction else { return nil }
        return OverlappedGradientReduction(
            reducer: reducer, values: model.gradients.storage.data,
            count: model.gradients.storage.count, bucketElements: gradientBucketElements)
    }

    /// Sums the gradients (and the step's loss) over the ranks: waits for the buckets that
    /// `overlapped` started during the backward pass, or reduces them all now.
    private func reduceOverRanks(loss: Double, overlapped: OverlappedGradientReduction?) throws
        -> Double
    {
        guard let reducer, worldSize > 1 else { return loss }
        if let overlapped {
            try overlapped.finish()
        } else {
            try reducer.allReduceSumInBuckets(
                model.gradients.storage.data, count: model.gradients.storage.count,
                bucketElements: gradientBucketElements)
        }
        return try reducer.allReduceSum([loss])[0]
    }

    /// Throws unless every rank holds bit-identical parameters (same seed, same checkpoint).
    public func checkParametersAgree() throws {
        guard let reducer, worldSize > 1 else { return }
        // The L2 norm of the parameters: deterministic, so equal parameters give equal bits.
        let checksum = AdamWOptimizer.gradientNorm(model.parameters)
        // Slot r carries rank r's checksum and the others add zeros, so the sums are exact.
        var slots = [Double](repeating: 0, count: worldSize)
        slots[rank] = checksum
        let all = try reducer.allReduceSum(slots)
        guard all.allSatisfy({ $0 == all[0] }) else {
            throw DistributedTrainingError.parametersDiffer(rank: rank, checksums: all)
        }
    }

    /// Trains until `options.steps` (or `stopAfter` more steps, whichever comes first).
    public func run(stopAfter: Int? = nil, onEvent: (TrainingEvent) throws -> Void) throws {
        let schedule = options.schedule
        let end = min(options.steps, stopAfter.map { step + $0 } ?? Int.max)
        optimizer.trainableNames = try options.trainableNames(in: model.layout)
        try options.requireStatePassingFits(model.config)
        try checkParametersAgree()
        while step < end {
            let started = Date()
            model.zeroGradients()
            var loss = 0.0
            var tokens = 0
            var health: [FusionHealth] = []
            let micro = options.gradientAccumulation
            let overlapped = makeOverlappedReduction()
            for index in 0..<micro {
                let batch = try source.nextBatch()
                let (pass, share) = try forwardSlice(
                    of: batch,
                    mamba2States: carriedStates?.states(forMicroBatch: index, of: batch))
                // share is exactly 1 for a single process: the same bits as before.
                let scale = Float(share) / Float(micro)
                if index == micro - 1, let overlapped {
                    // Only the last micro-batch finishes gradients: buckets start in its
                    // backward pass.
                    model.backward(
                        pass, lossScale: scale, gradientsFinal: overlapped.gradientsFinal)
                } else {
                    model.backward(pass, lossScale: scale)
                }
                loss += Double(pass.loss) * share / Double(micro)
                tokens += batch.inputs.count
                if index == micro - 1, (step + 1) % Self.fusionHealthEvery == 0 {
                    health = pass.fusionHealth(config: model.config)
                }
            }
            loss = try reduceOverRanks(loss: loss, overlapped: overlapped)
            let rate = schedule.rate(at: step)
            let norm = optimizer.prepareGradients(model.gradients)
            // Data-parallel: after the all-reduce every rank holds the same summed gradients
            // and loss, bit for bit, so every rank reaches the same decision here and all
            // skip or stop together (none is left waiting in a collective).
            let applies = try nonFiniteGuard.admits(
                step: step + 1, loss: loss, gradientNorm: norm,
                lastCheckpoint: TrainingCheckpoint.list(runDirectory: runDirectory).last)
            if applies {
                optimizer.update(
                    parameters: model.parameters, gradients: model.gradients,
                    gradientNorm: norm, learningRate: Float(rate))
            } else {
                // Skipped: no update and no moment change; the batch stays consumed.
                model.zeroGradients()
            }
            step += 1
            tokensSeen += tokens
            let seconds = Date().timeIntervalSince(started)
            try onEvent(
                .step(
                    StepReport(
                        step: step, totalSteps: options.steps, loss: loss, learningRate: rate,
                        gradientNorm: norm, tokensPerSecond: Double(tokens) / max(seconds, 1e-9),
                        milliseconds: seconds * 1000, skipped: !applies,
                        skippedSteps: skippedSteps, fusionMass: health.map(\.mass),
                        fusionPeak: health.map(\.peak))))
            // No validation batches (the data has no validation split): validation is off.
            if options.evalEvery > 0, !validation.isEmpty,
                step % options.evalEvery == 0 || step == options.steps
            {
                let validationLoss = try validationLoss()
                try onEvent(
                    .evaluation(EvaluationReport(step: step, validationLoss: validationLoss)))
            }
            let due = options.checkpointEvery > 0 && step % options.checkpointEvery == 0
            if due || step == end {
                // Every rank takes part in gathering the carried states (a collective); the
                // checkpoint is global state, which rank 0 writes once for all ranks.
                let carried = try carriedStates?.globalEntries(reducer: reducer)
                if rank == 0 {
                    try onEvent(
                        .checkpoint(
                            step: step, directory: try saveCheckpoint(carriedStates: carried)))
                }
            }
        }
        // No rank leaves while another still needs it for a collective.
        try reducer?.barrier()
    }

    /// Writes a checkpoint of the current state and prunes old ones. With state passing on
    /// several ranks, gathering the carried states is a collective that every rank must join;
    /// `run` therefore gathers on every rank and writes on rank 0 only.
    /// - Throws: `NonFiniteError.checkpoint` if a weight is not finite; nothing is pruned then.
    public func saveCheckpoint() throws -> URL {
        try saveCheckpoint(carriedStates: carriedStates?.globalEntries(reducer: reducer))
    }

    /// Writes a checkpoint with `carriedStates` (`CarriedMamba2States.globalEntries`) and
    /// prunes old ones.
    private func saveCheckpoint(carriedStates: [SafetensorsEntry]?) throws -> URL {
        let state = TrainerState(
            step: step, dataState: try source.saveState(), tokensSeen: tokensSeen,
            options: options, skippedSteps: skippedSteps)
        let url = try TrainingCheckpoint.save(
            model: model, optimizer: optimizer, state: state, tokenizer: tokenizer,
            runDirectory: runDirectory, maxShardBytes: options.maxShardBytes,
            carriedStates: carriedStates)
        // Only after a successful save: the newest checkpoint kept is the one just written,
        // which is finite (`TrainingCheckpoint.save` checks), so pruning never deletes the
        // last good checkpoint.
        TrainingCheckpoint.prune(runDirectory: runDirectory, keep: options.keepCheckpoints)
        return url
    }
}
