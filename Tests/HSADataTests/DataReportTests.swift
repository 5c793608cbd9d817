import Foundation
import Testing

@testable import HSAData

/// The lines `hsa data prepare` and `hsa data mix` print about what they wrote, and the ranges
/// of a copy drill.
@Suite struct DataReportTests {
    typealias SourceSummary = DataMixer.Summary.SourceSummary

    @Test func mixReportsEverySourceThenTheTotal() {
        let summary = DataMixer.Summary(
            sources: [
                SourceSummary(
                    directory: "data/text", weight: 1, availableTokens: 900, writtenTokens: 1000,
                    lossTokens: 990, segments: 10, passes: 2, drills: 3, tooLongSamples: nil),
                SourceSummary(
                    directory: "data/tasks", weight: 1, availableTokens: 2000, writtenTokens: 500,
                    lossTokens: 40, segments: 5, passes: 1, drills: 0, tooLongSamples: 4),
            ], segmentLength: 128, copyDrill: nil, seed: 0, tokens: 1500,
            shards: ["train-00000.bin", "train-00001.bin"])
        #expect(
            summary.reportLines(output: "data/mix") == [
                "data/text: 1000 tokens in 10 segments, 3 copy drills (990 with loss; 2 passes "
                    + "over 900)",
                "data/tasks: 500 tokens in 5 segments, 0 copy drills (40 with loss; 1 pass over "
                    + "2000); 4 samples longer than a segment left out",
                "wrote 1500 tokens in 2 shards to data/mix",
            ])
    }

    @Test func prepareReportsDocumentsTokensAndShards() {
        let manifest = DataManifest(
            tokenizer: .init(file: "tokenizer.json", vocabSize: 259, bos: 256, eos: 257, pad: 258),
            validationFraction: 0.1, shardTokens: 1000, trainTokens: 72, validationTokens: 8,
            documents: [], emptyFiles: [],
            shards: [
                .init(file: "train-00000.bin", split: .train, tokens: 72),
                .init(file: "val-00000.bin", split: .val, tokens: 8),
            ])
        #expect(
            manifest.reportLine(output: "out")
                == "documents=0 train_tokens=72 val_tokens=8 shards=2 out=out")
    }

    @Test func copyDrillRanges() {
        #expect(CopyDrill(fraction: 0).isValid && CopyDrill(fraction: 1).isValid)
        #expect(!CopyDrill(fraction: 1.5).isValid)
        #expect(!CopyDrill(fraction: 0.5, passages: 0).isValid)
        #expect(!CopyDrill(fraction: 0.5, sourceFraction: 0.05).isValid)
        #expect(CopyDrill(fraction: 0.5, nearPassages: 0).isValid)
        #expect(!CopyDrill(fraction: 0.5, nearPassages: -1).isValid)
        #expect(!CopyDrill(fraction: 0.5, nearPassageLength: 0).isValid)
        #expect(!CopyDrill(fraction: .nan).isValid)
    }
}
