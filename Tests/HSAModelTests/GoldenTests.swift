import Foundation
import HSACore
import HSAModel
import HSATestSupport
import HSATrain
import Testing

/// The Swift model against the PyTorch twin's fixture (reference/make_fixtures.py): per-layer
/// hidden states, chunk memory, selections, logits, loss, every gradient, and 5 AdamW steps.
@Suite struct GoldenTests {
    static let fixtureURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/golden.safetensors")

    /// Forward values: fp32 in both implementations, different summation orders.
    static let forwardTolerance = (atol: 2e-5, rtol: 1e-4)
    /// Gradients: one more pass of fp32 rounding.
    static let gradientTolerance = (atol: 2e-5, rtol: 1e-3)

    struct Case {
        let model: LanguageModel
        let file: SafetensorsFile
        let prefix: String
        let batch: Int
        let length: Int
        let tokens: [Int32]
        let targets: [Int32]
        let mask: [Float]
    }

    static func load(_ name: String) throws -> Case {
        let file = try SafetensorsFile(url: fixtureURL)
        let configJSON = try #require(file.metadata["\(name)/config"])
        let config = try ModelConfig.decode(Data(configJSON.utf8), source: "\(name)/config")
        let model = LanguageModel(config: config)
        let collection = try SafetensorsCollection(files: [file])
        try model.parameters.load(from: collection, prefix: "\(name)/params.", source: name)
        let shape = try file.info("\(name)/inputs").shape
        return Case(
            model: model, file: file, prefix: "\(name)/", batch: shape[0], length: shape[1],
            tokens: try file.int32s("\(name)/inputs"), targets: try file.int32s("\(name)/targets"),
            mask: try file.floats("\(name)/loss_mask"))
    }

    static func expectClose(
        _ actual: Tensor, _ file: SafetensorsFile, _ name: String,
        _ tolerance: (atol: Double, rtol: Double)
    ) throws {
        let expected = try file.floats(name)
        let report = compare(
            actual.toArray(), expected, atol: tolerance.atol, rtol: tolerance.rtol, label: name)
        #expect(report.passed, "\(report)")
    }

    static let configs = ["default", "ablation_a", "ablation_b"]

    @Test(arguments: configs)
    func forwardMatchesReference(config name: String) throws {
        let c = try Self.load(name)
        let pass = c.model.forward(
            tokens: c.tokens, targets: c.targets, lossMask: c.mask, batch: c.batch,
            sequenceLength: c.length)
        let p = c.prefix
        for l in 0..<c.model.config.nLowerLayers {
            try Self.expectClose(
                pass.lowerOutput(l), c.file, "\(p)hidden.lower.\(l)", Self.forwardTolerance)
        }
        try Self.expectClose(pass.middle, c.file, "\(p)hidden.middle", Self.forwardTolerance)
        for l in 0..<c.model.config.nUpperLayers {
            try Self.expectClose(
                pass.upperOutput(l), c.file, "\(p)hidden.upper.\(l)", Self.forwardTolerance)
        }
        let memory = try #require(pass.memory)
        try Self.expectClose(
            memory.landmarks, c.file, "\(p)memory.landmarks", Self.forwardTolerance)
        try Self.expectClose(memory.keys, c.file, "\(p)memory.keys", Self.forwardTolerance)
        try Self.expectClose(memory.values, c.file, "\(p)memory.values", Self.forwardTolerance)
        let hsaLayers = c.model.config.hsaLayers.sorted()
        for (i, l) in hsaLayers.enumerated() {
            let expected = try c.file.int32s("\(p)retrieval.upper.\(l).indices")
            #expect(pass.selections[i] == expected, "selection of upper layer \(l)")
        }
        try Self.expectClose(pass.logits, c.file, "\(p)logits", Self.forwardTolerance)
        let loss = try c.file.floats("\(p)loss")[0]
        #expect(abs(pass.loss - loss) <= 1e-5 * max(1, abs(loss)), "loss \(pass.loss) vs \(loss)")
    }

    @Test(arguments: configs)
    func gradientsMatchReference(config name: String) throws {
        let c = try Self.load(name)
        let pass = c.model.forward(
            tokens: c.tokens, targets: c.targets, lossMask: c.mask, batch: c.batch,
            sequenceLength: c.length)
        c.model.zeroGradients()
        c.model.backward(pass)
        for spec in c.model.layout.specs {
            try Self.expectClose(
                c.model.gradients.tensor(spec.name), c.file, "\(c.prefix)grads.\(spec.name)",
                Self.gradientTolerance)
        }
    }

    @Test(arguments: configs)
    func adamWStepsMatchReference(config name: String) throws {
        let c = try Self.load(name)
        let expected = try c.file.floats("\(c.prefix)adamw_losses")
        let optimizer = AdamWOptimizer(layout: c.model.layout, weightDecay: 0.1, maxGradientNorm: 1)
        var losses: [Float] = []
        for step in 0...5 {
            let pass = c.model.forward(
                tokens: c.tokens, targets: c.targets, lossMask: c.mask, batch: c.batch,
                sequenceLength: c.length)
            losses.append(pass.loss)
            guard step < 5 else { break }
            c.model.zeroGradients()
            c.model.backward(pass)
            optimizer.update(
                parameters: c.model.parameters, gradients: c.model.gradients, learningRate: 1e-3)
        }
        let report = compare(losses, expected, atol: 1e-5, rtol: 1e-5, label: "adamw_losses")
        #expect(report.passed, "\(report)")
    }
}
