import Foundation
import HSACore

/// How strongly one HSA layer retrieves a set of chunks at one position (evaluation
/// diagnostics, MODEL.md "HSA in an upper layer").
public struct ChunkRetrieval: Sendable, Equatable {
    /// Fraction of KV heads whose top-k selection includes at least one of the chunks (0...1).
    public var recall: Double
    /// Weight given to those chunks, averaged over heads (0...1; 0 when none is selected).
    /// Stick-breaking and softmax fusion: the fusion weights of the slots holding them, summed
    /// per KV head and averaged over KV heads. Joint fusion: the attention probability on their
    /// keys, summed per query head and averaged over query heads.
    public var mass: Double

    /// Creates a value.
    public init(recall: Double, mass: Double) {
        self.recall = recall
        self.mass = mass
    }
}

extension LanguageModel.Pass {
    /// The fusion weights (B*T, NKV, K) of every HSA layer, bottom to top (all 0 for joint
    /// fusion, which has none).
    public var fusionWeights: [[Float]] {
        hsaCaches.map { $0.fusionWeights.toArray() }
    }

    /// Retrieval of `chunks` (chunk indices within the sequence) by every HSA layer, bottom to
    /// top, at token `position` of batch row `row`.
    /// - Precondition: `row < batch`, `position < sequenceLength`.
    public func chunkRetrieval(
        of chunks: Set<Int>, position: Int, row: Int = 0, config: ModelConfig
    ) -> [ChunkRetrieval] {
        precondition(row < batch && position < sequenceLength, "position outside the pass")
        let nkv = config.nKvHeads
        let k = config.topK
        let t = row * sequenceLength + position
        return hsaCaches.map { cache in
            var hits = 0
            var mass = 0.0
            for g in 0..<nkv {
                let slot = (t * nkv + g) * k
                var hit = false
                for s in 0..<k where chunks.contains(Int(cache.indices[slot + s])) {
                    hit = true
                    mass += Double(cache.fusionWeights[slot + s])
                }
                if hit { hits += 1 }
            }
            if config.fusion == .joint {
                mass = hits == 0 ? 0 : jointMass(cache, chunks: chunks, t: t, row: row, config)
            } else {
                mass /= Double(nkv)
            }
            return ChunkRetrieval(recall: Double(hits) / Double(nkv), mass: min(max(mass, 0), 1))
        }
    }

    // MARK: - Internals

    private var hsaCaches: [HSASublayer.Cache] {
        upperCaches.compactMap {
            if case .hsa(let cache) = $0 { return cache.hsa }
            return nil
        }
    }

    /// Joint fusion: softmax probability on the keys of the selected chunks in `chunks`,
    /// recomputed from the cached queries, keys and the joint logsumexp (slot 0), summed per
    /// query head and averaged over query heads.
    private func jointMass(
        _ cache: HSASublayer.Cache, chunks: Set<Int>, t: Int, row: Int, _ config: ModelConfig
    ) -> Double {
        let (nh, nkv, hs, k, s) = (
            config.nHeads, config.nKvHeads, config.headDim, config.topK, config.chunkSize
        )
        let chunkCount = memory?.chunkCount ?? 0
        let group = nh / nkv
        let scale = 1 / Float(hs).squareRoot()
        let query = cache.query.data
        let keys = cache.keys.data
        let logSumExp = cache.chunkLogSumExp.data
        var total = 0.0
        for h in 0..<nh {
            let g = h / group
            let slot = (t * nkv + g) * k
            let q = query + (t * nh + h) * hs
            let lse = logSumExp[(t * nh + h) * k]
            for s2 in 0..<k {
                let chunk = Int(cache.indices[slot + s2])
                guard chunk >= 0, chunks.contains(chunk) else { continue }
                for j in 0..<s {
                    let key = keys + ((row * chunkCount + chunk) * s + j) * nkv * hs + g * hs
                    var logit: Float = 0
                    for d in 0..<hs { logit += q[d] * key[d] }
                    total += Double(exp(logit * scale - lse))
                }
            }
        }
        return total / Double(nh)
    }
}
