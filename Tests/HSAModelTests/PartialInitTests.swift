import Foundation
import HSACore
import HSAModel
import Testing

/// Loading a checkpoint into a model that lacks some of its parts (`hsa train --init-from`
/// with an ablation flag such as `--attention swa`).
@Suite struct PartialInitTests {
    @Test func skipsOnlyTheTensorsTheModelDoesNotHave() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hsa-partial-init-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let hsaModel = LanguageModel(config: .tiny, seed: 3)
        try hsaModel.save(to: directory)
        let checkpoint = try SafetensorsShards.read(directory: directory, baseName: "model")

        var swaConfig = ModelConfig.tiny
        swaConfig.attention = .swa
        let swaModel = LanguageModel(config: swaConfig, seed: 4)
        // Strict loading (resume, evaluation) rejects the HSA tensors.
        #expect(throws: CheckpointError.self) {
            try swaModel.parameters.load(from: checkpoint, source: "m")
        }
        let skipped = try swaModel.parameters.load(
            from: checkpoint, source: "m", skippingUnused: true)
        let swaNames = Set(swaModel.parameters.layout.specs.map(\.name))
        #expect(!skipped.isEmpty)
        #expect(skipped == checkpoint.names.filter { !swaNames.contains($0) }.sorted())
        // Every tensor the two models share now holds the checkpoint's values.
        for name in swaNames {
            #expect(try checkpoint.floats(name) == swaModel.parameters.tensor(name).toArray())
        }
    }
}
