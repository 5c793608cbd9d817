import Foundation
import HSACore
import HSAModel
import Testing

/// Loading a checkpoint with YaRN (`hsa eval --yarn-factor`): against the model's training
/// length unless another original length is given; no factor, no YaRN.
@Suite struct YaRNLoadTests {
    @Test func extendsAgainstTheTrainingLengthUnlessTold() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hsa-yarn-load-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var config = ModelConfig.tiny
        config.maxTrainLen = 128
        try LanguageModel(config: config, seed: 1).save(to: directory)

        let plain = try LanguageModel.load(from: directory, yarnFactor: nil, yarnOriginalLength: 64)
        #expect(plain.config.yarn == nil)
        let byTraining = try LanguageModel.load(
            from: directory, yarnFactor: 4, yarnOriginalLength: nil)
        #expect(byTraining.config.yarn == YaRNScaling(factor: 4, originalLength: 128))
        let byGiven = try LanguageModel.load(from: directory, yarnFactor: 2, yarnOriginalLength: 64)
        #expect(byGiven.config.yarn == YaRNScaling(factor: 2, originalLength: 64))
    }
}
