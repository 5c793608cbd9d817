import ArgumentParser
import Foundation
import HSA

extension HSACommand {
    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate a model on RULER or BABILong tasks over a sweep of lengths.",
            discussion: """
                Writes results.jsonl (one line per sample, appended as it goes; samples already \
                there are skipped, so an interrupted sweep resumes), summary.json, results.md \
                (task x length), accuracy_vs_length.svg, niah_depth_heatmap.svg and, with \
                --diagnostics, retrieval_{recall,mass}_vs_length.svg into --out. Lengths accept \
                K/M suffixes (4K = 4096). RULER's qa_1/qa_2 need scripts/install_eval_data.sh. \
                See docs/EVAL.md.
                """)

        @Option(help: "Checkpoint directory (config.json + model.safetensors).")
        var model: String?
        @Option(help: "Instead of --model: 'needle-search' (cheats on NIAH) or 'wrong'.")
        var referenceModel: String?
        @Option(help: "ruler, babilong, copy or unseen (wordings never trained on).")
        var suite: String = "ruler"
        @Option(help: "Task names, comma-separated; 'all' = tasks without data (+ qa_1,qa_2).")
        var tasks: String = "all"
        @Option(help: "Comma-separated context lengths in tokens (4K, 16K, 1M, ...).")
        var lengths: String = "4K"
        @Option(help: "Samples per task and length.")
        var samples: Int = 10
        @Option(help: "Needle depths in percent for NIAH samples (cycled over samples).")
        var depths: String = "0,25,50,75,100"
        @Option(help: "Base seed of the generated samples.")
        var seed: UInt64 = 0
        @Option(
            help: """
                Needle values: evaluation, or training (the half `hsa data synth` draws from; a \
                gap between the two means a model memorized its training keys and values).
                """)
        var space: String = "evaluation"
        @Option(help: "Output directory.")
        var out: String = "runs/eval"
        @Option(help: "Evaluate the samples of this JSONL file (RULER format) instead.")
        var tasksFile: String?
        @Option(
            help: """
                Only write the generated samples to this JSONL file; run no model (lengths \
                count --model's tokens when given, else bytes).
                """)
        var writeTasks: String?
        @OptionGroup var device: BackendOptions
        @Option(help: "Data directory with eval/ and heldout/ texts (see install_eval_data.sh).")
        var data: String = "data"
        @Option(
            help: """
                Prompt tokens prefilled at once (default: 1024 on the CPU; on a GPU 65536, or \
                the whole prompt for a full-attention model).
                """)
        var block: Int?
        @Option(help: "Longest prompt for retrieval diagnostics (one full forward pass each).")
        var maxDiagnosticsLength: String = "16K"
        @Flag(help: "Record HSA retrieval diagnostics (one extra forward pass per sample).")
        var diagnostics = false
        @Flag(
            help: """
                Run no model: rebuild summary.json, results.md and the plots from every sample \
                in --out's results.jsonl (e.g. cells evaluated on several machines, their \
                results.jsonl files concatenated).
                """)
        var reportOnly = false
        @Option(
            help: """
                YaRN context extension of the model's RoPE attention by this factor (> 1; e.g. \
                eval length / training length), for dense baselines.
                """)
        var yarnFactor: Double?
        @Option(help: "YaRN's original context (default: the model's max_train_len).")
        var yarnOriginalLength: Int?

        func validate() throws {
            guard samples > 0 else { throw ValidationError("--samples must be > 0") }
            if let block, block < 1 { throw ValidationError("--block must be > 0") }
            guard ValueSpace(rawValue: space) != nil else {
                throw ValidationError("--space must be evaluation or training, got '\(space)'")
            }
            if let yarnFactor {
                guard yarnFactor > 1 else {
                    throw ValidationError("--yarn-factor must be > 1, got \(yarnFactor)")
                }
            }
            if let yarnOriginalLength, yarnOriginalLength < 1 {
                throw ValidationError("--yarn-original-length must be positive")
            }
        }

        func run() throws {
            try requireOutputDirectory(out, option: "--out")
            if reportOnly {
                let summary = try EvalHarness.report(outputDirectory: URL(fileURLWithPath: out))
                Terminal.printLine(EvalReport.markdown(summary))
                return
            }
            try device.install()
            let dataDirectory = URL(fileURLWithPath: data)
            let sources = EvalTextSources.load(dataDirectory: dataDirectory)
            let samplesToRun = try tasksFile.map { try EvalTaskFile.read(URL(fileURLWithPath: $0)) }
            var jobs: [EvalJob] = []
            if samplesToRun == nil {
                do {
                    jobs = try EvalJob.sweep(
                        suite: suite, tasks: tasks, lengths: lengths, depths: depths,
                        samples: samples, seed: seed)
                } catch let error as EvalError {
                    // A bad --depths is a usage error (exit 64), as the other options' checks.
                    guard case .invalidDepth = error else { throw error }
                    throw ValidationError("\(error)")
                }
            }
            let generator = TaskGenerator(
                sources: sources, space: ValueSpace(rawValue: space) ?? .evaluation,
                qaDatasets: try QADataset.load(neededBy: jobs, dataDirectory: dataDirectory))
            if let writeTasks {
                let tokenizer: any Tokenizer =
                    try model.map { try TokenizerLoader.load(checkpoint: URL(fileURLWithPath: $0)) }
                    ?? ByteTokenizer()
                let generated = try jobs.map { try generator.sample($0, tokenizer: tokenizer) }
                try EvalTaskFile.write(generated, to: URL(fileURLWithPath: writeTasks))
                Terminal.printLine("wrote \(generated.count) samples to \(writeTasks)")
                return
            }
            let texts = sources.summary
            Terminal.printLine("texts: \(texts)")
            let harness = try EvalHarness(
                model: try loadModel(), outputDirectory: URL(fileURLWithPath: out),
                generator: generator, collectDiagnostics: diagnostics)
            try EvalSetup(
                checkpoint: model.map { URL(fileURLWithPath: $0) }, referenceModel: referenceModel,
                texts: texts, space: space, seed: seed, yarnFactor: yarnFactor,
                yarnOriginalLength: yarnOriginalLength,
                tasksFile: tasksFile.map { URL(fileURLWithPath: $0) }
            ).claim(directory: harness.outputDirectory)
            harness.logsProgress = !Terminal.isInteractive
            let summary =
                try samplesToRun.map { try harness.run(samples: $0) } ?? harness.run(jobs: jobs)
            Terminal.printLine(EvalReport.markdown(summary))
            Terminal.printLine("results in \(out)")
        }

        private func loadModel() throws -> any EvaluationModel {
            switch (model, referenceModel) {
            case (let path?, nil):
                let directory = URL(fileURLWithPath: path)
                let network = try LanguageModel.load(
                    from: directory, yarnFactor: yarnFactor, yarnOriginalLength: yarnOriginalLength)
                try StreamingSession.checkSupported(network.config)  // before generating tasks
                let tokenizer = try TokenizerLoader.load(checkpoint: directory)
                return LanguageModelEvaluator(
                    model: network, tokenizer: tokenizer,
                    maximumLength: try ContextLength.parse(maxDiagnosticsLength),
                    prefillBlock: block)
            case (nil, let name?):
                if let reference = TextFunctionModel.reference(named: name) { return reference }
            default:
                break
            }
            throw UserError(
                "give exactly one of --model DIR or --reference-model needle-search|wrong")
        }
    }
}
