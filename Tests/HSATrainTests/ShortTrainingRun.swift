import Foundation
import HSA
import HSATestSupport
import Testing

/// A 30-step CPU run of the ordinary trainer on one repeated sentence, for model kinds that must
/// train like any other (their batches, loss and checkpoints unchanged).
enum ShortTrainingRun {
    /// Batches cut from one repeated sentence (bytes), each (2, 40): five blocks of S = 8.
    static func repeatedText(count: Int) -> [TrainingBatch] {
        let text = Array("the landmark closes each block of tokens. ".utf8).map { Int32($0) }
        let (batch, length) = (2, 40)
        return (0..<count).map { i in
            let start = i * 7
            let stream = (0...(batch * length)).map { text[(start + $0) % text.count] }
            return TrainingBatch(
                batchSize: batch, sequenceLength: length,
                inputs: Array(stream[0..<(batch * length)]),
                targets: Array(stream[1...(batch * length)]),
                mask: [Float](repeating: 1, count: batch * length))
        }
    }

    /// Trains `config` (seed 2) for 30 steps into `directory`, checks that the loss fell (the
    /// mean of the last 3 steps below 0.75 of the first 3), and returns the trained model and
    /// the checkpoint reloaded, whose config must be `config`.
    static func run(_ config: ModelConfig, in directory: URL) throws -> (
        trained: LanguageModel, loaded: LanguageModel
    ) {
        var options = TrainingOptions()
        options.steps = 30
        options.batchSize = 2
        options.sequenceLength = 40
        options.learningRate = 3e-3
        options.warmupSteps = 3
        options.evalEvery = 0
        options.checkpointEvery = 30
        let model = LanguageModel(config: config, seed: 2)
        let trainer = Trainer(
            model: model, options: options, source: CyclingBatches(repeatedText(count: 6)),
            validation: [], runDirectory: directory, tokenizer: nil)
        var losses: [Double] = []
        try trainer.run { if case .step(let report) = $0 { losses.append(report.loss) } }
        #expect(losses.count == 30)
        let first = losses.prefix(3).reduce(0, +) / 3
        let last = losses.suffix(3).reduce(0, +) / 3
        #expect(last < 0.75 * first, "mean loss of the first 3 steps \(first), last 3 \(last)")
        let checkpoint = try #require(TrainingCheckpoint.list(runDirectory: directory).last)
        let loaded = try LanguageModel.load(from: checkpoint)
        #expect(loaded.config == config)
        return (model, loaded)
    }
}
