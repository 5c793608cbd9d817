import HSACore
import HSAModel

/// The streaming form of an `attention: landmark` model (docs/MODEL-NOTES.md "Landmark
/// Attention baseline"): tokens go in blocks of any size, the stream inserts a landmark row
/// (token V of the extended embedding table) after every `landmark_block` tokens exactly where
/// `LanguageModel.forward` does, and every row runs through all layers (lower, then upper) at
/// once. Each layer's `LayerState` is its block cache: the keys and values of every row so far
/// and the landmark keys. Retrieval and attention: `CPU.landmarkCachedAttentionForward`.
///
/// Memory grows linearly with the context (every key and value is kept); each row attends to
/// its own block and the `top_k` earlier blocks, so attention work per token is bounded and only
/// the landmark scoring (one dot product per earlier block) grows with the context.
final class LandmarkStream {
    private let config: ModelConfig
    private let weights: ModelWeights
    private let layer: StreamingLayer
    /// One block cache per layer: the lower layers, then the upper ones.
    private let states: [LayerState]
    /// Rows of the stream so far: tokens plus one landmark per complete block.
    private(set) var rowCount = 0
    /// Tokens so far.
    private(set) var tokenCount = 0

    init(config: ModelConfig, weights: ModelWeights, layer: StreamingLayer) {
        precondition(config.usesLandmarks, "a landmark stream runs `attention: landmark` models")
        (self.config, self.weights, self.layer) = (config, weights, layer)
        states = (weights.lower + weights.upper).map { _ in
            LayerState(config: config, firstPosition: 0)
        }
    }

    /// Bytes held by the block caches.
    var allocatedBytes: Int { states.reduce(0) { $0 + $1.allocatedBytes } }

    /// Runs `tokens` (at least one) through every layer, with the landmark rows they complete,
    /// and returns the last token's output row (1, C): what the final norm reads.
    func consume(_ tokens: [Int32]) throws -> Tensor {
        precondition(!tokens.isEmpty, "a landmark stream consumes at least one token")
        let c = config.dModel
        let s = config.landmarkBlock
        let landmark = Int32(config.vocabSize)
        var rows: [Int32] = []
        rows.reserveCapacity(tokens.count + tokens.count / s + 1)
        var lastToken = 0
        for token in tokens {
            lastToken = rows.count
            rows.append(token)
            tokenCount += 1
            // The landmark closes its block at once; no token before it reads it.
            if tokenCount % s == 0 { rows.append(landmark) }
        }
        let n = rows.count
        guard let table = weights.embeddingWithLandmark else {
            preconditionFailure("a landmark model has an extended embedding table")
        }
        let x = Tensor(shape: [n, c])
        rows.withUnsafeBufferPointer { ids in
            guard let ids = ids.baseAddress else { return }
            layer.backend.embeddingForward(
                out: x.data, tokens: ids, table: table.data, rows: n, channels: c)
        }
        for (w, state) in zip(weights.lower + weights.upper, states) {
            try layer.forward(
                x, rows: n, firstPosition: rowCount, weights: w, hsa: nil, state: state,
                memory: nil)
        }
        rowCount += n
        let out = Tensor(shape: [1, c])
        withExtendedLifetime(x) { layer.backend.copy(out.data, x.data + lastToken * c, count: c) }
        return out
    }
}
