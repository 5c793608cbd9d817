import Foundation
import HSA
import Testing

// The checkpoint the README's demo evaluates (models/copy-lines-tiny) loads, and answers the
// copy task across more filler than any line it was trained on.
struct ShippedModelTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("models/copy-lines-tiny")

    @Test func copiesTheLettersBackAcrossTwoThousandTokens() throws {
        let model = try LanguageModel.load(from: Self.directory)
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
        #expect(correct >= 3, "copied \(correct) of 4 lines exactly")
    }
}
