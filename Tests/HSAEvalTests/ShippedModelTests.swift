import Foundation
import HSA
import HSATestSupport
import Testing

// The checkpoints in models/ (the README's demo evaluates copy-lines-mean-top16) load, and
// answer the copy task across more filler than any line they were trained on.
struct ShippedModelTests {
    static let models = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("models")

    @Test(arguments: ["copy-lines-mean-top16", "copy-lines-cls-top4"])
    func copiesTheLettersBackAcrossTwoThousandTokens(name: String) throws {
        let model = try LanguageModel.load(from: Self.models.appendingPathComponent(name))
        #expect(model.config.fusion == .softmax)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let harness = try EvalHarness(
            model: LanguageModelEvaluator(model: model), outputDirectory: directory.url,
            generator: builtInGenerator, showProgress: false)
        var correct = 0
        for index in 0..<4 {
            let sample = try builtInGenerator.sample(
                .copy(.copyLine), length: 2048, index: index, seed: 0)
            correct += try harness.evaluate(sample).score == 1 ? 1 : 0
        }
        #expect(correct >= 3, "\(name) copied \(correct) of 4 lines exactly")
    }
}
