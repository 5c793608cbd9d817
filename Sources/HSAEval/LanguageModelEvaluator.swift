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
    /// The tokenizer the model was trained with.
    public let tokenizer: any Tokenizer
    /// Prompts longer than this keep chunk keys/values on disk.
    public var diskStoreThreshold = 1 << 20
    /// Prompt tokens run through the layers at once. On a GPU, large blocks amortize the
    /// launches of a small model's many tiny kernels; on the CPU they only cost scratch memory.
    public var prefillBlock = 1024

    /// Wraps `model`, whose prompts and outputs are in `tokenizer`'s tokens.
    public init(
        model: LanguageModel, tokenizer: any Tokenizer = ByteTokenizer(),
        stopToken: Int32? = 257, maximumLength: Int = 16_384
    ) {
        self.model = model
        self.tokenizer = tokenizer
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
        let session = try StreamingSession(model: model, storage: storage, maxBlock: prefillBlock)
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

    /// For HSA models and prompts up to `maximumLength`: one forward pass over the prompt and,
    /// at its last position (where the answer is generated), for each HSA layer `i` (bottom to
    /// top) `layer{i}.recall`, the fraction of KV heads whose top-k selection includes a chunk
    /// holding an answer needle position, and `layer{i}.mass`, the fusion weight (joint fusion:
    /// attention probability) on those chunks averaged over heads; with distractors also
    /// `layer{i}.distractor_mass`, the weight on chunks holding only distractor needles (what
    /// a landmark that cannot tell the keys apart gives away); plus `needle_chunk_recall`, the
    /// recall over all layers. `layer{i}.reach_recall` and `layer{i}.reach_mass` are the best
    /// recall and mass over the positions whose layer-`i` output can still reach the answer
    /// through the sliding windows of the upper layers above it: a model may retrieve at a
    /// question token and carry the value forward, which the answer position alone misses.
    /// nil without HSA layers or needles, or for longer prompts.
    public func retrievalDiagnostics(
        prompt: [Int32], needlePositions: [Int], distractorPositions: [Int] = []
    ) throws -> [String: Double]? {
        guard model.config.usesHSA, !needlePositions.isEmpty, !prompt.isEmpty,
            prompt.count <= maximumLength
        else { return nil }
        try checkVocabulary(prompt)
        let pass = model.forward(tokens: prompt, batch: 1, sequenceLength: prompt.count)
        let needleChunks = Set(needlePositions.map { $0 / model.config.chunkSize })
        // Per position of the widest reach (ending at the answer), per HSA layer.
        let last = prompt.count - 1
        let reaches = hsaLayerReaches()
        let byPosition = (max(0, last - (reaches.max() ?? 1) + 1)...last).map { position in
            pass.chunkRetrieval(of: needleChunks, position: position, config: model.config)
        }
        guard let layers = byPosition.last, !layers.isEmpty else { return nil }
        var diagnostics: [String: Double] = [:]
        for (i, layer) in layers.enumerated() {
            diagnostics["layer\(i).recall"] = layer.recall
            diagnostics["layer\(i).mass"] = layer.mass
        }
        for (i, reach) in reaches.enumerated() {
            let inReach = byPosition.suffix(reach).map { $0[i] }
            diagnostics["layer\(i).reach_recall"] = inReach.map(\.recall).max()
            diagnostics["layer\(i).reach_mass"] = inReach.map(\.mass).max()
        }
        let distractorChunks = Set(distractorPositions.map { $0 / model.config.chunkSize })
            .subtracting(needleChunks)
        if !distractorChunks.isEmpty {
            let distractors = pass.chunkRetrieval(
                of: distractorChunks, position: last, config: model.config)
            for (i, layer) in distractors.enumerated() {
                diagnostics["layer\(i).distractor_mass"] = layer.mass
            }
        }
        diagnostics["needle_chunk_recall"] =
            layers.reduce(0) { $0 + $1.recall } / Double(layers.count)
        return diagnostics
    }

    /// Per HSA layer, bottom to top: how many positions, ending at the answer position, can
    /// pass its output on to the answer. Each upper layer above it attends W positions back
    /// (its own included), widening the reach by W - 1.
    private func hsaLayerReaches() -> [Int] {
        let config = model.config
        return (0..<config.nUpperLayers).filter(config.isHSALayer).map { upper in
            (config.window - 1) * (config.nUpperLayers - 1 - upper) + 1
        }
    }

    private func checkVocabulary(_ prompt: [Int32]) throws {
        let v = model.config.vocabSize
        if let bad = prompt.first(where: { $0 < 0 || Int($0) >= v }) {
            throw EvalError.tokenOutOfVocabulary(token: bad, vocabularySize: v)
        }
    }
}
