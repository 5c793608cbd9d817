import ArgumentParser
import Foundation
import HSA

extension HSACommand.DataCommand {
    /// `hsa data tasks`: varied long-context training tasks hidden in corpus text.
    struct DataTasks: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tasks",
            abstract: "Write varied retrieval training tasks (answer-only loss) as token shards.",
            discussion: """
                Facts, pass keys, variable chains and bAbI stories hidden in documents of \
                --haystack (training text only), repeated filler, word lists or look-alike \
                facts, in many phrasings and key/value kinds (VariedTaskGenerator). Wordings \
                of RULER's templates and of the `unseen` evaluation suite are never used, and \
                values come from the training value space. Kinds take turns; lengths are drawn \
                uniformly from --lengths. Output as `hsa data synth`: train shards, \
                manifest.json, tokenizer.json, synth.json; with --tokenizer, samples are written \
                in its tokens and fill each length to within 1%.
                """)

        @Option(help: "Directory of training text (*.txt, recursive) to hide facts in.")
        var haystack: String
        @Option(help: "Text read from --haystack, in bytes.")
        var haystackBytes: Int = 64 << 20
        @Option(
            help: """
                Comma-separated kinds: \
                \(VariedTaskKind.allCases.map(\.rawValue).joined(separator: ",")), or all.
                """)
        var kinds: String = "all"
        @Option(help: "Samples in total.")
        var samples: Int = 1000
        @OptionGroup var shards: SampleShardOptions
        @Option(help: "Output directory.")
        var out: String = "data/tasks"
        @Option(help: "Data directory with eval/words (word lists for keys and values).")
        var data: String = "data"

        func run() throws {
            try requireOutputDirectory(out, option: "--out")
            let tokenizer = try shards.tokenizer.load()
            let kindList: [VariedTaskKind] =
                kinds == "all"
                ? VariedTaskKind.allCases
                : try kinds.split(separator: ",").map { name in
                    guard let kind = VariedTaskKind(rawValue: String(name)) else {
                        throw ValidationError(
                            "--kinds: unknown kind '\(name)'; known: "
                                + VariedTaskKind.allCases.map(\.rawValue).joined(separator: ", "))
                    }
                    return kind
                }
            let lengthList = try shards.lengthList(command: "tasks")
            guard samples > 0, haystackBytes > 0 else {
                throw ValidationError("--samples and --haystack-bytes must be > 0")
            }
            let corpus = try HaystackCorpus.load(
                directory: URL(fileURLWithPath: haystack), maxBytes: haystackBytes,
                seed: shards.seed)
            let generator = VariedTaskGenerator(
                corpus: corpus,
                sources: EvalTextSources.load(dataDirectory: URL(fileURLWithPath: data)))
            let manifest = try generator.write(
                count: samples, kinds: kindList, lengths: lengthList, seed: shards.seed,
                tokenizer: tokenizer, to: URL(fileURLWithPath: out),
                shardTokens: shards.shardTokens,
                progress: ProgressBar(total: samples))
            Terminal.printLine(manifest.reportLine(output: out))
            if let skipped = manifest.skippedLine(requested: samples) {
                Terminal.printLine(skipped)
            }
        }
    }
}
