import Foundation

/// RoPE's rotation frequencies: pair i of a head of size HS turns by position * theta^(-2i/HS),
/// or, with YaRN, by frequencies stretched for contexts longer than the training length.
public struct RotaryEmbedding: Sendable, Equatable {
    /// The RoPE base (rope_theta).
    public var theta: Double
    /// Context extension at evaluation; nil = plain RoPE.
    public var yarn: YaRNScaling?

    /// Plain RoPE with base `theta`, or YaRN-scaled.
    public init(theta: Double, yarn: YaRNScaling? = nil) {
        self.theta = theta
        self.yarn = yarn
    }

    /// The inverse frequency of each of the HS/2 rotation pairs.
    public func inverseFrequencies(headDim: Int) -> [Double] {
        let plain = (0..<headDim / 2).map { i in pow(theta, -Double(2 * i) / Double(headDim)) }
        return yarn?.stretch(plain, theta: theta, headDim: headDim) ?? plain
    }

    /// Factor on cos and sin (YaRN's attention temperature, 1 for plain RoPE): the attention
    /// logits of two rotated vectors scale by its square.
    public var scale: Double { yarn?.attentionFactor ?? 1 }
}

/// YaRN ("NTK-by-parts" interpolation, Peng et al. 2023, as in Hugging Face transformers'
/// `rope_type="yarn"`): pairs that turn many times within the training length keep their
/// frequency (extrapolation), pairs that turn less than once are slowed by `factor`
/// (interpolation), with a linear ramp between; cos and sin gain 0.1 ln(factor) + 1.
public struct YaRNScaling: Sendable, Equatable {
    /// Context extension factor s (> 1): target length / `originalLength`.
    public var factor: Double
    /// The training context length the frequencies are corrected against.
    public var originalLength: Int
    /// Pairs with at least this many turns over `originalLength` keep their frequency.
    public var betaFast: Double
    /// Pairs with at most this many turns are fully interpolated.
    public var betaSlow: Double

    /// YaRN with the published defaults (beta_fast 32, beta_slow 1).
    public init(factor: Double, originalLength: Int, betaFast: Double = 32, betaSlow: Double = 1) {
        self.factor = factor
        self.originalLength = originalLength
        self.betaFast = betaFast
        self.betaSlow = betaSlow
    }

    /// 0.1 ln(s) + 1 for s > 1, else 1.
    public var attentionFactor: Double { factor > 1 ? 0.1 * log(factor) + 1 : 1 }

    /// `plain` (HS/2 inverse frequencies) blended between themselves and themselves / s.
    func stretch(_ plain: [Double], theta: Double, headDim: Int) -> [Double] {
        // The (fractional) pair index that turns `rotations` times over the training length.
        func pairIndex(turning rotations: Double) -> Double {
            Double(headDim) * log(Double(originalLength) / (rotations * 2 * Double.pi))
                / (2 * log(theta))
        }
        let low = max(floor(pairIndex(turning: betaFast)), 0)
        var high = min(ceil(pairIndex(turning: betaSlow)), Double(headDim - 1))
        if high == low { high += 0.001 }
        return plain.enumerated().map { i, frequency in
            let ramp = min(max((Double(i) - low) / (high - low), 0), 1)  // 0 keep .. 1 slow
            return frequency / factor * ramp + frequency * (1 - ramp)
        }
    }
}
