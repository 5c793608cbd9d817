import Foundation
import HSACore

// Float64 oracle of Landmark Attention (Mohtashami & Jaggi 2023): for each query, the weight of
// every key position written out from the grouped softmax's definition (two-pass softmaxes over
// explicit index sets), then out = Σ_j w_j v_j. It shares no online-softmax or block-as-item
// trick with the kernels (LandmarkAttention.swift). Letters and layouts as in
// `LandmarkAttentionShape`: q (B, T, H, D); k, v (B, T, HKV, D); out (B, T, H, D);
// logSumExp (B, T, H). Query head h reads kv head h / (H / HKV); scores q · k / sqrt(D).

extension Oracle {
    /// The T weights of the query at (b, t, h): for own-block ordinary keys j <= t the outer
    /// softmax p_j; for ordinary keys of an earlier block, p(its landmark) × the block's inner
    /// softmax; 0 for landmarks, future keys and nothing else. Also the outer log-sum-exp.
    public static func landmarkWeights(
        q: [Double], k: [Double], shape: LandmarkAttentionShape, batch b: Int, position t: Int,
        head h: Int
    ) -> (weights: [Double], logSumExp: Double) {
        let (T, H, HKV, D) = (shape.sequenceLength, shape.heads, shape.kvHeads, shape.headDim)
        let g = h / shape.group
        let scale = 1 / Double(D).squareRoot()
        func score(_ j: Int) -> Double {
            var dot = 0.0
            for d in 0..<D {
                dot += q[((b * T + t) * H + h) * D + d] * k[((b * T + j) * HKV + g) * D + d]
            }
            return dot * scale
        }
        func softmax(_ set: [Int]) -> (probabilities: [Double], logSumExp: Double) {
            let scores = set.map(score)
            let maximum = scores.max()!
            let sum = scores.map { exp($0 - maximum) }.reduce(0, +)
            return (scores.map { exp($0 - maximum) / sum }, maximum + log(sum))
        }
        let c = shape.block(of: t)
        let own = (0...t).filter { shape.block(of: $0) == c && !shape.isLandmark($0) }
        let landmarks = (0..<T).filter { shape.isLandmark($0) && shape.block(of: $0) < c }
        let outerSet = own + landmarks
        let (outer, logSumExp) = softmax(outerSet)
        var weights = [Double](repeating: 0, count: T)
        for (j, p) in zip(outerSet, outer) {
            if !shape.isLandmark(j) {
                weights[j] = p
                continue
            }
            let block = (0..<T).filter { shape.block(of: $0) == shape.block(of: j) && $0 != j }
            for (i, r) in zip(block, softmax(block).probabilities) { weights[i] = p * r }
        }
        return (weights, logSumExp)
    }

    /// Landmark Attention forward: out (B, T, H, D) and the outer log-sum-exp (B, T, H).
    public static func landmarkAttentionForward(
        q: [Double], k: [Double], v: [Double], shape: LandmarkAttentionShape
    ) -> (out: [Double], logSumExp: [Double]) {
        let (batch, T, H, HKV, D) = (
            shape.batch, shape.sequenceLength, shape.heads, shape.kvHeads, shape.headDim
        )
        var out = [Double](repeating: 0, count: shape.queryCount)
        var logSumExp = [Double](repeating: 0, count: shape.rowCount)
        for b in 0..<batch {
            for t in 0..<T {
                for h in 0..<H {
                    let row = (b * T + t) * H + h
                    let (weights, lse) = landmarkWeights(
                        q: q, k: k, shape: shape, batch: b, position: t, head: h)
                    logSumExp[row] = lse
                    for (j, w) in weights.enumerated() where w != 0 {
                        for d in 0..<D {
                            out[row * D + d] += w * v[((b * T + j) * HKV + h / shape.group) * D + d]
                        }
                    }
                }
            }
        }
        return (out, logSumExp)
    }

    /// The retrieval step: scores (H, NB) = q_h · k_{L_i} / sqrt(D) and, per head, the K best
    /// blocks (stable sort by descending score, so ties go to the earlier block) listed in
    /// ascending block order, -1 in the slots past NB.
    public static func landmarkRetrieval(
        query: [Double], landmarkKeys: [Double], shape: LandmarkRetrievalShape
    ) -> (scores: [Double], indices: [Int32]) {
        let (H, HKV, D, NB, K) = (
            shape.heads, shape.kvHeads, shape.headDim, shape.blockCount, shape.topK
        )
        var scores = [Double](repeating: 0, count: H * NB)
        var indices = [Int32](repeating: -1, count: H * K)
        for h in 0..<H {
            for i in 0..<NB {
                var dot = 0.0
                for d in 0..<D {
                    dot += query[h * D + d] * landmarkKeys[(i * HKV + h / shape.group) * D + d]
                }
                scores[h * NB + i] = dot / Double(D).squareRoot()
            }
            let ranked = (0..<NB).sorted {
                let (a, b) = (scores[h * NB + $0], scores[h * NB + $1])
                return a != b ? a > b : $0 < $1
            }
            for (slot, i) in ranked.prefix(K).sorted().enumerated() {
                indices[h * K + slot] = Int32(i)
            }
        }
        return (scores, indices)
    }
}
