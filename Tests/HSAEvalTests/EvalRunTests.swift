import Foundation
import HSA
import HSATestSupport
import Testing

/// What `hsa eval` builds from its options: the sweep (the first bad option text named), the
/// recorded setup, the reference models and the evaluator of a checkpoint.
@Suite struct EvalRunTests {
    @Test func theSetupRecordsTheSettingsAndTheTaskFilesContents() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let tasks = try directory.write("tasks.jsonl", "{}\n")
        let setup = try EvalSetup(
            checkpoint: nil, referenceModel: "wrong", texts: "essays=a book=b words=c",
            space: "training", seed: 7, yarnFactor: 4, yarnOriginalLength: nil, tasksFile: tasks)
        #expect(setup.model == nil && setup.referenceModel == "wrong")
        #expect(
            setup.settings == [
                "texts": "essays=a book=b words=c", "space": "training", "seed": "7",
                "yarn_factor": "4.0", "tasks_file_sha256": try SHA256.fileHex(at: tasks),
            ])
        let checkpoint = directory.file("model")
        try LanguageModel(config: .tiny, seed: 1).save(to: checkpoint)
        let withModel = try EvalSetup(
            checkpoint: checkpoint, referenceModel: nil, texts: "t", space: "evaluation",
            seed: 0, yarnFactor: nil, yarnOriginalLength: 512, tasksFile: nil)
        #expect(withModel.model?.weights == (try ModelIdentity(checkpoint: checkpoint)).weights)
        #expect(withModel.model?.config == .tiny)
        #expect(withModel.settings["yarn_original_length"] == "512")
        #expect(withModel.settings["tasks_file_sha256"] == nil)
    }

    @Test func referenceModelsAreKnownByName() throws {
        let prompt = ByteTokenizer().encode("The special magic number for cat is: 42. What is it?")
        let wrong = try #require(TextFunctionModel.reference(named: "wrong"))
        #expect(
            try wrong.generate(prompt: prompt, maxTokens: 5) == ByteTokenizer().encode(" I do"))
        #expect(TextFunctionModel.reference(named: "needle-search") != nil)
        #expect(TextFunctionModel.reference(named: "right") == nil)
    }

    @Test func theEvaluatorStopsAtEOSWithTheBackendsPrefillBlock() {
        let model = LanguageModel(config: .tiny, seed: 1)
        let tokenizer = ByteTokenizer()
        let given = LanguageModelEvaluator(
            model: model, tokenizer: tokenizer, maximumLength: 300, prefillBlock: 77)
        #expect(given.prefillBlock == 77)
        #expect(given.stopToken == tokenizer.eos && given.maximumLength == 300)
        // The tests run on the CPU: the evaluator's own default.
        let byBackend = LanguageModelEvaluator(
            model: model, tokenizer: tokenizer, maximumLength: 300, prefillBlock: nil)
        #expect(byBackend.prefillBlock == LanguageModelEvaluator(model: model).prefillBlock)
    }

    @Test func tasksLengthsAndDepthsFromText() throws {
        let jobs = try EvalJob.sweep(
            suite: "ruler", tasks: "niah_single_1,vt", lengths: "1K, 2K", depths: "10, 90",
            samples: 3, seed: 5)
        #expect(jobs.count == 2 * 2 * 3)
        #expect(jobs.first?.length == 1024 && jobs.last?.length == 2048)
        let needles = jobs.filter { $0.task.name == "niah_single_1" && $0.length == 1024 }
        #expect(needles.map(\.depth) == [10, 90, 10])
        #expect(jobs.filter { $0.task.name == "vt" }.allSatisfy { $0.depth == nil })
    }

    @Test func theFirstBadTextIsNamed() {
        func error(
            suite: String = "ruler", tasks: String = "all", lengths: String = "4K",
            depths: String = "0,50"
        ) -> EvalError? {
            do {
                _ = try EvalJob.sweep(
                    suite: suite, tasks: tasks, lengths: lengths, depths: depths, samples: 1,
                    seed: 0)
                return nil
            } catch { return error as? EvalError }
        }
        #expect(error() == nil)
        #expect(error(suite: "nope", depths: "200") == .unknownSuite("nope"))
        #expect(error(tasks: "nope", depths: " 200") == .invalidDepth(" 200"))
        #expect("\(EvalError.invalidDepth("x"))" == "--depths: 'x' is not a percent 0...100")
        guard case .unknownTask(name: "nope", _, _)? = error(tasks: "nope", lengths: "0") else {
            Issue.record("an unknown task before a bad length")
            return
        }
        #expect(error(lengths: "4K,x") == .invalidLength("x"))
    }
}
