import Foundation
import HSACore
import HSAModel
import HSATestSupport
import Testing

/// `hsa export --dtype int8`: matrices as I8 with one scale per row, vectors in BF16.
@Suite struct Int8WeightsTests {
    @Test func eachRowKeepsItsOwnScale() throws {
        // Row 0 holds small weights, row 1 large ones: a shared scale would zero row 0.
        let values: [Float] = [0.001, -0.002, 0.0005, 100, -50, 25]
        let entries = Int8Weights.entries(name: "w", shape: [2, 3], values: values)
        #expect(entries.map(\.name) == ["w", "w" + Int8Weights.scaleSuffix])
        #expect(entries.map(\.dtype) == [.i8, .f32])
        #expect(entries[0].bytes.count == 6)
        let collection = try SafetensorsCollection(files: [
            SafetensorsFile(data: SafetensorsWriter.encode(entries, metadata: [:]))
        ])
        let restored = try Int8Weights.dequantize("w", from: collection)
        for (row, scale) in [(0, Float(0.002) / 127), (1, Float(100) / 127)] {
            for column in 0..<3 {
                let index = row * 3 + column
                #expect(abs(restored[index] - values[index]) <= scale / 2 * 1.0001)
            }
        }
        // The largest magnitude of each row is exact up to fp32 rounding.
        #expect(abs(restored[1] + 0.002) < 1e-9 && abs(restored[3] - 100) < 1e-5)
        // Vectors stay BF16.
        #expect(
            Int8Weights.entries(name: "g", shape: [4], values: [1, 2, 3, 4]).map(\.dtype)
                == [.bf16])
    }

    @Test func anInt8ModelLoadsAndPredictsLikeTheOriginal() throws {
        let directory = try TemporaryDirectory("int8-model")
        defer { directory.remove() }
        let model = LanguageModel(config: .tiny, seed: 5)
        try model.save(to: directory.file("int8"), dtype: .i8)
        try model.save(to: directory.file("f32"))
        let size = { (name: String) -> Int in
            let file = directory.file(name).appendingPathComponent("model.safetensors")
            let attributes = try? FileManager.default.attributesOfItem(atPath: file.path)
            return attributes?[.size] as? Int ?? 0
        }
        #expect(size("int8") > 0 && size("int8") * 3 < size("f32"))
        let restored = try LanguageModel.load(from: directory.file("int8"))
        let tokens: [Int32] = (0..<48).map { Int32(($0 * 37) % 200) }
        let logits = { (network: LanguageModel) in
            network.forward(tokens: tokens, batch: 1, sequenceLength: tokens.count).logits
                .toArray()
        }
        let original = logits(model)
        let quantized = logits(restored)
        let worst = zip(original, quantized).map { abs($0 - $1) }.max() ?? .infinity
        let spread = (original.max() ?? 0) - (original.min() ?? 0)
        #expect(worst < 0.05 * spread, "max |logit difference| \(worst) of a spread \(spread)")
        // A missing scale is an error that names the tensor, not a silent fp32 read.
        let checkpoint = try SafetensorsShards.read(directory: directory.file("int8"))
        let name = model.parameters.layout.specs.first { $0.shape.count == 2 }!.name
        let withoutScale = checkpoint.files[0].names.filter { $0 != name + Int8Weights.scaleSuffix }
        #expect(withoutScale.count == checkpoint.names.count - 1)
        #expect(throws: CheckpointError.self) {
            try Int8Weights.dequantize(
                name,
                from: SafetensorsCollection(files: [
                    SafetensorsFile(
                        data: SafetensorsWriter.encode(
                            withoutScale.map { entry(checkpoint, $0) }, metadata: [:]))
                ]))
        }
    }

    private func entry(_ collection: SafetensorsCollection, _ name: String) -> SafetensorsEntry {
        let info = collection.tensors[name]!
        return SafetensorsEntry(
            name: name, dtype: info.dtype, shape: info.shape, bytes: try! collection.bytes(name))
    }
}
