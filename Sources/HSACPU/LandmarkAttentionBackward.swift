import Foundation
import HSACore

// Landmark Attention backward on the CPU. Letters as in LandmarkAttention.swift. For the query
// at t in block c with outer log-sum-exp M (saved by the forward), Δ = dO_t · out_t and
// dP_j = dO_t · v_j:
//   own-block key j:         p_j = e^{s_j - M},              ds_j = p_j (dP_j - Δ)
//   earlier block b < c:     p_L = e^{s_{L_b} - M}, r_j its inner softmax (recomputed),
//                            E_b = Σ_{j ∈ b} r_j dP_j,       weight w_j = p_L r_j,
//                            ds_j = w_j (dP_j - E_b),        ds_{L_b} = p_L (E_b - Δ)
// then dv_j += w_j dO_t, dq_t += Σ ds_j k_j / sqrt(D), dk_j += ds_j q_t / sqrt(D). The inner
// softmax of a block is recomputed per query from its S scores (no (T, blocks) buffer saved).
// Work items are (batch row, kv head) pairs: each owns the dk / dv rows of its kv head and
// the dq rows of its G query heads, visited in a fixed order (thread-count independent).

extension CPU {
    /// Landmark Attention backward.
    /// - Parameters:
    ///   - gradients: dq (B, T, H, D), dk and dv (B, T, HKV, D), overwritten.
    ///   - dOut: (B, T, H, D) dL/dout.
    ///   - forward: out and logSumExp as written by `landmarkAttentionForward` for `inputs`.
    ///   - inputs: the forward's q, k and v.
    ///   - shape: the forward's shape.
    public static func landmarkAttentionBackward(
        into gradients: LandmarkAttentionGradients, dOut: UnsafePointer<Float>,
        forward: LandmarkAttentionResults, inputs: LandmarkAttentionInputs,
        shape: LandmarkAttentionShape
    ) {
        let (batch, T, H, HKV, D, S, G, _) = shape.checkedSizes()
        rowParallel(batch * HKV, workPerRow: G * T * T * D) { item in
            let (b, g) = (item / HKV, item % HKV)
            let dk = gradients.dk + (b * T * HKV + g) * D
            let dv = gradients.dv + (b * T * HKV + g) * D
            for j in 0..<T {
                (dk + j * HKV * D).update(repeating: 0, count: D)
                (dv + j * HKV * D).update(repeating: 0, count: D)
            }
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * S)
            defer { scratch.deallocate() }
            for h in (g * G)..<((g + 1) * G) {
                let sequence = LandmarkHeadSequence(inputs, shape: shape, batchRow: b, head: h)
                for t in 0..<T {
                    let index = (b * T + t) * H + h
                    sequence.backwardRow(
                        t, dOut: dOut + index * D, out: forward.out + index * D,
                        logSumExp: forward.logSumExp[index], dq: gradients.dq + index * D,
                        dk: dk, dv: dv, scratch: scratch)
                }
            }
        }
    }
}

extension LandmarkHeadSequence {
    /// One query row's share of the backward: writes dq_t (D values at `dq`) and adds into dk
    /// and dv (laid out like k and v of this sequence: row j at `dk + j * keyStride`).
    /// Scratch: 2 S floats.
    func backwardRow(
        _ t: Int, dOut dO: UnsafePointer<Float>, out: UnsafePointer<Float>, logSumExp: Float,
        dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
        dv: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
    ) {
        let (D, S) = (headDim, blockSize)
        let qt = query(t)
        var delta: Float = 0
        for d in 0..<D { delta += dO[d] * out[d] }
        dq.update(repeating: 0, count: D)
        // Score gradient ds of key j: dq += ds k_j (scaled at the end), dk_j += ds q / sqrt(D).
        func backprop(_ ds: Float, _ j: Int) {
            let key = key(j)
            let dkj = dk + j * keyStride
            let step = ds * scale
            for d in 0..<D {
                dq[d] += ds * key[d]
                dkj[d] += step * qt[d]
            }
        }
        func addValueGradient(_ w: Float, _ j: Int) {
            let dvj = dv + j * keyStride
            for d in 0..<D { dvj[d] += w * dO[d] }
        }
        func valueDot(_ j: Int) -> Float {
            let vj = value(j)
            var dot: Float = 0
            for d in 0..<D { dot += dO[d] * vj[d] }
            return dot
        }
        let (r, dP) = (scratch, scratch + S)
        for block in 0..<(t / (S + 1)) {
            let base = block * (S + 1)
            var innerMax = -Float.infinity
            for i in 0..<S {
                r[i] = score(qt, base + i)
                innerMax = max(innerMax, r[i])
            }
            var innerSum: Float = 0
            for i in 0..<S {
                r[i] = exp(r[i] - innerMax)
                innerSum += r[i]
                dP[i] = valueDot(base + i)
            }
            var e: Float = 0
            for i in 0..<S {
                r[i] /= innerSum
                e += r[i] * dP[i]
            }
            let pL = exp(score(qt, base + S) - logSumExp)
            for i in 0..<S {
                let w = pL * r[i]
                addValueGradient(w, base + i)
                backprop(w * (dP[i] - e), base + i)
            }
            backprop(pL * (e - delta), base + S)
        }
        for j in ownKeys(t) {
            let p = exp(score(qt, j) - logSumExp)
            addValueGradient(p, j)
            backprop(p * (valueDot(j) - delta), j)
        }
        for d in 0..<D { dq[d] *= scale }
    }
}
