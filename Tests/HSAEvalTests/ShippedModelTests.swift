import Foundation
import HSA
import HSATestSupport
import Testing

// The checkpoints in models/ load and answer their task across more tokens than any training
// sample held (the README's demo evaluates ruler-4k-seq-top8 on needle retrieval).
struct ShippedModelTests {
    static let models = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("models")

    /// Exact answers of the shipped model `name` on the first `count` samples of `task` at
    /// `length` tokens (seed 0, built-in texts).
    static func exactAnswers(
        of name: String, on task: EvalTask, length: Int, count: Int = 4
    ) throws -> Int {
        let model = try LanguageModel.load(from: models.appendingPathComponent(name))
        #expect(model.config.fusion == .softmax)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let harness = try EvalHarness(
            model: LanguageModelEvaluator(model: model), outputDirectory: directory.url,
            generator: builtInGenerator, showProgress: false)
        var correct = 0
        for index in 0..<count {
            let sample = try builtInGenerator.sample(task, length: length, index: index, seed: 0)
            correct += try harness.evaluate(sample).score == 1 ? 1 : 0
        }
        return correct
    }

    @Test(arguments: ["copy-lines-mean-top16", "copy-lines-cls-top4"])
    func copiesTheLettersBackAcrossTwoThousandTokens(name: String) throws {
        let correct = try Self.exactAnswers(of: name, on: .copy(.copyLine), length: 2048)
        #expect(correct >= 3, "\(name) copied \(correct) of 4 lines exactly")
    }

    /// Trained on 512-token samples; 4K tokens is 256 chunks, far past the 32-token window.
    @Test(arguments: ["niah-noise-mean-top16-seq", "niah-noise-cls-top4", "niah-essay-cls-top4"])
    func findsTheNeedleInFourThousandTokens(name: String) throws {
        let correct = try Self.exactAnswers(of: name, on: .ruler(.niahSingle1), length: 4096)
        #expect(correct >= 3, "\(name) answered \(correct) of 4 needles exactly")
    }

    /// Trained on 4K-token samples of every RULER NIAH task: at twice that length they find a
    /// number among noise sentences and among essay paragraphs.
    @Test(
        arguments: ["ruler-4k-cls-top8", "ruler-4k-seq-top8"],
        [RulerTask.niahSingle1, .niahSingle2])
    func findsTheNeedleInEightThousandTokens(name: String, task: RulerTask) throws {
        let correct = try Self.exactAnswers(of: name, on: .ruler(task), length: 8192)
        #expect(correct >= 3, "\(name) answered \(correct) of 4 \(task.rawValue) needles exactly")
    }
}
