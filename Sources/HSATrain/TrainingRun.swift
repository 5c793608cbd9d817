import Foundation
import HSACPU
import HSACore
import HSAData
import HSAModel
import HSAReport

/// `hsa train` in one process, alone or as one rank of a data-parallel group: the data checked,
/// the model built and resumed from the newest checkpoint or initialized from another model,
/// then trained. Rank 0 prints progress and records the run (config.json, training.json, the
/// log, checkpoints, loss.svg); the other ranks train and print only errors.
public struct TrainingRun {
    /// The model; `maxTrainLen` already covers `options.sequenceLength`.
    public var config: ModelConfig
    public var options: TrainingOptions
    /// Directory of token shards made by `hsa data prepare` (or `data synth`, `data mix`).
    public var dataDirectory: String
    /// The run directory, as given (messages name it so).
    public var runDirectory: String
    /// Continue from the newest checkpoint in the run directory, if there is one.
    public var resume: Bool
    /// With `resume`: continue even if run-defining options differ from the checkpoint's.
    public var allowChangedOptions: Bool
    /// A model or checkpoint directory whose weights start the run (unless resumed).
    public var initFrom: String?
    /// The gradient all-reduce of a multi-GPU run; nil alone.
    public var reducer: NCCLGradientReducer?
    public var rank: Int
    /// Stop after this many steps of this invocation (resumable later).
    public var stopAfter: Int?
    /// Print a step line every this many steps.
    public var reportEvery: Int

    public init(
        config: ModelConfig, options: TrainingOptions, dataDirectory: String,
        runDirectory: String, resume: Bool = false, allowChangedOptions: Bool = false,
        initFrom: String? = nil, reducer: NCCLGradientReducer? = nil, rank: Int = 0,
        stopAfter: Int? = nil, reportEvery: Int = 10
    ) {
        self.config = config
        self.options = options
        self.dataDirectory = dataDirectory
        self.runDirectory = runDirectory
        self.resume = resume
        self.allowChangedOptions = allowChangedOptions
        self.initFrom = initFrom
        self.reducer = reducer
        self.rank = rank
        self.stopAfter = stopAfter
        self.reportEvery = reportEvery
    }

    /// Trains until `options.steps` (or `stopAfter`), writing checkpoints as it goes.
    public func run() throws {
        let runDirectory = URL(fileURLWithPath: self.runDirectory)
        // Rank 0 speaks for the run; the others print only errors.
        let isLead = rank == 0
        var options = self.options
        try options.requireStatePassingFits(config)
        let trainingData = try TrainingData(
            directory: dataDirectory, options: options, modelVocabularySize: config.vocabSize)
        let manifest = trainingData.manifest
        options.dataIdentity = manifest.identity
        if isLead { trainingData.warnings.forEach(Terminal.printError) }

        try FileManager.default.createDirectory(
            at: runDirectory, withIntermediateDirectories: true)
        // The lead rank owns the run directory: a second trainer there would overwrite its
        // checkpoints and log.
        let runLock = isLead ? try DirectoryLock(directory: runDirectory) : nil
        defer { runLock?.release() }
        let model = LanguageModel(config: config, seed: options.seed)
        // Checkpoints carry the data's tokenizer, so generate/eval read text as it was trained.
        let tokenizer = try TokenizerLoader.load(
            checkpoint: URL(fileURLWithPath: dataDirectory))
        let trainer = Trainer(
            model: model, options: options, source: trainingData.source,
            validation: trainingData.validation,
            runDirectory: runDirectory, tokenizer: tokenizer, reducer: reducer)
        let resumedStep =
            resume
            ? try trainer.resumeFromLatestCheckpoint(
                allowingChangedOptions: allowChangedOptions) : nil
        // A checkpoint found by --resume wins over --init-from.
        if let initFrom, resumedStep == nil {
            // Flags may drop a part of the initial model (an ablation): skip its tensors.
            let skipped = try model.parameters.load(
                from: SafetensorsShards.read(
                    directory: URL(fileURLWithPath: initFrom), baseName: "model"),
                source: initFrom, skippingUnused: true)
            if isLead {
                Terminal.printLine("initialized from \(initFrom)")
                if !skipped.isEmpty {
                    Terminal.printLine(
                        "  skipped \(skipped.count) tensors this model does not have: "
                            + skipped.joined(separator: ", "))
                }
            }
        }
        guard isLead else {
            // Every rank trains; only rank 0 records.
            try trainer.run(stopAfter: stopAfter) { event in
                if case .step(let report) = event {
                    FaultInjection.afterStep(report.step, rank: rank)
                }
            }
            return
        }
        if !trainer.changesSinceCheckpoint.isEmpty {
            Terminal.printError(
                "warning: resuming with changed run-defining options (--allow-changed-options): "
                    + trainer.changesSinceCheckpoint.map(\.description).joined(separator: "; "))
        }
        if let resumedStep {
            Terminal.printLine("resumed from step \(resumedStep)")
        } else if resume {
            Terminal.printLine("no checkpoint in \(self.runDirectory); starting from step 0")
        }
        try AtomicFile.write(
            config.encoded(), to: runDirectory.appendingPathComponent("config.json"))
        try AtomicFile.writeJSON(
            options, to: runDirectory.appendingPathComponent("training.json"))

        let parameterCount = model.layout.totalCount
        Terminal.printLine(
            "model: \(parameterCount) parameters, attention \(config.attention.rawValue); "
                + "data: \(manifest.trainTokens) train tokens; threads: \(Threads.count), "
                + "BLAS: \(BLAS.configuration)"
                + (reducer.map { "; GPUs: \($0.worldSize) (NCCL \($0.communicator.version))" }
                    ?? ""))
        let recorder = try TrainingRecorder(
            runDirectory: runDirectory, resumedStep: trainer.step > 0 ? trainer.step : nil)
        if let warning = recorder.warning { Terminal.printError(warning) }
        let progress = ProgressBar(total: options.steps)
        try trainer.run(stopAfter: stopAfter) { event in
            try recorder.record(event)
            switch event {
            case .step(let report):
                FaultInjection.afterStep(report.step, rank: rank)
                progress.update(
                    completed: report.step,
                    text: String(format: "loss %.4f", report.loss))
                if report.step % reportEvery == 0 || report.step == options.steps {
                    Terminal.printAboveProgress(report.line)
                }
            case .evaluation(let report):
                Terminal.printAboveProgress(
                    String(format: "step=%d val_loss=%.4f", report.step, report.validationLoss))
            case .checkpoint(let step, let directory):
                Terminal.printAboveProgress("step=\(step) checkpoint=\(directory.path)")
            }
        }
        progress.finish()
        try recorder.writePlot()
        Terminal.printLine("loss plot: \(runDirectory.appendingPathComponent("loss.svg").path)")
    }
}
