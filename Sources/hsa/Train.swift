import ArgumentParser
import Foundation
import HSA

extension HSACommand {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a model on prepared token shards.",
            discussion: """
                Writes into --out: config.json, training.json, log.jsonl (one JSON object per \
                step and evaluation), loss.svg, and checkpoints/step-N (model, optimizer and \
                trainer state, written atomically). --resume continues from the newest \
                checkpoint, bit-for-bit as if never interrupted (same thread count); it refuses \
                options or model flags that change the run (batch size, sequence length, seed, \
                data, model config, ...) unless --allow-changed-options is given. \
                --on-nonfinite says what a step with a NaN or infinite loss or gradient norm \
                does; no checkpoint with non-finite weights is ever written. See \
                docs/RELIABILITY.md.

                --gpus N trains data-parallel on N GPUs: one process per GPU (this command \
                re-run with HSA_RANK set), gradients summed with NCCL (libnccl.so.2, found like \
                the CUDA libraries; HSA_NCCL_LIBRARY overrides). --batch-size is the global \
                batch: each GPU trains on batch-size / N of its sequences, so the run matches \
                one GPU with the same --batch-size. Rank 0 writes logs and checkpoints, which \
                resume on any number of GPUs. If one rank dies the others are stopped and the \
                launcher names it. See docs/MULTI-GPU.md.

                --state-passing (mixer: mamba2 models only) trains on consecutive segments with \
                the Mamba2 state carried across steps: the training tokens are cut into \
                batch-size x grad-accum equal lanes, each batch row reads the next --seq-len \
                tokens of its own lane every step (in order, no shuffling), and starts again \
                from a zero state where its lane wraps to its start. Gradients stop at the \
                segment start (truncated backpropagation). Checkpoints store the carried states \
                and lane positions, so --resume stays exact; resuming needs the same flag as the \
                run was started with. See docs/MODEL-NOTES.md, "Mamba2 baseline".
                """)

        @OptionGroup var model: ModelOptions
        @OptionGroup var device: BackendOptions

        @Option(help: "Directory of token shards made by `hsa data prepare`.")
        var data: String
        @Option(help: "Run directory.")
        var out: String = "runs/train"
        @Flag(help: "Continue from the newest checkpoint in --out.")
        var resume = false
        @Flag(
            help: """
                With --resume: continue even if options or model flags that define the run \
                differ from the checkpoint's (a warning lists them).
                """)
        var allowChangedOptions = false
        @Option(
            help: """
                Start from the weights of this model or checkpoint directory (fresh optimizer \
                and schedule; its config.json unless --config is given, with model flags on \
                top; tensors the flags drop, e.g. with --attention swa, are skipped). Ignored \
                when --resume finds a checkpoint.
                """)
        var initFrom: String?
        @Option(help: "GPUs for data-parallel training (one process each; needs --backend cuda).")
        var gpus: Int = 1

        @Option var steps: Int = 200
        @Option var batchSize: Int = 4
        @Option var seqLen: Int = 256
        @Option(help: "Micro-batches per optimizer step.")
        var gradAccum: Int = 1
        @Option var lr: Double = 1e-3
        @Option var minLr: Double = 1e-4
        @Option var warmupSteps: Int = 20
        @Option var weightDecay: Double = 0.1
        @Option(
            help: """
                Weight decay of the chunk encoder and the HSA sublayers (default: \
                --weight-decay); a smaller one keeps the retrieval path from being decayed away \
                before it gets a signal.
                """)
        var retrievalWeightDecay: Double?
        @Option(
            name: .customLong("retrieval-lr-scale"),
            help: """
                Learning rate of the chunk encoder and the HSA sublayers as a multiple of \
                --lr's schedule (default 1); below 1 keeps a retriever that already works \
                from being overwritten while the rest of the model trains on.
                """)
        var retrievalLearningRateScale: Double?
        @Option(help: "Gradient-norm clip (0: off).")
        var gradClip: Double = 1.0
        @Option(help: "Validate every N steps (0: never).")
        var evalEvery: Int = 50
        @Option var evalBatches: Int = 4
        @Option(help: "Checkpoint every N steps (0: only at the end).")
        var checkpointEvery: Int = 100
        @Option(help: "Checkpoints to keep.")
        var keepCheckpoints: Int = 2
        @Option(help: "Largest checkpoint file in bytes, e.g. 16000000 (default: one file).")
        var maxShardSize: Int?
        @Option var seed: UInt64 = 1234
        @Flag(
            help: """
                Start training windows at document starts (BOS) instead of every --seq-len \
                tokens (for task mixtures from `hsa data synth`: no sample is cut from its \
                needle).
                """)
        var documentAligned = false
        @Flag(
            help: """
                Mamba2 models: each batch row reads consecutive --seq-len segments of its own \
                lane of the data and carries its Mamba2 state from step to step (see above).
                """)
        var statePassing = false
        @Flag(help: "Ignore the data's loss masks: every next token counts.")
        var lossOnAllTokens = false
        @Option(
            help: """
                Train only parameters whose checkpoint names start with one of these \
                comma-separated prefixes (e.g. encoder.,upper.0.hsa.; `hsa inspect --tensors` lists \
                the names); the rest stay frozen.
                """)
        var trainOnly: String?
        @Option(
            help: """
                A step whose loss or gradient norm is NaN or infinite: stop (before the update; \
                the last checkpoint stays intact) or skip it (no update, counted as \
                skipped_steps).
                """)
        var onNonfinite: NonFinitePolicy = .stop
        @Option(help: "With --on-nonfinite skip: stop after more than N consecutive skips.")
        var maxSkippedSteps: Int = TrainingOptions.defaultMaxSkippedSteps
        @Option(help: "Print a line every N steps.")
        var reportEvery: Int = 10
        @Option(help: "Stop after this many steps of this invocation (resumable later).")
        var stopAfter: Int?

        func validate() throws {
            if let violation = options.rangeViolation(
                gpus: gpus, reportEvery: reportEvery, stopAfter: stopAfter)
            {
                throw ValidationError(violation)
            }
            if statePassing, documentAligned {
                throw ValidationError(
                    "--state-passing reads consecutive segments of its lanes; it cannot be "
                        + "combined with --document-aligned")
            }
            if gpus > 1 {
                guard device.backend != "cpu" else {
                    throw ValidationError(
                        "--gpus \(gpus) needs --backend cuda (multi-process training runs on "
                            + "GPUs only)")
                }
                guard batchSize % gpus == 0 else {
                    throw ValidationError(
                        "--batch-size \(batchSize) must be a multiple of --gpus \(gpus) (it is "
                            + "the global batch, split evenly over the GPUs)")
                }
            }
        }

        var options: TrainingOptions {
            var o = TrainingOptions()
            o.steps = steps
            o.batchSize = batchSize
            o.sequenceLength = seqLen
            o.gradientAccumulation = gradAccum
            o.learningRate = lr
            o.minLearningRate = minLr
            o.warmupSteps = warmupSteps
            o.weightDecay = weightDecay
            o.retrievalWeightDecay = retrievalWeightDecay
            o.retrievalLearningRateScale = retrievalLearningRateScale
            o.gradientClip = gradClip
            o.evalEvery = evalEvery
            o.evalBatches = evalBatches
            o.checkpointEvery = checkpointEvery
            o.keepCheckpoints = keepCheckpoints
            o.maxShardBytes = maxShardSize
            o.seed = seed
            o.documentAligned = documentAligned
            // Absent from training.json unless set: other runs' files stay as they were.
            o.statePassing = statePassing ? true : nil
            o.lossOnAllTokens = lossOnAllTokens
            o.trainOnly = trainOnly.map {
                $0.split(separator: ",").map { String($0.trimmingCharacters(in: .whitespaces)) }
            }
            o.onNonFinite = onNonfinite
            o.maxSkippedSteps = maxSkippedSteps
            return o
        }

        func run() throws {
            guard let distributed = try RankEnvironment.place(forGPUs: gpus) else {
                return gpus > 1 ? try MultiGPULaunch.launch(gpus: gpus) : try train(rank: nil)
            }
            // One write per error, prefixed, so the ranks' messages do not interleave.
            do { try train(rank: distributed) } catch {
                let message = RankEnvironment.message(for: error, rank: distributed.rank)
                Terminal.printError("Error: \(message)")
                throw ExitCode(1)
            }
        }

        /// Trains in this process: alone (`distributed` nil) or as one rank of a launched group.
        private func train(rank distributed: (rank: Int, worldSize: Int)?) throws {
            try requireOutputDirectory(out, option: "--out")
            let rank = distributed?.rank ?? 0
            // Rank 0 speaks for the run; the others print only errors.
            try device.install(quiet: rank != 0)
            let reducer = try NCCLGradientReducer.join(place: distributed)
            let config = try TrainingRun.modelConfig(
                source: model.source, overrides: model.overrides, runDirectory: out,
                resume: resume, initFrom: initFrom, dataDirectory: data,
                sequenceLength: options.sequenceLength)
            // The config (preset, file, stored run or --init-from) is known only now.
            do { try options.requireStatePassingFits(config) } catch {
                throw ValidationError("\(error)")
            }
            try TrainingRun(
                config: config, options: options, dataDirectory: data, runDirectory: out,
                resume: resume, allowChangedOptions: allowChangedOptions, initFrom: initFrom,
                reducer: reducer, rank: rank, stopAfter: stopAfter, reportEvery: reportEvery
            ).run()
        }
    }
}

extension NonFinitePolicy: ExpressibleByArgument {}
