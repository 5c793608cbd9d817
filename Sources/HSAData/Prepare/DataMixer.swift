import Foundation
import HSACore

/// Mixes prepared datasets (from `hsa data prepare` or `hsa data synth`) into one training
/// set with a loss mask, in proportions given by token weights.
///
/// Every document of a source is cut into segments of at most `segmentLength` tokens; each
/// segment starts with BOS (a cut-off continuation gets one prepended, with mask 0), so a
/// loader with `documentStart: BOS` and T = `segmentLength` starts a window at every segment
/// and never reads a long text only from its beginning. Masks are kept from sources that have
/// one (task samples: 1 on answers only) and are 1 on every token but BOS for sources without
/// (plain text: full next-token loss).
///
/// Sources take turns by deficit: the next segment always comes from the source whose written
/// tokens divided by its weight is smallest, so the token proportions match the weights to
/// within one segment. Each source's segments are visited in a shuffled order (SplitMix64 of
/// the seed, the source's index and its pass), and a source that runs out starts another pass.
/// With a ``CopyDrill``, a fraction of the plain-text segments repeat earlier passages at their
/// end (long-range copy exercises).
public enum DataMixer {
    /// One input dataset and its share of the output's tokens.
    public struct Source: Sendable {
        /// A directory with `manifest.json` and train shards.
        public var directory: URL
        /// Relative share of tokens (> 0).
        public var weight: Double

        public init(directory: URL, weight: Double) {
            self.directory = directory
            self.weight = weight
        }

        /// Parses `DIR` or `DIR:WEIGHT` (weight 1 when omitted).
        public init(argument: String) throws {
            let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
            guard let last = parts.last, parts.count >= 2, let weight = Double(last) else {
                self.init(directory: URL(fileURLWithPath: argument), weight: 1)
                return
            }
            guard weight > 0, weight.isFinite else {
                throw DataPrepareError.invalidOption(
                    name: "mix source weight", value: argument, expected: "DIR:WEIGHT, WEIGHT > 0")
            }
            let path = parts.dropLast().joined(separator: ":")
            self.init(directory: URL(fileURLWithPath: path), weight: weight)
        }
    }

    /// What was written, also saved as `mix.json`.
    public struct Summary: Codable, Sendable, Equatable {
        /// Per source, in argument order.
        public struct SourceSummary: Codable, Sendable, Equatable {
            public var directory: String
            public var weight: Double
            /// Tokens the source holds (train split).
            public var availableTokens: Int
            /// Tokens written from it (segments, with prepended BOS).
            public var writtenTokens: Int
            /// Written tokens with loss mask 1.
            public var lossTokens: Int
            /// Segments written.
            public var segments: Int
            /// Passes started over the source's segments (> 1: it was repeated).
            public var passes: Int
            /// Segments turned into copy drills.
            public var drills: Int
            /// Task samples left out for being longer than a segment (never cut, see
            /// `SegmentedSource.segments`); nil in mixtures written before this was counted.
            public var tooLongSamples: Int?
        }
        public var sources: [SourceSummary]
        public var segmentLength: Int
        public var copyDrill: CopyDrill?
        public var seed: UInt64
        public var tokens: Int
        public var shards: [String]
    }

    /// Writes the mixture into `directory` (`train-NNNNN.bin` with loss masks,
    /// `manifest.json`, `tokenizer.json`, `mix.json`).
    /// - Parameters:
    ///   - sources: inputs; all must use the same tokenizer.
    ///   - segmentLength: longest segment in tokens, BOS included (the training T).
    ///   - totalTokens: tokens to write; nil writes as many as all sources hold together.
    ///   - seed: fixes every source's segment order and the drills.
    ///   - copyDrill: turns some plain-text segments into long-range copy exercises.
    ///   - directory: output (created).
    ///   - shardTokens: tokens per shard file, about (a segment is never split).
    /// - Throws: ``DataPrepareError`` for bad options, missing or mismatched inputs.
    @discardableResult
    public static func mix(
        sources: [Source], segmentLength: Int, totalTokens: Int? = nil, seed: UInt64 = 0,
        copyDrill: CopyDrill? = nil, to directory: URL, shardTokens: Int = 16 << 20
    ) throws -> Summary {
        guard !sources.isEmpty else {
            throw DataPrepareError.invalidOption(
                name: "sources", value: "none", expected: "at least one dataset directory")
        }
        guard segmentLength >= 2 else {
            throw DataPrepareError.invalidOption(
                name: "segment length", value: "\(segmentLength)", expected: ">= 2")
        }
        let loaded = try sources.map { try SegmentedSource(directory: $0.directory) }
        let sourceTokenizer = try sharedTokenizer(of: sources, manifests: loaded.map(\.manifest))
        let tokenizer = loaded[0].manifest.tokenizer
        let cuts = loaded.map { $0.segments(maxLength: segmentLength, bos: tokenizer.bos) }
        let segmentsPerSource = cuts.map(\.segments)
        for (source, cut) in zip(sources, cuts) where cut.segments.isEmpty {
            throw DataPrepareError.io(
                path: source.directory.path,
                reason: "none of its \(cut.skipped) samples fits a segment of \(segmentLength) "
                    + "tokens; hint: generate tasks no longer than the segment (hsa data tasks "
                    + "--lengths)")
        }
        let target = totalTokens ?? loaded.reduce(0) { $0 + $1.tokens.count }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

        var cursors = sources.indices.map { SegmentCursor(source: $0, seed: seed) }
        var summaries = zip(sources, zip(loaded, cuts)).map { source, loadedAndCut in
            Summary.SourceSummary(
                directory: source.directory.path, weight: source.weight,
                availableTokens: loadedAndCut.0.tokens.count, writtenTokens: 0, lossTokens: 0,
                segments: 0, passes: 0, drills: 0, tooLongSamples: loadedAndCut.1.skipped)
        }
        var writer = ShardSequenceWriter(
            directory: directory, split: .train, vocabularySize: tokenizer.vocabSize,
            shardTokens: shardTokens, hasLossMask: true)
        var drillGenerator = SplitMix64(seed: seed ^ 0x636F_7079_6472_696C)  // "copydril"
        let newline = Int32(UInt8(ascii: "\n"))
        var written = 0
        while written < target {
            // Deficit round robin: the source furthest below its share goes next.
            let next = sources.indices.min { a, b in
                Double(summaries[a].writtenTokens) / sources[a].weight
                    < Double(summaries[b].writtenTokens) / sources[b].weight
            }
            guard let index = next, !segmentsPerSource[index].isEmpty else { break }
            let segment = cursors[index].next(in: segmentsPerSource[index])
            summaries[index].passes = cursors[index].pass + 1
            var (tokens, mask) = loaded[index].materialize(segment, bos: tokenizer.bos)
            if let copyDrill, loaded[index].isPlainText,
                drillGenerator.nextUniform() < copyDrill.fraction,
                let drill = copyDrill.apply(
                    to: tokens, separator: newline, generator: &drillGenerator)
            {
                (tokens, mask) = drill
                summaries[index].drills += 1
            }
            try writer.appendSegment(tokens, mask: mask)
            summaries[index].writtenTokens += tokens.count
            summaries[index].lossTokens += mask.reduce(0) { $0 + Int($1) }
            summaries[index].segments += 1
            written += tokens.count
        }
        try writer.finish()
        let shards = writer.shards
        let summary = Summary(
            sources: summaries, segmentLength: segmentLength, copyDrill: copyDrill, seed: seed,
            tokens: written,
            shards: shards.map(\.file))
        try writeMetadata(
            summary, shards: shards, tokenizer: tokenizer, tokenizerFile: sourceTokenizer,
            to: directory)
        return summary
    }

    private static func writeMetadata(
        _ summary: Summary, shards: [DataManifest.Shard],
        tokenizer: DataManifest.TokenizerSummary, tokenizerFile: any Tokenizer,
        to directory: URL
    ) throws {
        let manifest = DataManifest(
            trainShards: shards, tokenizer: tokenizer,
            shardTokens: shards.map(\.tokens).max() ?? 0, trainTokens: summary.tokens)
        try manifest.write(to: directory)
        // snake_case like manifest.json and the other JSON files of a dataset.
        let summaryEncoder = JSONEncoder.sortedPretty()
        summaryEncoder.keyEncodingStrategy = .convertToSnakeCase
        try AtomicFile.write(
            summaryEncoder.encode(summary), to: directory.appendingPathComponent("mix.json"))
        // The sources share one tokenizer (`sharedTokenizer`): the first one's file travels on.
        try tokenizerFile.save(to: directory.appendingPathComponent("tokenizer.json"))
    }
}
