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
        let (model, loaded) = try ShortTrainingRun.run(config, in: directory.url)

        // The SSD parameters were trained, and the checkpoint restores the same model.
        let fresh = LanguageModel(config: config, seed: 2)
        for name in ["lower.0.mixer.A_log", "upper.0.mixer.dt_bias", "upper.0.mixer.D"] {
            let trained = model.parameters.tensor(name).toArray()
            #expect(loaded.parameters.tensor(name).toArray() == trained, "\(name)")
            #expect(fresh.parameters.tensor(name).toArray() != trained, "\(name) did not move")
        }
    }
}
