import Foundation
import HSACore

/// Whether an HSA layer still uses what it retrieves, from its fusion weights over a whole
/// pass (training diagnostics). A stick-breaking layer whose mass falls towards 0 has switched
/// retrieval off (its sigmoids saturate and stop passing gradient); a layer whose peak equals
/// mass / top-k weighs every selected chunk alike, i.e. its scores no longer rank anything.
public struct FusionHealth: Sendable, Equatable {
    /// Sum of the fusion weights over the selected chunks, averaged over (token, KV head)
    /// pairs that have at least one eligible chunk (0...1; softmax: 1).
    public var mass: Double
    /// The largest single chunk weight, averaged over the same pairs (0...mass).
    public var peak: Double

    /// Creates a value.
    public init(mass: Double, peak: Double) {
        self.mass = mass
        self.peak = peak
    }
}

extension LanguageModel.Pass {
    /// Fusion health of every HSA layer, bottom to top; empty for joint fusion (which has no
    /// chunk weights) and for models without HSA. Tokens of each row's first chunk, which have
    /// no eligible chunk, are left out.
    public func fusionHealth(config: ModelConfig) -> [FusionHealth] {
        guard config.fusion != .joint else { return [] }
        let (nkv, k, s) = (config.nKvHeads, config.topK, config.chunkSize)
        return fusionWeights.map { weights in  // (B*T, NKV, K)
            var mass = 0.0
            var peak = 0.0
            var pairs = 0
            for row in 0..<batch {
                for position in s..<sequenceLength {
                    let token = row * sequenceLength + position
                    for g in 0..<nkv {
                        let slots = weights[((token * nkv + g) * k)..<((token * nkv + g + 1) * k)]
                        mass += Double(slots.reduce(0, +))
                        peak += Double(slots.max() ?? 0)
                        pairs += 1
                    }
                }
            }
            let count = Double(max(pairs, 1))
            return FusionHealth(mass: mass / count, peak: peak / count)
        }
    }
}
