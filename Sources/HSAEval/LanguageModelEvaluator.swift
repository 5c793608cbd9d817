import Foundation
import HSAData
import HSAInference
import HSAModel

/// Adapts an `HSAModel.LanguageModel` to ``EvaluationModel``: greedy decoding through the
/// streaming engine (`StreamingSession`: block-wise prefill in O(T) time, then one token at a
/// time), so any prompt length works. Chunk keys/values stay in RAM up to
/// `diskStoreThreshold` prompt tokens and go to a temporary file above it.
public final class LanguageModelEvaluator: EvaluationModel {
    /// The wrapped model.
    public let model: LanguageModel
    /// Longest prompt for which retrieval diagnostics are computed (they need one full forward
    /// pass; default 16K tokens). Longer prompts get no diagnostics.
    public let maximumLength: Int
    /// Token that ends generation (the tokenizer's EOS), if any.
    public let stopToken: Int32?
    /// Prompts longer than this keep chunk keys/values on disk.
    public var diskStoreThreshold = 1 << 20

    /// Wraps `model`.
    public init(model: LanguageModel, stopToken: Int32? = 257, maximumLength: Int = 16_384) {
        self.model = model
        self.stopToken = stopToken
        self.maximumLength = maximumLength
    }

    /// The model's vocabulary size.
    public var vocabularySize: Int { model.config.vocabSize }

    /// Greedy continuation of `prompt`, at most `maxTokens` tokens, stopping at `stopToken`.
    /// - Throws: ``EvalError/tokenOutOfVocabulary(token:vocabularySize:)`` for a bad prompt
    ///   token; the streaming engine's errors (e.g. a full disk).
    public func generate(prompt: [Int32], maxTokens: Int) throws -> [Int32] {
        try checkVocabulary(prompt)
        guard !prompt.isEmpty, maxTokens > 0 else { return [] }
        let storage: KVStorage =
            prompt.count > diskStoreThreshold
            ? .disk(directory: FileManager.default.temporaryDirectory) : .ram
        let session = try StreamingSession(model: model, storage: storage)
        try session.prefill(tokens: prompt)
        var logits = try session.logits()
        var sampler = Sampler()
        var output: [Int32] = []
        while output.count < maxTokens {
            let next = logits.withUnsafeBufferPointer { sampler.sample($0) }
            if next == stopToken { break }
            output.append(next)
            guard output.count < maxTokens else { break }
            logits = try session.decodeNext(token: next)
        }
        return output
    }

    /// For HSA models and prompts up to `maximumLength`: one forward pass over the prompt; at
    /// its last position, the fraction of
    /// (HSA layer, KV head) selections that include a chunk holding a needle's first token
    /// (`needle_chunk_recall`). nil without HSA layers or needles.
    public func retrievalDiagnostics(prompt: [Int32], needlePositions: [Int]) throws
        -> [String: Double]?
    {
        guard model.config.usesHSA, !needlePositions.isEmpty, !prompt.isEmpty,
            prompt.count <= maximumLength
        else { return nil }
        try checkVocabulary(prompt)
        let pass = model.forward(tokens: prompt, batch: 1, sequenceLength: prompt.count)
        let selections = pass.selections  // per HSA layer: (T, NKV, K)
        guard !selections.isEmpty else { return nil }
        let heads = model.config.nKvHeads
        let k = model.config.topK
        let chunk = model.config.chunkSize
        let needleChunks = Set(needlePositions.map { $0 / chunk })
        let last = prompt.count - 1
        var hits = 0
        var total = 0
        for layer in selections {
            for head in 0..<heads {
                let base = (last * heads + head) * k
                guard base + k <= layer.count else { continue }
                let chosen = layer[base..<(base + k)].map(Int.init)
                total += 1
                if chosen.contains(where: { needleChunks.contains($0) }) { hits += 1 }
            }
        }
        guard total > 0 else { return nil }
        return ["needle_chunk_recall": Double(hits) / Double(total)]
    }

    private func checkVocabulary(_ prompt: [Int32]) throws {
        let v = model.config.vocabSize
        if let bad = prompt.first(where: { $0 < 0 || Int($0) >= v }) {
            throw EvalError.tokenOutOfVocabulary(token: bad, vocabularySize: v)
        }
    }
}
