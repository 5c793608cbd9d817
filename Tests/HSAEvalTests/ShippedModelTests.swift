import Foundation
import HSA
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
        let evaluator = LanguageModelEvaluator(model: model)
        let tokenizer = ByteTokenizer()
        var correct = 0
        for index in 0..<4 {
            let sample = try builtInGenerator.sample(
                .copy(.copyLine), length: 2048, index: index, seed: 0)
            let answer = try evaluator.generate(
                prompt: [tokenizer.bos] + tokenizer.encode(sample.promptText),
                maxTokens: sample.tokensToGenerate)
            correct += Scoring.score(tokenizer.decode(answer), for: sample) == 1 ? 1 : 0
        }
        #expect(correct >= 3, "\(name) copied \(correct) of 4 lines exactly")
    }
}
