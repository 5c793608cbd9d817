import Foundation
import HSA
import HSATestSupport
import Testing

/// Samples for a subword tokenizer fill the length in its tokens (``TaskGenerator``'s
/// `sample(_:tokenizer:)`), and the harness speaks the model's tokenizer.
@Suite struct TokenBudgetTests {
    /// A BPE tokenizer learned from the built-in haystack texts, so it compresses them.
    static func essayTokenizer() throws -> BPETokenizer {
        var trainer = try BPETrainer(vocabularySize: 600)
        let sources = EvalTextSources.builtIn
        for sentence in sources.essaySentences + sources.bookSentences {
            trainer.add(String(decoding: sentence, as: UTF8.self))
        }
        trainer.add((sources.nouns + sources.adjectives + sources.verbs).joined(separator: " "))
        return trainer.train()
    }

    /// Sample `index` of a sweep (EvalJob has no public initializer).
    func makeJob(_ task: EvalTask, length: Int, index: Int, seed: UInt64, depth: Double?) -> EvalJob
    {
        let jobs = EvalJob.sweep(
            tasks: [task], lengths: [length], samples: index + 1, seed: seed,
            depths: depth.map { [$0] } ?? [])
        return jobs[index]
    }

    static let tasks: [EvalTask] = [
        .ruler(.niahSingle1), .ruler(.niahSingle2), .ruler(.niahMultikey3), .ruler(.vt),
        .ruler(.cwe), .babilong(.qa2), .copy(.copyLine), .unseen(UnseenTask.allCases[0]),
    ]

    @Test func aSampleFillsTheLengthInTheTokenizersTokens() throws {
        let tokenizer = try Self.essayTokenizer()
        for task in Self.tasks {
            for length in [2048, 4096] {
                let job = makeJob(task, length: length, index: 1, seed: 4, depth: 50)
                let sample = try builtInGenerator.sample(job, tokenizer: tokenizer)
                let total = sample.prompt(tokenizer: tokenizer).count + sample.tokensToGenerate
                #expect(total <= length, "\(task) \(length): \(total) tokens")
                #expect(Double(total) >= 0.98 * Double(length), "\(task) \(length): \(total)")
                // The tokenizer compresses text (not copy's random letters): the prompt holds
                // more bytes than the length.
                if task != .copy(.copyLine) {
                    #expect(promptTokenCount(sample) > length, "\(task) \(length)")
                }
                #expect(sample.length == length && sample.index == 1)
                // Byte offsets are no token positions: none are given.
                #expect(sample.needlePositions.isEmpty && sample.distractorPositions.isEmpty)
            }
        }
    }

    @Test func theSameJobGivesTheSameSample() throws {
        let tokenizer = try Self.essayTokenizer()
        for task in Self.tasks {
            let job = makeJob(task, length: 2048, index: 3, seed: 7, depth: 25)
            let first = try builtInGenerator.sample(job, tokenizer: tokenizer)
            #expect(try builtInGenerator.sample(job, tokenizer: tokenizer) == first, "\(task)")
            let other = makeJob(task, length: 2048, index: 3, seed: 8, depth: 25)
            #expect(try builtInGenerator.sample(other, tokenizer: tokenizer) != first, "\(task)")
        }
    }

    @Test func theByteTokenizerGetsTheByteExactSample() throws {
        for task in Self.tasks {
            let job = makeJob(task, length: 2048, index: 2, seed: 9, depth: 75)
            let sample = try builtInGenerator.sample(job, tokenizer: ByteTokenizer())
            #expect(sample == (try builtInGenerator.sample(job)), "\(task)")
            #expect(promptTokenCount(sample) + sample.tokensToGenerate == 2048, "\(task)")
        }
    }

    @Test func aLengthTooShortForTheTemplateIsAnError() throws {
        let tokenizer = try Self.essayTokenizer()
        let niah = makeJob(.ruler(.niahSingle1), length: 100, index: 0, seed: 1, depth: nil)
        #expect(throws: EvalError.self) { try builtInGenerator.sample(niah, tokenizer: tokenizer) }
        // cwe's shortest sample (its word list) takes more than the 1024 - 160 tokens left.
        let cwe = makeJob(.ruler(.cwe), length: 1024, index: 0, seed: 1, depth: nil)
        let error = #expect(throws: EvalError.self) {
            try builtInGenerator.sample(cwe, tokenizer: tokenizer)
        }
        guard case .exceedsTokenBudget(let task, let length, let tokens) = error else {
            Issue.record("\(String(describing: error))")
            return
        }
        #expect(task == "cwe" && length == 1024 && tokens > 1024 - 160)
    }

    /// A model speaking BPE that finds needles by string search: it scores only when the
    /// harness encodes its prompt and decodes its answer with the model's tokenizer.
    final class SubwordNeedleSearch: EvaluationModel {
        let tokenizer: any Tokenizer
        var vocabularySize: Int { tokenizer.vocabularySize }

        init(tokenizer: any Tokenizer) { self.tokenizer = tokenizer }

        func generate(prompt: [Int32], maxTokens: Int) throws -> [Int32] {
            #expect(prompt.first == tokenizer.bos)
            let answer = NeedleSearch.answer(prompt: tokenizer.decode(prompt))
            return Array(tokenizer.encode(answer).prefix(maxTokens))
        }
    }

    @Test func theHarnessSpeaksTheModelsTokenizer() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let tokenizer = try Self.essayTokenizer()
        let jobs = EvalJob.sweep(
            tasks: [.ruler(.niahSingle1), .ruler(.niahMultivalue)], lengths: [1024, 2048],
            samples: 2, seed: 3, depths: [50])
        let harness = try EvalHarness(
            model: SubwordNeedleSearch(tokenizer: tokenizer), outputDirectory: directory.url,
            generator: builtInGenerator, showProgress: false, collectDiagnostics: true)
        let summary = try harness.run(jobs: jobs)
        #expect(summary.samples == jobs.count && summary.overall == 1)
        let results = try JSONLines.read(EvalResult.self, from: harness.resultsURL)
        #expect(results.count == jobs.count)
        for result in results {
            #expect(result.promptTokens <= result.length)
            // NIAH reserves 128 tokens for the answer.
            #expect(Double(result.promptTokens + 128) >= 0.98 * Double(result.length))
            #expect(result.diagnostics == nil)
        }
    }
}
