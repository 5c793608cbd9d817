import Foundation
import HSA
import HSATestSupport
import Testing

/// A `mixer: mamba2` model trains with the ordinary trainer on the CPU: batches, loss and
/// checkpoints are those of any other model.
@Suite struct Mamba2TrainingTests {
    @Test func lossFallsAndTheCheckpointLoads() throws {
        let directory = try TemporaryDirectory("mamba2-train")
        defer { directory.remove() }
        var config = ModelConfig.tiny
        config.mixer = .mamba2
        config.mambaStateDim = 16
        config.mambaHeadDim = 16
        config.mambaChunkLength = 16
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
            model: model, options: options,
            source: CyclingBatches(LandmarkTrainingTests.repeatedText(count: 6)),
            validation: [], runDirectory: directory.url, tokenizer: nil)
        var losses: [Double] = []
        try trainer.run { if case .step(let report) = $0 { losses.append(report.loss) } }
        #expect(losses.count == 30)
        let first = losses.prefix(3).reduce(0, +) / 3
        let last = losses.suffix(3).reduce(0, +) / 3
        #expect(last < 0.75 * first, "mean loss of the first 3 steps \(first), last 3 \(last)")

        // The SSD parameters were trained, and the checkpoint restores the same model.
        let checkpoint = try #require(TrainingCheckpoint.list(runDirectory: directory.url).last)
        let loaded = try LanguageModel.load(from: checkpoint)
        #expect(loaded.config == config)
        let fresh = LanguageModel(config: config, seed: 2)
        for name in ["lower.0.mixer.A_log", "upper.0.mixer.dt_bias", "upper.0.mixer.D"] {
            let trained = model.parameters.tensor(name).toArray()
            #expect(loaded.parameters.tensor(name).toArray() == trained, "\(name)")
            #expect(fresh.parameters.tensor(name).toArray() != trained, "\(name) did not move")
        }
    }
}
