import Foundation
import HSA
import Testing

/// Training determinism and crash recovery: an interrupted run resumed from its checkpoint
/// produces bit-for-bit the losses and weights of an uninterrupted run.
@Suite struct ResumeTests {
    /// A temporary directory of token shards prepared from generated text.
    static func makeData() throws -> URL {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("hsa-resume-\(UUID().uuidString)")
        let text = root.appendingPathComponent("text")
        try FileManager.default.createDirectory(at: text, withIntermediateDirectories: true)
        var rng = SplitMix64(seed: 5)
        let words = [
            "the", "chunk", "encoder", "reads", "a", "landmark", "while", "tokens", "wait",
        ]
        for document in 0..<6 {
            let body = (0..<800).map { _ in words[Int(rng.next() % UInt64(words.count))] }
            try body.joined(separator: " ").write(
                to: text.appendingPathComponent("doc\(document).txt"), atomically: true,
                encoding: .utf8)
        }
        let tokens = root.appendingPathComponent("tokens")
        _ = try DataPreparer(tokenizer: ByteTokenizer(), options: .init(validationFraction: 0.2))
            .prepare(inputs: [text], outputDirectory: tokens)
        return tokens
    }

    static func options() -> TrainingOptions {
        var options = TrainingOptions()
        options.steps = 6
        options.batchSize = 2
        options.sequenceLength = 32
        options.warmupSteps = 2
        options.evalEvery = 3
        options.evalBatches = 1
        options.checkpointEvery = 3
        options.maxShardBytes = 40_000
        return options
    }

    static func trainer(data: URL, run: URL, options: TrainingOptions = options()) throws
        -> Trainer
    {
        let config = ModelConfig.tiny
        let loader = try TokenDataLoader(
            directory: data, split: .train, batchSize: options.batchSize,
            sequenceLength: options.sequenceLength, seed: options.seed)
        return Trainer(
            model: LanguageModel(config: config, seed: options.seed), options: options,
            source: loader, validation: [], runDirectory: run, tokenizer: ByteTokenizer())
    }

    @Test func resumedRunEqualsUninterruptedRun() throws {
        let data = try Self.makeData()
        let root = data.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: root) }

        var straightLosses: [Double] = []
        let straight = try Self.trainer(data: data, run: root.appendingPathComponent("straight"))
        try straight.run { if case .step(let r) = $0 { straightLosses.append(r.loss) } }

        var resumedLosses: [Double] = []
        let interruptedRun = root.appendingPathComponent("interrupted")
        let first = try Self.trainer(data: data, run: interruptedRun)
        try first.run(stopAfter: 3) { if case .step(let r) = $0 { resumedLosses.append(r.loss) } }
        let second = try Self.trainer(data: data, run: interruptedRun)
        #expect(try second.resumeFromLatestCheckpoint() == 3)
        try second.run { if case .step(let r) = $0 { resumedLosses.append(r.loss) } }

        #expect(straightLosses.count == 6)
        #expect(resumedLosses == straightLosses)
        #expect(
            second.model.parameters.storage.toArray() == straight.model.parameters.storage.toArray()
        )
        #expect(second.optimizer.v.storage.toArray() == straight.optimizer.v.storage.toArray())
        // The loss falls on this repetitive text.
        #expect(straightLosses[5] < straightLosses[0])
    }

    @Test func checkpointsAreShardedAndPruned() throws {
        let data = try Self.makeData()
        let root = data.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run")
        let trainer = try Self.trainer(data: data, run: run)
        try trainer.run { _ in }
        let checkpoints = TrainingCheckpoint.list(runDirectory: run)
        #expect(checkpoints.map(\.lastPathComponent) == ["step-00000003", "step-00000006"])
        let files = try FileManager.default.contentsOfDirectory(atPath: checkpoints[1].path)
        #expect(files.contains("model.safetensors.index.json"))
        #expect(files.contains("optimizer.safetensors.index.json"))
        #expect(files.contains("tokenizer.json"))
        let shardSizes = try files.filter { $0.hasSuffix(".safetensors") }.map {
            try FileManager.default.attributesOfItem(
                atPath: checkpoints[1].appendingPathComponent($0).path)[.size] as? Int ?? 0
        }
        #expect(shardSizes.allSatisfy { $0 < 60_000 })
        // The saved model loads back with identical weights.
        let loaded = try LanguageModel.load(from: checkpoints[1])
        #expect(loaded.parameters.storage.toArray() == trainer.model.parameters.storage.toArray())
        // No temporary directory is left behind.
        let names = try FileManager.default.contentsOfDirectory(
            atPath: run.appendingPathComponent("checkpoints").path)
        #expect(names.allSatisfy { $0.hasPrefix("step-") })
    }
}
