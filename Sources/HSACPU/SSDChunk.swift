import Foundation
import HSACore

// The per-chunk pieces of the chunked SSD scan that the forward and the backward share, for one
// (batch row, head) sequence and one chunk of l <= L tokens starting at token s. Local index i
// is token s + i. With a_i = dt_i A (negative) and the inclusive log-decay cumsum
// cum_i = Σ_{k<=i} a_k, the decay from token j to token i >= j is exp(cum_i - cum_j) <= 1, and
// with S0 the state before the chunk:
//   h_i = exp(cum_i) S0 + Σ_{j<=i} exp(cum_i - cum_j) dt_j x_j B_j^T.

extension SSDHeadSequence {
    /// `cum[i] = Σ_{k<=i} dt_{s+k} A` for i < `length`: the chunk's log-decay cumsum.
    func chunkLogDecay(_ cum: UnsafeMutablePointer<Float>, start s: Int, length: Int) {
        var total: Float = 0
        for i in 0..<length {
            total += dt(s + i) * a
            cum[i] = total
        }
    }

    /// `scores[i * length + j] = C_{s+i} · B_{s+j}` for j <= i < `length` (the causal half of
    /// the chunk's C B^T; the rest is not written). Shared by the heads of a group; recomputed
    /// per head so that heads run in parallel.
    func chunkScores(_ scores: UnsafeMutablePointer<Float>, start s: Int, length: Int) {
        let N = stateDim
        for i in 0..<length {
            let ci = C(s + i)
            for j in 0...i {
                let bj = B(s + j)
                var dot: Float = 0
                for n in 0..<N { dot += ci[n] * bj[n] }
                scores[i * length + j] = dot
            }
        }
    }

    /// Advances `state` (P, N) over the chunk, from S0 to h_{s+l-1}:
    /// `state = exp(cum_{l-1}) state + Σ_j exp(cum_{l-1} - cum_j) dt_j x_j B_j^T`.
    func advanceState(
        _ state: UnsafeMutablePointer<Float>, cum: UnsafePointer<Float>, start s: Int,
        length: Int
    ) {
        let (P, N) = (headDim, stateDim)
        let last = cum[length - 1]
        let decay = exp(last)
        for k in 0..<P * N { state[k] *= decay }
        for j in 0..<length {
            let w = exp(last - cum[j]) * dt(s + j)
            let xj = x(s + j)
            let bj = B(s + j)
            for p in 0..<P {
                let c = w * xj[p]
                let row = state + p * N
                for n in 0..<N { row[n] += c * bj[n] }
            }
        }
    }
}
