import Foundation
import HSA
import HSATestSupport
import Testing

/// The trainer honours the shards' loss masks, and `lossOnAllTokens` turns them off.
@Suite struct LossMaskTests {
    /// One shard of random tokens whose loss mask is 1 on every 10th token only.
    static func maskedShard(_ directory: TemporaryDirectory) throws {
        var rng = SplitMix64(seed: 9)
        let tokens = (0..<3000).map { _ in Int32(rng.next() % 256) }
        let mask = (0..<3000).map { UInt8($0 % 10 == 0 ? 1 : 0) }
        let writer = try TokenShardWriter(
            url: directory.file(DataSplit.train.shardFileName(index: 0)), vocabularySize: 259,
            hasLossMask: true)
        try writer.append(tokens, lossMask: mask)
        try writer.finish()
    }

    /// The first step's loss of a fresh trainer, and the batch it trained on.
    static func firstStep(_ directory: TemporaryDirectory, allTokens: Bool) throws
        -> (loss: Double, batch: TrainingBatch, model: LanguageModel)
    {
        var options = TrainingOptions()
        options.steps = 1
        options.batchSize = 2
        options.sequenceLength = 32
        options.evalEvery = 0
        options.checkpointEvery = 0
        options.lossOnAllTokens = allTokens
        let loader = try TokenDataLoader(
            directory: directory.url, split: .train, batchSize: 2, sequenceLength: 32, seed: 1)
        let batch = TrainingBatch(
            try TokenDataLoader(
                directory: directory.url, split: .train, batchSize: 2, sequenceLength: 32,
                seed: 1
            ).nextBatch())
        let model = LanguageModel(config: .tiny, seed: 5)
        let initial = LanguageModel(config: .tiny, seed: 5)
        let trainer = Trainer(
            model: model, options: options, source: loader, validation: [],
            runDirectory: directory.file("run-\(allTokens)"), tokenizer: nil)
        var loss = Double.nan
        try trainer.run { if case .step(let report) = $0 { loss = report.loss } }
        return (loss, batch, initial)
    }

    @Test func masksAreHonouredUnlessTurnedOff() throws {
        let directory = try TemporaryDirectory("loss-mask")
        defer { directory.remove() }
        try Self.maskedShard(directory)
        let masked = try Self.firstStep(directory, allTokens: false)
        let all = try Self.firstStep(directory, allTokens: true)
        let b = masked.batch
        #expect(b.mask.contains(0) && b.mask.contains(1))
        let withMask = masked.model.forward(
            tokens: b.inputs, targets: b.targets, lossMask: b.mask, batch: 2, sequenceLength: 32)
        let everyToken = masked.model.forward(
            tokens: b.inputs, targets: b.targets, batch: 2, sequenceLength: 32)
        #expect(withMask.targetCount < everyToken.targetCount)
        #expect(masked.loss == Double(withMask.loss))
        #expect(all.loss == Double(everyToken.loss))
    }
}
