import Foundation
import HSAData
import HSAModel

/// Adapts an `HSAModel.LanguageModel` to ``EvaluationModel``: greedy decoding through
/// `LanguageModel.generate`, which recomputes a full forward pass per new token. That is fine
/// for short prompts; above `maximumLength` it refuses, since the streaming engine is needed.
public final class LanguageModelEvaluator: EvaluationModel {
    /// The wrapped model.
    public let model: LanguageModel
    /// Largest prompt + answer length accepted (default 16K tokens).
    public let maximumLength: Int
    /// Token that ends generation (the tokenizer's EOS), if any.
    public let stopToken: Int32?

    /// Wraps `model`.
    public init(model: LanguageModel, stopToken: Int32? = 257, maximumLength: Int = 16_384) {
        self.model = model
        self.stopToken = stopToken
        self.maximumLength = maximumLength
    }

    /// The model's vocabulary size.
    public var vocabularySize: Int { model.config.vocabSize }

    /// Greedy continuation of `prompt`.
    /// - Throws: ``EvalError/needsStreamingEngine(length:maximum:)`` above `maximumLength`,
    ///   ``EvalError/tokenOutOfVocabulary(token:vocabularySize:)`` for a bad prompt token.
    public func generate(prompt: [Int32], maxTokens: Int) throws -> [Int32] {
        try check(prompt, extra: maxTokens)
        var sampler = Sampler()
        var output: [Int32] = []
        model.generate(
            prompt: prompt, maxTokens: maxTokens, sampler: &sampler,
            contextLimit: prompt.count + maxTokens, stopToken: stopToken
        ) { token in
            output.append(token)
            return true
        }
        return output
    }

    /// For HSA models: one forward pass over the prompt; at its last position, the fraction of
    /// (HSA layer, KV head) selections that include a chunk holding a needle's first token
    /// (`needle_chunk_recall`). nil without HSA layers or needles.
    public func retrievalDiagnostics(prompt: [Int32], needlePositions: [Int]) throws
        -> [String: Double]?
    {
        guard model.config.usesHSA, !needlePositions.isEmpty, !prompt.isEmpty else { return nil }
        try check(prompt, extra: 0)
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

    private func check(_ prompt: [Int32], extra: Int) throws {
        guard prompt.count + extra <= maximumLength else {
            throw EvalError.needsStreamingEngine(
                length: prompt.count + extra, maximum: maximumLength)
        }
        let v = model.config.vocabSize
        if let bad = prompt.first(where: { $0 < 0 || Int($0) >= v }) {
            throw EvalError.tokenOutOfVocabulary(token: bad, vocabularySize: v)
        }
    }
}
