import Foundation
import HSA
import HSATestSupport
import Testing

@Suite struct HarnessTests {
    @Test func taskFilesRoundTripAndReadRulerFiles() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let samples =
            try [RulerTask.niahSingle2, .vt].map {
                try builtInGenerator.sample(.ruler($0), length: 2048, index: 1, seed: 3, depth: 50)
            } + [try builtInGenerator.sample(.babilong(.qa5), length: 2048, index: 0, seed: 3)]
        let url = directory.file("tasks.jsonl")
        try EvalTaskFile.write(samples, to: url)
        #expect(try EvalTaskFile.read(url) == samples)
        // A line as RULER's prepare.py writes it: only its own fields.
        let ruler = directory.file("ruler.jsonl")
        let line =
            #"{"index": 0, "input": "Q?", "outputs": ["42"], "length": 300, "#
            + #""length_w_model_temp": 300, "answer_prefix": " A:", "token_position_answer": 3}"#
        try Data((line + "\n\n").utf8).write(to: ruler)
        let read = try EvalTaskFile.read(ruler)
        #expect(read.count == 1)
        #expect(read[0].promptText == "Q? A:" && read[0].outputs == ["42"])
        #expect(read[0].metric == .stringMatchAll && read[0].tokensToGenerate == 128)
        try Data(#"{"input": "x"}"#.utf8).write(to: ruler)
        #expect(throws: EvalError.self) { try EvalTaskFile.read(ruler) }
    }

    @Test func cheatingModelScoresOneAndWrongModelZero() throws {
        let niah = EvalSuite.ruler.tasks.filter(\.isNeedleTask)
        let jobs = EvalJob.sweep(
            tasks: niah, lengths: [1024, 2048], samples: 2, seed: 5, depths: [0, 50, 100])
        for (model, expected) in [
            (TextFunctionModel.needleSearch(), 1.0), (TextFunctionModel.constant(" zzz."), 0.0),
        ] {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let harness = try EvalHarness(
                model: model, outputDirectory: directory.url, generator: builtInGenerator,
                showProgress: false)
            let summary = try harness.run(jobs: jobs)
            #expect(summary.samples == jobs.count)
            #expect(summary.overall == expected)
            #expect(summary.cells.allSatisfy { $0.score == expected })
            for name in [
                "results.jsonl", "summary.json", "results.md", "accuracy_vs_length.svg",
                "niah_depth_heatmap.svg",
            ] {
                #expect(
                    FileManager.default.fileExists(atPath: directory.file(name).path), "\(name)")
            }
            let markdown = try String(contentsOf: directory.file("results.md"), encoding: .utf8)
            #expect(markdown.contains("| niah_single_1 | \(expected == 1 ? "100.0" : "0.0") |"))
            #expect(markdown.contains("| task | 1K | 2K |"))
        }
    }

    @Test func answerKeyModelScoresOneOnEveryTask() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let tasks = EvalSuite.ruler.tasks + EvalSuite.babilong.tasks
        let samples = try tasks.map {
            try builtInGenerator.sample($0, length: 2048, index: 0, seed: 6)
        }
        let harness = try EvalHarness(
            model: TextFunctionModel.answerKey(samples), outputDirectory: directory.url,
            generator: builtInGenerator, showProgress: false)
        let summary = try harness.run(samples: samples)
        #expect(summary.samples == tasks.count)
        #expect(summary.overall == 1)
    }

    @Test func interruptedSweepResumesWithoutRedoingSamples() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let jobs = EvalJob.sweep(
            tasks: [.ruler(.niahSingle1), .babilong(.qa1)], lengths: [2048], samples: 3, seed: 2,
            depths: [])
        // Prefill results.jsonl with the first two samples, marked with an impossible score.
        let writer = try JSONLinesWriter(url: directory.file("results.jsonl"))
        for job in jobs.prefix(2) {
            try writer.write(
                EvalResult(
                    suite: job.task.suite, task: job.task.name, length: job.length,
                    index: job.index,
                    depth: nil, score: 0.25, prediction: "prefilled", outputs: [], promptTokens: 0,
                    seconds: 0, needlePositions: [], diagnostics: nil))
        }
        var calls = 0
        let counting = TextFunctionModel { prompt in
            calls += 1
            return NeedleSearch.answer(prompt: prompt)
        }
        let harness = try EvalHarness(
            model: counting, outputDirectory: directory.url, generator: builtInGenerator,
            showProgress: false)
        let summary = try harness.run(jobs: jobs)
        #expect(calls == jobs.count - 2)
        #expect(summary.samples == jobs.count)
        let results = try JSONLines.read(EvalResult.self, from: directory.file("results.jsonl"))
        #expect(results.count == jobs.count)
        #expect(results.filter { $0.prediction == "prefilled" }.count == 2)
        // Running again does nothing new.
        try harness.run(jobs: jobs)
        #expect(calls == jobs.count - 2)
    }

    @Test func reportOfConcatenatedCellsEqualsOneSweep() throws {
        let jobs = EvalJob.sweep(
            tasks: [.ruler(.niahSingle1), .ruler(.vt)], lengths: [1024, 2048], samples: 2,
            seed: 4, depths: [0, 100])
        let whole = try TemporaryDirectory()
        let merged = try TemporaryDirectory()
        defer {
            whole.remove()
            merged.remove()
        }
        let model = TextFunctionModel.needleSearch()
        let expected = try EvalHarness(
            model: model, outputDirectory: whole.url, generator: builtInGenerator,
            showProgress: false
        ).run(jobs: jobs)
        // Each length as its own cell elsewhere; one cell's first sample recorded twice.
        var lines = ""
        for length in [2048, 1024] {
            let cell = try TemporaryDirectory()
            defer { cell.remove() }
            try EvalHarness(
                model: model, outputDirectory: cell.url, generator: builtInGenerator,
                showProgress: false
            ).run(jobs: jobs.filter { $0.length == length })
            lines += try String(contentsOf: cell.file("results.jsonl"), encoding: .utf8)
        }
        lines += lines.split(separator: "\n")[0] + "\n"
        try Data(lines.utf8).write(to: merged.file("results.jsonl"))
        let report = try EvalHarness.report(outputDirectory: merged.url)
        #expect(report.samples == jobs.count)
        #expect(report.cells.map(\.task) == expected.cells.map(\.task))
        #expect(report.cells.map(\.score) == expected.cells.map(\.score))
        #expect(FileManager.default.fileExists(atPath: merged.file("results.md").path))
        #expect(throws: EvalError.self) { try EvalHarness.report(outputDirectory: whole.file("x")) }
    }

    @Test func tinyLanguageModelRunsThroughTheAdapter() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var config = ModelConfig.tiny
        config.maxTrainLen = 2048
        let model = LanguageModel(config: config, seed: 1)
        let adapter = LanguageModelEvaluator(model: model, maximumLength: 700)
        let sample = try builtInGenerator.sample(
            .ruler(.niahSingle1), length: 700, index: 0, seed: 1)
        let harness = try EvalHarness(
            model: adapter, outputDirectory: directory.url, generator: builtInGenerator,
            showProgress: false, collectDiagnostics: true)
        let result = try harness.evaluate(sample)
        #expect(result.promptTokens == promptTokenCount(sample))
        #expect((0...1).contains(result.score))
        let recall = try #require(result.diagnostics?["needle_chunk_recall"])
        #expect((0...1).contains(recall))
        // Above the diagnostics limit the sample still runs (streaming), without diagnostics.
        let long = try builtInGenerator.sample(
            .ruler(.niahSingle1), length: 2048, index: 0, seed: 1)
        let longResult = try harness.evaluate(long)
        #expect(longResult.promptTokens == promptTokenCount(long))
        #expect(longResult.diagnostics == nil)
    }

    @Test func streamingGenerationEqualsFullRecomputation() throws {
        var config = ModelConfig.tiny
        config.window = 8
        config.chunkSize = 4
        let model = LanguageModel(config: config, seed: 2)
        var rng = SplitMix64(seed: 3)
        let prompt = (0..<150).map { _ in Int32(rng.next() % 256) }
        let streamed = try LanguageModelEvaluator(model: model, stopToken: nil)
            .generate(prompt: prompt, maxTokens: 12)
        // The prefill block (small, or larger than the prompt) does not change the answer.
        for block in [7, 4096] {
            let evaluator = LanguageModelEvaluator(model: model, stopToken: nil)
            evaluator.prefillBlock = block
            #expect(try evaluator.generate(prompt: prompt, maxTokens: 12) == streamed)
        }
        var sampler = Sampler()
        var recomputed: [Int32] = []
        model.generate(
            prompt: prompt, maxTokens: 12, sampler: &sampler, contextLimit: 1000, stopToken: nil
        ) { token in
            recomputed.append(token)
            return true
        }
        #expect(streamed.count == 12)
        #expect(streamed == recomputed)
    }

    @Test func synthMixtureMasksOnlyAnswers() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let generator = TaskGenerator(sources: .builtIn, space: .training)
        let manifest = try SynthMixture.write(
            tasks: [.ruler(.niahSingle1), .ruler(.vt), .babilong(.qa2)], lengths: [2048, 3000],
            samples: 2, seed: 0, generator: generator, to: directory.url, shardTokens: 4000)
        #expect(manifest.samples == 12)
        #expect(manifest.shards.count > 1)
        #expect(
            manifest.reportLine(output: "data/synth")
                == "wrote 12 samples, \(manifest.tokens) tokens (\(manifest.answerTokens) answer "
                + "tokens) in \(manifest.shards.count) shards to data/synth")
        #expect(manifest.skippedLine(requested: 12) == nil)
        #expect(
            manifest.skippedLine(requested: 15)
                == "skipped 3 samples whose length is too short for their task")
        var tokens = 0
        var masked = 0
        for name in manifest.shards {
            let reader = try TokenShardReader(url: directory.file(name))
            #expect(reader.hasLossMask)
            let all = reader.allTokens()
            let mask = reader.lossMask(in: 0..<reader.tokenCount)
            tokens += all.count
            masked += mask.reduce(0) { $0 + Int($1) }
            // Every masked token is an answer byte or EOS: the mask starts right after a prompt.
            for (i, bit) in mask.enumerated() where bit == 1 && (i == 0 || mask[i - 1] == 0) {
                #expect(all[i] == Int32(UInt8(ascii: " ")))
            }
        }
        #expect(tokens == manifest.tokens && masked == manifest.answerTokens)
        #expect(masked < tokens / 20)
        // What `hsa train` reads: format 2, every shard checksummed, no warning.
        let training = try DataManifest.load(from: directory.url)
        #expect(training.version == 2 && training.shards.allSatisfy { $0.sha256 != nil })
        #expect(try training.verifyShards(in: directory.url) == nil)
    }
}
