import Foundation
import HSA
import HSATestSupport
import Testing

/// An `attention: landmark` model trains with the ordinary trainer on the CPU: the model inserts
/// its landmarks itself, so batches, loss and checkpoints are those of any other model.
@Suite struct LandmarkTrainingTests {
    @Test func lossFallsAndTheCheckpointLoads() throws {
        let directory = try TemporaryDirectory("landmark-train")
        defer { directory.remove() }
        var config = ModelConfig.tiny
        config.attention = .landmark
        config.landmarkBlock = 8
        let (model, loaded) = try ShortTrainingRun.run(config, in: directory.url)

        // The landmark embedding was trained, and the checkpoint restores the same model.
        #expect(
            loaded.parameters.tensor("embed.landmark").toArray()
                == model.parameters.tensor("embed.landmark").toArray())
        let fresh = LanguageModel(config: config, seed: 2)
        #expect(
            fresh.parameters.tensor("embed.landmark").toArray()
                != model.parameters.tensor("embed.landmark").toArray())
    }
}
