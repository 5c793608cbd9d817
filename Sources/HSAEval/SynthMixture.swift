import Foundation
import HSACore
import HSAData
import HSAReport

/// Writes a training mixture of the evaluation tasks as token shards with a loss mask that is 1
/// only on answer tokens. Samples come from a ``TaskGenerator`` in the training
/// ``ValueSpace``, so seeds and values never overlap evaluation's.
public enum SynthMixture {
    /// What was written.
    public struct Manifest: Codable, Sendable, Equatable {
        /// Shard file names, in order.
        public var shards: [String]
        /// Samples written.
        public var samples: Int
        /// Tokens written.
        public var tokens: Int
        /// Tokens with loss mask 1.
        public var answerTokens: Int
        /// Samples per task name.
        public var samplesPerTask: [String: Int]
    }

    /// The tasks `list` names (comma-separated, any suite but `unseen`, whose wordings are
    /// never trained on), or the ruler and babilong tasks for "all".
    /// - Throws: ``EvalError/unknownTask(name:suite:known:)`` for a name of no trainable task.
    public static func tasks(named list: String) throws -> [EvalTask] {
        if list == "all" { return EvalSuite.ruler.tasks + EvalSuite.babilong.tasks }
        let trainable = EvalSuite.allCases.filter { $0 != .unseen }.flatMap(\.tasks)
        return try list.split(separator: ",").map(String.init).map { name in
            guard let task = trainable.first(where: { $0.name == name }) else {
                throw EvalError.unknownTask(
                    name: name, suite: "ruler, babilong or copy", known: trainable.map(\.name))
            }
            return task
        }
    }

    /// The answer text a training sample teaches: " a, b, c." (one label for BABILong).
    public static func answerText(_ sample: EvalSample) -> String {
        if sample.metric == .babilongExact { return " " + (sample.outputs.first ?? "") }
        return " " + sample.outputs.joined(separator: ", ") + "."
    }

    /// The tokens a training sample is scored on: its answer text and EOS.
    public static func answerTokens(_ sample: EvalSample, tokenizer: any Tokenizer) -> [Int32] {
        tokenizer.encode(answerText(sample)) + [tokenizer.eos]
    }

    /// Tokens `[BOS] prompt answer [EOS]` and mask (0 on BOS and prompt, 1 on answer and EOS).
    public static func tokens(
        _ sample: EvalSample, tokenizer: any Tokenizer = ByteTokenizer()
    ) -> (tokens: [Int32], mask: [UInt8]) {
        let prompt = sample.prompt(tokenizer: tokenizer)
        let answer = answerTokens(sample, tokenizer: tokenizer)
        return (
            prompt + answer,
            [UInt8](repeating: 0, count: prompt.count) + [UInt8](repeating: 1, count: answer.count)
        )
    }

    /// Writes `samples` samples of every (task, length) into `directory` as
    /// `train-NNNNN.bin` shards of at most about `shardTokens` tokens of `tokenizer`, plus
    /// `synth.json`, and `manifest.json` and `tokenizer.json` in `hsa data prepare`'s format so
    /// that `hsa train --data DIRECTORY` reads it directly. Lengths count `tokenizer`'s tokens
    /// (``TaskGenerator/trainingSample(_:length:index:seed:tokenizer:)``); lengths that are too
    /// short for a task are skipped for that task.
    @discardableResult
    public static func write(
        tasks: [EvalTask], lengths: [Int], samples: Int, seed: UInt64, generator: TaskGenerator,
        tokenizer: any Tokenizer = ByteTokenizer(), to directory: URL,
        shardTokens: Int = 16 << 20, progress: ProgressBar? = nil
    ) throws -> Manifest {
        let jobs = lengths.flatMap { length in
            tasks.flatMap { task in (0..<samples).map { (task, length, $0) } }
        }
        return try write(
            count: jobs.count, tokenizer: tokenizer, to: directory, shardTokens: shardTokens,
            progress: progress
        ) { number in
            let (task, length, index) = jobs[number]
            return try generator.trainingSample(
                task, length: length, index: index, seed: seed, tokenizer: tokenizer)
        }
    }

    /// Writes the samples `sample(0)`, ..., `sample(count - 1)` in `tokenizer`'s tokens as
    /// ``write(tasks:lengths:samples:seed:generator:tokenizer:to:shardTokens:progress:)`` does;
    /// a sample that throws ``EvalError/lengthTooShort(task:length:minimum:)`` or
    /// ``EvalError/exceedsTokenBudget(task:length:tokens:)`` is skipped.
    @discardableResult
    public static func write(
        count: Int, tokenizer: any Tokenizer = ByteTokenizer(), to directory: URL,
        shardTokens: Int = 16 << 20, progress: ProgressBar? = nil,
        sample: (Int) throws -> EvalSample
    ) throws -> Manifest {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var manifest = Manifest(
            shards: [], samples: 0, tokens: 0, answerTokens: 0, samplesPerTask: [:])
        var writer: TokenShardWriter?
        var finished: [DataManifest.Shard] = []
        // Each shard's record comes from its writer, which hashed the file as it finished it.
        func finishShard() throws {
            guard let current = writer, let name = manifest.shards.last else { return }
            try current.finish()
            finished.append(
                .init(trainFile: name, tokens: current.tokenCount, sha256: current.sha256))
            writer = nil
        }
        for number in 0..<count {
            defer { progress?.update(completed: number + 1) }
            let made: EvalSample
            do {
                made = try sample(number)
            } catch EvalError.lengthTooShort, EvalError.exceedsTokenBudget {
                continue
            }
            let (tokens, mask) = Self.tokens(made, tokenizer: tokenizer)
            if writer == nil {
                let name = DataSplit.train.shardFileName(index: manifest.shards.count)
                writer = try TokenShardWriter(
                    url: directory.appendingPathComponent(name),
                    vocabularySize: tokenizer.vocabularySize, hasLossMask: true)
                manifest.shards.append(name)
            }
            guard let current = writer else { continue }
            try current.append(tokens, lossMask: mask)
            manifest.samples += 1
            manifest.tokens += tokens.count
            manifest.answerTokens += mask.reduce(0) { $0 + Int($1) }
            manifest.samplesPerTask[made.task, default: 0] += 1
            if current.tokenCount >= shardTokens { try finishShard() }
        }
        try finishShard()
        progress?.finish()
        try AtomicFile.writeJSON(manifest, to: directory.appendingPathComponent("synth.json"))
        try writeTrainingManifest(
            shards: finished, tokenizer: tokenizer, shardTokens: shardTokens, to: directory)
        return manifest
    }

    /// `manifest.json` (``DataManifest``'s fields; every shard in the train split, no
    /// documents) and `tokenizer.json` (`tokenizer`'s), what `hsa train` reads.
    static func writeTrainingManifest(
        shards: [DataManifest.Shard], tokenizer: any Tokenizer, shardTokens: Int,
        to directory: URL
    ) throws {
        try tokenizer.save(to: directory.appendingPathComponent("tokenizer.json"))
        let data = DataManifest(
            trainShards: shards, tokenizer: .init(tokenizer), shardTokens: shardTokens,
            trainTokens: shards.map(\.tokens).reduce(0, +))
        try data.write(to: directory)
    }
}
