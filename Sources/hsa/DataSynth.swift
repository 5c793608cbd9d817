import ArgumentParser
import Foundation
import HSA

extension HSACommand.DataCommand {
    /// `hsa data synth`: a training mixture of the evaluation tasks.
    struct DataSynth: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "synth",
            abstract: "Write RULER/BABILong-style training samples as token shards.",
            discussion: """
                The loss mask is 1 only on answer tokens. Samples use the training value space \
                (seeds offset by 2^40, the other half of every number range and word list), so \
                they never repeat an evaluation needle. Writes train-NNNNN.bin shards, manifest.json, \
                tokenizer.json and synth.json, so `hsa train --data DIR` reads it directly. With \
                --tokenizer, samples are written in its tokens, and each (BOS, prompt, answer, \
                EOS) is rebuilt until it is at most its length and within 1% of it.
                """)

        @Option(
            help: """
                Comma-separated task names of any suite (ruler, babilong, copy), or 'all' (the \
                ruler and babilong tasks).
                """)
        var tasks: String = "all"
        @Option(help: "Samples per task and length.")
        var samples: Int = 100
        @OptionGroup var shards: SampleShardOptions
        @Option(help: "Value space: training (disjoint from evaluation) or evaluation.")
        var space: String = "training"
        @Option(help: "Output directory.")
        var out: String = "data/synth"
        @Option(help: "Data directory with eval/ and heldout/ texts.")
        var data: String = "data"

        func run() throws {
            try requireOutputDirectory(out, option: "--out")
            let tokenizer = try shards.tokenizer.load()
            guard let valueSpace = ValueSpace(rawValue: space) else {
                throw ValidationError("--space must be training or evaluation")
            }
            let lengthList = try shards.lengthList(command: "synth")
            let taskList = try SynthMixture.tasks(named: tasks)
            let sources = EvalTextSources.load(dataDirectory: URL(fileURLWithPath: data))
            let total = taskList.count * lengthList.count * samples
            let manifest = try SynthMixture.write(
                tasks: taskList, lengths: lengthList, samples: samples, seed: shards.seed,
                generator: TaskGenerator(sources: sources, space: valueSpace),
                tokenizer: tokenizer, to: URL(fileURLWithPath: out),
                shardTokens: shards.shardTokens,
                progress: ProgressBar(total: total))
            Terminal.printLine(manifest.reportLine(output: out))
            if let skipped = manifest.skippedLine(requested: total) { Terminal.printLine(skipped) }
        }
    }
}
