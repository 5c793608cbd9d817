import Foundation
import HSACore

// Rotary position embedding, rotate-half (GPT-NeoX / Llama) convention, in place.
// Dimension letters: N rows, H heads, HS head size. Pair i of a head is (x[i], x[i + HS/2]),
// rotated by angle pos * f_i with f_i = theta^(-2i/HS) (or YaRN's stretched f_i, whose cos
// and sin are also scaled by its attention factor; `RotaryEmbedding`):
//   x'[i] = x[i] cos - x[i + HS/2] sin,   x'[i + HS/2] = x[i + HS/2] cos + x[i] sin.

extension CPU {
    /// Rotates every head of every row in place by `direction` times its angles. Forward
    /// applies RoPE; backward rotates by -angle, the transpose of the forward, so that `x`
    /// holding the output's gradient is OVERWRITTEN with the input's.
    /// - Parameters:
    ///   - x: (N, H, HS) query or key rows (or their gradient), rotated in place.
    ///   - positions: (N) Int32 position of each row.
    ///   - rows: N.
    ///   - heads: H.
    ///   - headDim: HS (even).
    ///   - rotary: the frequencies (plain RoPE, or YaRN's with cos and sin scaled by
    ///     `rotary.scale`).
    ///   - direction: forward or backward.
    public static func rope(
        _ x: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, rows: Int, heads: Int,
        headDim: Int, rotary: RotaryEmbedding, direction: RopeDirection
    ) {
        precondition(headDim % 2 == 0, "RoPE needs an even head size, got \(headDim)")
        let half = headDim / 2
        if rows == 0 || heads == 0 || half == 0 { return }
        // Inverse frequencies in Double: fp32 angles lose ~1e-4 rad at long positions, so
        // angles, cos and sin are computed in Double and rounded once.
        let inverseFrequencies = rotary.inverseFrequencies(headDim: headDim)
        let scale = rotary.scale
        let sign = direction.sign
        // cos/sin tables (N, HS/2), computed once per call and shared by all heads of a row.
        var cosines = [Float](repeating: 0, count: rows * half)
        var sines = [Float](repeating: 0, count: rows * half)
        inverseFrequencies.withUnsafeBufferPointer { frequencyBuffer in
            cosines.withUnsafeMutableBufferPointer { cosBuffer in
                sines.withUnsafeMutableBufferPointer { sinBuffer in
                    guard let frequency = frequencyBuffer.baseAddress,
                        let cosTable = cosBuffer.baseAddress, let sinTable = sinBuffer.baseAddress
                    else { return }
                    rowParallel(rows, workPerRow: heads * headDim + 8 * half) { n in
                        let position = Double(positions[n])
                        let cosRow = cosTable + n * half
                        let sinRow = sinTable + n * half
                        for i in 0..<half {
                            let angle = position * frequency[i]
                            cosRow[i] = Float(scale * cos(angle))
                            sinRow[i] = sign * Float(scale * sin(angle))
                        }
                        for h in 0..<heads {
                            let head = x + (n * heads + h) * headDim
                            let second = head + half
                            for i in 0..<half {
                                let a = head[i]
                                let b = second[i]
                                head[i] = a * cosRow[i] - b * sinRow[i]
                                second[i] = b * cosRow[i] + a * sinRow[i]
                            }
                        }
                    }
                }
            }
        }
    }
}
