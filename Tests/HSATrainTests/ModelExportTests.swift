import Foundation
import HSA
import HSATestSupport
import Testing

/// `hsa export`: a checkpoint's config, weights (in the chosen type) and tokenizer, nothing
/// else.
@Suite struct ModelExportTests {
    @Test func writesTheModelInTheChosenTypeWithItsTokenizer() throws {
        let directory = try TemporaryDirectory("model-export")
        defer { directory.remove() }
        let checkpoint = directory.file("checkpoint")
        let model = LanguageModel(config: .tiny, seed: 3)
        try model.save(to: checkpoint)
        var trainer = try BPETrainer(vocabularySize: 270, minimumPairCount: 1)
        trainer.add(String(repeating: "export me ", count: 30))
        try trainer.train().save(to: checkpoint.appendingPathComponent("tokenizer.json"))
        try Data("{}".utf8).write(to: checkpoint.appendingPathComponent("trainer_state.json"))

        let f32 = directory.file("f32")
        let count = try ModelExport.write(
            checkpoint: checkpoint, to: f32, dtype: .f32, maxShardBytes: nil)
        #expect(count == model.layout.totalCount)
        let files = try FileManager.default.contentsOfDirectory(atPath: f32.path).sorted()
        #expect(files == ["config.json", "model.safetensors", "tokenizer.json"])
        #expect(
            try LanguageModel.load(from: f32).parameters.storage.toArray()
                == model.parameters.storage.toArray())
        #expect(try TokenizerLoader.load(checkpoint: f32) is BPETokenizer)

        let bf16 = directory.file("bf16")
        try ModelExport.write(checkpoint: checkpoint, to: bf16, dtype: .bf16, maxShardBytes: nil)
        let rounded = try LanguageModel.load(from: bf16).parameters.storage.toArray()
        let original = model.parameters.storage.toArray()
        #expect(rounded != original)
        // bf16 keeps 8 significant bits: within 2^-8 of each weight.
        #expect(zip(rounded, original).allSatisfy { abs($0 - $1) <= abs($1) / 256 })

        let int8 = directory.file("int8")
        try ModelExport.write(checkpoint: checkpoint, to: int8, dtype: .i8, maxShardBytes: nil)
        let size = { (url: URL) in
            try FileManager.default.attributesOfItem(
                atPath: url.appendingPathComponent("model.safetensors").path)[.size] as? Int ?? 0
        }
        #expect(try size(int8) < size(bf16))
        let quantized = try LanguageModel.load(from: int8).parameters.storage.toArray()
        let largest = original.map(abs).max() ?? 0
        // One scale per row: each weight within half a step of its row's 255 steps.
        #expect(zip(quantized, original).allSatisfy { abs($0 - $1) <= largest / 254 })
    }
}
