import Foundation
import HSACPU
import HSACore
import HSATestSupport
import Testing

// YaRN's frequencies against values computed with Hugging Face transformers' formula
// (`_compute_yarn_parameters`, reimplemented in PyTorch float64), and what the CPU rotation
// does with them.

@Suite struct RotaryEmbeddingTests {
    /// theta 10000, HS 16, factor 4, original length 256: pairs 0..<4 ramp from kept to
    /// slowed by 4 (correction range [0, 4]), the rest are slowed by 4.
    @Test func yarnFrequenciesMatchTheReferenceFormula() {
        let yarn = YaRNScaling(factor: 4, originalLength: 256)
        let frequencies = RotaryEmbedding(theta: 10_000, yarn: yarn).inverseFrequencies(
            headDim: 16)
        let reference = [
            1.0, 2.569350598887e-01, 6.25e-02, 1.383496476324e-02, 2.5e-03, 7.905694150421e-04,
            2.5e-04, 7.905694150421e-05,
        ]
        #expect(frequencies.count == reference.count)
        for (got, want) in zip(frequencies, reference) {
            #expect(abs(got - want) <= 1e-11 * want, "\(got) vs \(want)")
        }
        #expect(abs(yarn.attentionFactor - 1.138629436111989) < 1e-12)
        #expect(RotaryEmbedding(theta: 10_000).scale == 1)
    }

    /// HS 64, factor 8, original length 4096 (correction range [10, 23]): pairs up to 10 keep
    /// their frequency, pairs from 23 on are slowed by exactly 8, the ones between blend.
    @Test func yarnKeepsFastPairsAndSlowsSlowOnes() {
        let plain = RotaryEmbedding(theta: 10_000).inverseFrequencies(headDim: 64)
        let scaled = RotaryEmbedding(
            theta: 10_000, yarn: YaRNScaling(factor: 8, originalLength: 4096)
        ).inverseFrequencies(headDim: 64)
        for i in 0...10 { #expect(scaled[i] == plain[i]) }
        for i in 23..<32 { #expect(scaled[i] == plain[i] / 8) }
        for i in 11..<23 { #expect(scaled[i] < plain[i] && scaled[i] > plain[i] / 8) }
        // Reference values at pairs 0, 8, 16, 24.
        for (i, want) in [(0, 1.0), (8, 1e-1), (16, 5.961538461538e-03), (24, 1.25e-04)] {
            #expect(abs(scaled[i] - want) <= 1e-11 * want, "pair \(i)")
        }
    }

    /// With YaRN cos and sin carry the attention factor a: forward then backward multiplies
    /// by a squared.
    @Test func yarnRotationScalesByTheAttentionFactor() {
        var rng = SplitMix64(seed: 7)
        let (rows, heads, headDim) = (4, 2, 16)
        let positions = (0..<rows).map { _ in Int32(rng.next() % 5000) }
        let x = (0..<rows * heads * headDim).map { _ in Float.random(in: -1...1, using: &rng) }
        let yarn = RotaryEmbedding(theta: 500, yarn: YaRNScaling(factor: 4, originalLength: 64))
        var roundTrip = x
        for direction in [RopeDirection.forward, .backward] {
            CPU.rope(
                &roundTrip, positions: positions, rows: rows, heads: heads, headDim: headDim,
                rotary: yarn, direction: direction)
        }
        let a2 = Float(yarn.scale * yarn.scale)
        for (got, start) in zip(roundTrip, x) { #expect(abs(got - a2 * start) <= 1e-5) }
    }
}
