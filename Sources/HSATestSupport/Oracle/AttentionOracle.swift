import Foundation
import HSACPU

// Dense masked multi-head attention with grouped-query heads, in Float64: the oracle for
// CPU.attentionForward / attentionBackward. It builds each (T, T) probability matrix outright
// and differentiates the softmax with its full Jacobian (not the D = rowsum(dOut * out)
// shortcut), so it shares no trick with the kernels it checks.
//
// Letters: B batch, T sequence length, NH query heads, NKV key/value heads, HS head size,
// G = NH / NKV. Layouts: q (B, T, NH, HS); k, v (B, T, NKV, HS); out (B, T, NH, HS);
// logSumExp (B, T, NH). Query head h uses kv head h / G; scores are scaled by 1/sqrt(HS).

// MARK: - Attention

extension Oracle {
    /// True when query position `query` may see key position `key` under `mask`.
    public static func attentionVisible(query: Int, key: Int, mask: AttentionMask) -> Bool {
        switch mask {
        case .causal(let window): return key <= query && key > query - window
        case .bidirectional: return true
        }
    }

    /// Dense masked attention forward.
    /// q (B, T, NH, HS), k and v (B, T, NKV, HS) → out (B, T, NH, HS), logSumExp (B, T, NH).
    public static func attentionForward(
        q: [Double], k: [Double], v: [Double], batch: Int, sequenceLength: Int, heads: Int,
        kvHeads: Int, headDim: Int, mask: AttentionMask
    ) -> (out: [Double], logSumExp: [Double]) {
        let geometry = OracleAttentionGeometry(
            sequenceLength: sequenceLength, heads: heads, kvHeads: kvHeads, headDim: headDim,
            mask: mask)
        var out = [Double](repeating: 0, count: batch * sequenceLength * heads * headDim)
        var logSumExp = [Double](repeating: 0, count: batch * sequenceLength * heads)
        for b in 0..<batch {
            for h in 0..<heads {
                let (probabilities, lse) = geometry.probabilities(q: q, k: k, batch: b, head: h)
                for t in 0..<sequenceLength {
                    logSumExp[geometry.row(b, t, h)] = lse[t]
                    for j in 0..<sequenceLength {
                        let p = probabilities[t * sequenceLength + j]
                        if p == 0 { continue }
                        for d in 0..<headDim {
                            out[geometry.row(b, t, h) * headDim + d] +=
                                p * v[geometry.keyRow(b, j, h) * headDim + d]
                        }
                    }
                }
            }
        }
        return (out, logSumExp)
    }

    /// Dense masked attention backward: the gradients of `Σ dOut * out` with respect to q, k
    /// and v (each computed from zero).
    /// dOut (B, T, NH, HS) → dQ (B, T, NH, HS), dK and dV (B, T, NKV, HS).
    public static func attentionBackward(
        dOut: [Double], q: [Double], k: [Double], v: [Double], batch: Int,
        sequenceLength: Int, heads: Int, kvHeads: Int, headDim: Int, mask: AttentionMask
    ) -> (dQ: [Double], dK: [Double], dV: [Double]) {
        let geometry = OracleAttentionGeometry(
            sequenceLength: sequenceLength, heads: heads, kvHeads: kvHeads, headDim: headDim,
            mask: mask)
        let scale = 1 / Double(headDim).squareRoot()
        let length = sequenceLength
        var dQ = [Double](repeating: 0, count: q.count)
        var dK = [Double](repeating: 0, count: k.count)
        var dV = [Double](repeating: 0, count: v.count)
        for b in 0..<batch {
            for h in 0..<heads {
                let (probabilities, _) = geometry.probabilities(q: q, k: k, batch: b, head: h)
                for t in 0..<length {
                    let queryRow = geometry.row(b, t, h) * headDim
                    // dP[j] = dOut_t . v_j, then the softmax Jacobian: dS = P (dP - P . dP).
                    var probabilityGradients = [Double](repeating: 0, count: length)
                    var weightedSum = 0.0
                    for j in 0..<length {
                        let keyRow = geometry.keyRow(b, j, h) * headDim
                        var dot = 0.0
                        for d in 0..<headDim { dot += dOut[queryRow + d] * v[keyRow + d] }
                        probabilityGradients[j] = dot
                        weightedSum += probabilities[t * length + j] * dot
                    }
                    for j in 0..<length {
                        let p = probabilities[t * length + j]
                        if p == 0 { continue }
                        let keyRow = geometry.keyRow(b, j, h) * headDim
                        let scoreGradient = p * (probabilityGradients[j] - weightedSum) * scale
                        for d in 0..<headDim {
                            dQ[queryRow + d] += scoreGradient * k[keyRow + d]
                            dK[keyRow + d] += scoreGradient * q[queryRow + d]
                            dV[keyRow + d] += p * dOut[queryRow + d]
                        }
                    }
                }
            }
        }
        return (dQ, dK, dV)
    }
}

// MARK: - Helpers

/// Index arithmetic and the dense probability matrix of one (batch item, query head).
private struct OracleAttentionGeometry {
    let sequenceLength: Int
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    let mask: AttentionMask

    /// Flat (B, T, NH) index of a query row.
    func row(_ b: Int, _ t: Int, _ h: Int) -> Int { (b * sequenceLength + t) * heads + h }

    /// Flat (B, T, NKV) index of the key/value row that query head `h` reads at position j.
    func keyRow(_ b: Int, _ j: Int, _ h: Int) -> Int {
        (b * sequenceLength + j) * kvHeads + h / (heads / kvHeads)
    }

    /// The (T, T) softmax probabilities (0 where masked) and the (T) log-sum-exp of one head.
    func probabilities(q: [Double], k: [Double], batch b: Int, head h: Int)
        -> (probabilities: [Double], logSumExp: [Double])
    {
        let length = sequenceLength
        let scale = 1 / Double(headDim).squareRoot()
        var probabilities = [Double](repeating: 0, count: length * length)
        var logSumExp = [Double](repeating: 0, count: length)
        for t in 0..<length {
            var scores = [Double](repeating: -.infinity, count: length)
            for j in 0..<length where Oracle.attentionVisible(query: t, key: j, mask: mask) {
                var dot = 0.0
                for d in 0..<headDim {
                    dot += q[row(b, t, h) * headDim + d] * k[keyRow(b, j, h) * headDim + d]
                }
                scores[j] = dot * scale
            }
            let maximum = scores.max() ?? 0
            var sum = 0.0
            for j in 0..<length where scores[j] > -.infinity { sum += exp(scores[j] - maximum) }
            for j in 0..<length where scores[j] > -.infinity {
                probabilities[t * length + j] = exp(scores[j] - maximum) / sum
            }
            logSumExp[t] = maximum + log(sum)
        }
        return (probabilities, logSumExp)
    }
}
