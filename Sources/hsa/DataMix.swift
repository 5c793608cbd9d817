import ArgumentParser
import Foundation
import HSA

extension HSACommand {
    struct DataMix: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mix",
            abstract: "Mix prepared datasets (text and task samples) into one with loss masks.",
            discussion: """
                Each SOURCE is DIR or DIR:WEIGHT (a share of the output's tokens). Documents \
                are cut into segments of at most --segment-length tokens that each start with \
                BOS, so `hsa train --document-aligned --seq-len` of the same length starts a \
                window at every segment. Sources with a loss mask (`hsa data synth`) keep it; \
                plain text (`hsa data prepare`) gets loss on every token. Writes train shards, \
                manifest.json, tokenizer.json and mix.json into --out.
                """)

        @Argument(help: "Datasets as DIR or DIR:WEIGHT.")
        var sources: [String]
        @Option(help: "Longest segment in tokens (use the training --seq-len).")
        var segmentLength: Int = 4096
        @Option(help: "Tokens to write (default: as many as the sources hold together).")
        var tokens: Int?
        @Option(
            help: """
                Fraction of plain-text segments that repeat earlier passages at their end \
                (long-range copy exercises for the retrieval layers).
                """)
        var copyDrill: Double = 0
        @Option(help: "Passages repeated per copy drill.")
        var drillPassages: Int = 2
        @Option(help: "Tokens per repeated passage.")
        var drillPassageLength: Int = 128
        @Option(
            help: """
                Passages come from this leading fraction of the text (1 with one passage of \
                half the segment: the text followed by itself, a self-copy drill).
                """)
        var drillSourceFraction: Double = 0.6
        @Option(
            help: """
                Near repeats per copy drill: the tokens just read, repeated at once inside \
                the text (copying within the sliding window, learned before far copies).
                """)
        var drillNearPassages: Int = 0
        @Option(help: "Tokens per near repeat.")
        var drillNearLength: Int = 32
        @Option var seed: UInt64 = 0
        @Option(help: "Output directory.")
        var out: String = "data/mix"
        @Option(help: "Tokens per shard file.")
        var shardTokens: Int = 16 << 20

        func run() throws {
            try requireOutputDirectory(out, option: "--out")
            let parsed = try sources.map(DataMixer.Source.init(argument:))
            let drill = CopyDrill(
                fraction: copyDrill, passages: drillPassages, passageLength: drillPassageLength,
                sourceFraction: drillSourceFraction, nearPassages: drillNearPassages,
                nearPassageLength: drillNearLength)
            guard drill.isValid else {
                throw ValidationError(
                    "--copy-drill must be in [0, 1]; --drill-passages, --drill-passage-length "
                        + "and --drill-near-length > 0; --drill-source-fraction in [0.1, 1]; "
                        + "--drill-near-passages >= 0")
            }
            let summary = try DataMixer.mix(
                sources: parsed, segmentLength: segmentLength, totalTokens: tokens, seed: seed,
                copyDrill: copyDrill > 0 ? drill : nil, to: URL(fileURLWithPath: out),
                shardTokens: shardTokens)
            summary.reportLines(output: out).forEach(Terminal.printLine)
        }
    }
}
