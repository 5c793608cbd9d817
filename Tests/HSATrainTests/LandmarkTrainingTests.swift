import Foundation
import HSA
import HSATestSupport
import Testing

/// An `attention: landmark` model trains with the ordinary trainer on the CPU: the model inserts
/// its landmarks itself, so batches, loss and checkpoints are those of any other model.
@Suite struct LandmarkTrainingTests {
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

    @Test func lossFallsAndTheCheckpointLoads() throws {
        let directory = try TemporaryDirectory("landmark-train")
        defer { directory.remove() }
        var config = ModelConfig.tiny
        config.attention = .landmark
        config.landmarkBlock = 8
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
            model: model, options: options, source: CyclingBatches(Self.repeatedText(count: 6)),
            validation: [], runDirectory: directory.url, tokenizer: nil)
        var losses: [Double] = []
        try trainer.run { if case .step(let report) = $0 { losses.append(report.loss) } }
        #expect(losses.count == 30)
        let first = losses.prefix(3).reduce(0, +) / 3
        let last = losses.suffix(3).reduce(0, +) / 3
        #expect(last < 0.75 * first, "mean loss of the first 3 steps \(first), last 3 \(last)")

        // The landmark embedding was trained, and the checkpoint restores the same model.
        let checkpoint = try #require(TrainingCheckpoint.list(runDirectory: directory.url).last)
        let loaded = try LanguageModel.load(from: checkpoint)
        #expect(loaded.config == config)
        #expect(
            loaded.parameters.tensor("embed.landmark").toArray()
                == model.parameters.tensor("embed.landmark").toArray())
        let fresh = LanguageModel(config: config, seed: 2)
        #expect(
            fresh.parameters.tensor("embed.landmark").toArray()
                != model.parameters.tensor("embed.landmark").toArray())
    }
}
