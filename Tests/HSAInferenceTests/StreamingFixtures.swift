import Foundation
import HSA
import HSATestSupport
import Testing

/// Small models and token streams for the streaming-inference tests.
enum StreamingFixtures {
    /// W 8, S 4, K 2, LL 2, LU 3 with HSA in upper layers 0 and 2, grouped heads (4:2),
    /// DR = HS = 8 (so separate_retrieval_query can be switched off).
    static var config: ModelConfig {
        var config = ModelConfig.tiny
        config.dModel = 32
        config.nLowerLayers = 2
        config.nUpperLayers = 3
        config.hsaLayers = [0, 2]
        config.nHeads = 4
        config.nKvHeads = 2
        config.headDim = 8
        config.dFf = 48
        config.window = 8
        config.chunkSize = 4
        config.topK = 2
        config.retrievalDim = 16
        return config
    }

    /// Every knob that changes inference, one at a time from `config`.
    static var variants: [(String, ModelConfig)] {
        var list: [(String, ModelConfig)] = [("default", config)]
        func add(_ name: String, _ change: (inout ModelConfig) -> Void) {
            var c = config
            change(&c)
            list.append((name, c))
        }
        add("fusion softmax") { $0.fusion = .softmax }
        add("fusion joint") { $0.fusion = .joint }
        add("per_chunk") { $0.retrieval = .perChunk }
        add("landmark encoder_mean") { $0.landmark = .encoderMean }
        add("landmark mean, chunk_kv identity") {
            $0.landmark = .mean
            $0.chunkKv = .identity
        }
        add("no encoder (E 0)") {
            $0.landmark = .mean
            $0.chunkKv = .identity
            $0.encoderLayers = 0
        }
        add("residual sequential") { $0.residual = .sequential }
        add("qk_norm off") { $0.qkNorm = false }
        add("shared retrieval query") { $0.separateRetrievalQuery = false }
        add("attention swa") { $0.attention = .swa }
        add("attention full") { $0.attention = .full }
        add("tied embeddings") { $0.tieEmbeddings = true }
        return list
    }

    /// A model whose weights are large enough that its outputs (and chunk selections) are far
    /// from uniform: std-0.02 matrices become std ~0.3, norm gains spread around 1.
    static func model(_ config: ModelConfig, seed: UInt64 = 7) -> LanguageModel {
        let model = LanguageModel(config: config, seed: seed)
        var rng = SplitMix64(seed: seed &+ 100)
        for spec in model.layout.specs {
            let tensor = model.parameters.tensor(spec.name)
            for i in 0..<tensor.count {
                switch spec.initialization {
                case .ones: tensor[i] = 1 + 0.4 * (Float(rng.nextUniform()) - 0.5)
                case .zeros: tensor[i] = 0.2 * (Float(rng.nextUniform()) - 0.5)
                case .normal: tensor[i] *= 15
                case .uniform, .logOfUniform, .inverseSoftplusOfLogUniform: break  // mamba2 only
                }
            }
        }
        return model
    }

    /// Prefills `tokens` into `session` in blocks of `block`.
    static func prefill(_ session: StreamingSession, _ tokens: ArraySlice<Int32>, block: Int)
        throws
    {
        var start = tokens.startIndex
        while start < tokens.endIndex {
            let end = min(start + block, tokens.endIndex)
            try session.prefill(tokens: Array(tokens[start..<end]))
            start = end
        }
    }

    /// `model.forward`'s logits (V) at the last of `tokens` (one sequence).
    static func lastLogits(_ model: LanguageModel, _ tokens: [Int32]) -> [Float] {
        row(
            model.forward(tokens: tokens, batch: 1, sequenceLength: tokens.count).logits
                .toArray(), tokens.count - 1)
    }

    /// A fresh session of `model` that has read the first `prompt` of `length` random tokens,
    /// with the tokens and the full forward's logits over all of them: the setup of every
    /// decode-against-full-forward test.
    static func promptedSession(_ model: LanguageModel, length: Int, prompt: Int) throws
        -> (session: StreamingSession, tokens: [Int32], logits: [Float])
    {
        let tokens = Self.tokens(length, seed: 9)
        let logits = model.forward(tokens: tokens, batch: 1, sequenceLength: length).logits
            .toArray()
        let session = try StreamingSession(model: model)
        try session.prefill(tokens: Array(tokens[0..<prompt]))
        return (session, tokens, logits)
    }

    /// `count` random token ids.
    static func tokens(_ count: Int, seed: UInt64 = 1) -> [Int32] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in Int32(rng.next() % 259) }
    }

    /// The full forward's logits at position `t` (V).
    static func row(_ logits: [Float], _ t: Int, vocab: Int = 259) -> [Float] {
        Array(logits[(t * vocab)..<((t + 1) * vocab)])
    }

    /// Prefills `tokens` in blocks of `block` and expects the session's logits to equal
    /// `expected`, the full forward's last row.
    static func expectPrefillMatches(
        _ session: StreamingSession, tokens: [Int32], expected: [Float], block: Int,
        atol: Double = 1e-4, rtol: Double = 1e-4, label: String
    ) throws {
        try prefill(session, tokens[...], block: block)
        let report = compare(try session.logits(), expected, atol: atol, rtol: rtol, label: label)
        #expect(report.passed, "\(report)")
    }

    /// Decodes `tokens[positions]` one at a time and expects each step's logits to equal row
    /// t of the full forward's `logits`.
    static func expectDecodeMatches(
        _ session: StreamingSession, tokens: [Int32], logits: [Float], positions: Range<Int>,
        atol: Double = 1e-4, rtol: Double = 1e-4, label: String = ""
    ) throws {
        for t in positions {
            let step = try session.decodeNext(token: tokens[t])
            let report = compare(
                step, row(logits, t), atol: atol, rtol: rtol, label: "\(label)position \(t)")
            #expect(report.passed, "\(report)")
        }
    }
}
