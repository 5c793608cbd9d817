import Foundation
import HSACore

// Landmark Attention (Mohtashami & Jaggi 2023, arXiv 2305.16300) on the CPU: the training form
// with the grouped softmax, and the retrieval step of inference. Letters and layouts as in
// `LandmarkAttentionShape` / LandmarkAttentionOperands.swift: B batch, T positions (landmarks
// included, the landmark of block c at c (S + 1) + S), H query heads, HKV kv heads, D head
// size, S ordinary tokens per block, G = H / HKV, scores s_j = q · k_j / sqrt(D).
//
// For the query at t in block c the forward treats each earlier block b < c as one item of an
// online softmax, with score s_{L_b} (its landmark key) and value u_b = the inner softmax of the
// block's S ordinary keys applied to their values; the own-block keys are ordinary items:
//   out_t = (Σ_{b<c} e^{s_{L_b}} u_b + Σ_{j ∈ own} e^{s_j} v_j) / (Σ_{b<c} e^{s_{L_b}} + Σ_own e^{s_j})
// which is the grouped softmax written out. Work is O(T² D) per head like dense attention: the
// training form is not sparse; only inference (top-k blocks, `landmarkRetrieval`) is.
//
// Numerics: each output row is written by one work item with loops in a fixed order, so
// results do not depend on the thread count.

// MARK: - Forward

extension CPU {
    /// Landmark Attention forward (training form, every earlier block visible through its
    /// landmark).
    /// - Parameters:
    ///   - results: out (B, T, H, D) and the outer log-sum-exp (B, T, H), overwritten.
    ///   - inputs: q (B, T, H, D), k and v (B, T, HKV, D), positional encoding already applied.
    ///   - shape: the sizes and the block size S.
    public static func landmarkAttentionForward(
        into results: LandmarkAttentionResults, inputs: LandmarkAttentionInputs,
        shape: LandmarkAttentionShape
    ) {
        let (batch, T, H, _, D, S, _, _) = shape.checkedSizes()
        let NB = shape.blockCount
        // Items: (batch row, head, block of query rows); later blocks cost more.
        rowParallel(batch * H * NB, workPerRow: (S + 1) * T * D) { item in
            let (row, c) = (item / NB, item % NB)
            let (b, h) = (row / H, row % H)
            let sequence = LandmarkHeadSequence(inputs, shape: shape, batchRow: b, head: h)
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: S)
            let blockOut = UnsafeMutablePointer<Float>.allocate(capacity: D)
            defer {
                scores.deallocate()
                blockOut.deallocate()
            }
            for t in (c * (S + 1))..<min(T, (c + 1) * (S + 1)) {
                let index = (b * T + t) * H + h
                results.logSumExp[index] = sequence.forwardRow(
                    t, out: results.out + index * D, scores: scores, blockOut: blockOut)
            }
        }
    }
}

extension LandmarkHeadSequence {
    /// The grouped softmax of the query at t: writes out_t (D values at `out`) and returns the
    /// outer log-sum-exp. Scratch: `scores` (S), `blockOut` (D).
    func forwardRow(
        _ t: Int, out: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>,
        blockOut: UnsafeMutablePointer<Float>
    ) -> Float {
        groupedSoftmaxRow(
            query: query(t), blocks: 0..<(t / (blockSize + 1)), ownKeys: ownKeys(t), out: out,
            scores: scores, blockOut: blockOut)
    }

    /// The grouped softmax of the query `qt` over the earlier `blocks` (each through its
    /// landmark, ascending) and the own-block keys `ownKeys`: writes D values at `out` and
    /// returns the outer log-sum-exp. The training form passes every earlier block, streaming
    /// inference the retrieved ones; the loop order is the same, so with every block the two
    /// agree bit for bit. Scratch: `scores` (S), `blockOut` (D).
    func groupedSoftmaxRow<Blocks: Sequence<Int>>(
        query qt: UnsafePointer<Float>, blocks: Blocks, ownKeys: Range<Int>,
        out: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>,
        blockOut: UnsafeMutablePointer<Float>
    ) -> Float {
        let (D, S) = (headDim, blockSize)
        var maximum = -Float.infinity
        var sum: Float = 0
        out.update(repeating: 0, count: D)
        // One item of the outer online softmax: score s, value factor * value.
        func accumulate(_ s: Float, _ value: UnsafePointer<Float>, factor: Float) {
            if s > maximum {
                let correction = maximum == -.infinity ? 0 : exp(maximum - s)
                sum *= correction
                for d in 0..<D { out[d] *= correction }
                maximum = s
            }
            let e = exp(s - maximum)
            sum += e
            let w = e * factor
            for d in 0..<D { out[d] += w * value[d] }
        }
        for block in blocks {
            let base = block * (S + 1)
            var innerMax = -Float.infinity
            for i in 0..<S {
                scores[i] = score(qt, base + i)
                innerMax = max(innerMax, scores[i])
            }
            var innerSum: Float = 0
            blockOut.update(repeating: 0, count: D)
            for i in 0..<S {
                let e = exp(scores[i] - innerMax)
                innerSum += e
                let vi = value(base + i)
                for d in 0..<D { blockOut[d] += e * vi[d] }
            }
            accumulate(score(qt, base + S), blockOut, factor: 1 / innerSum)
        }
        for j in ownKeys { accumulate(score(qt, j), value(j), factor: 1) }
        let inverse = 1 / sum
        for d in 0..<D { out[d] *= inverse }
        return maximum + log(sum)
    }
}

// MARK: - Retrieval (inference)

extension CPU {
    /// The retrieval step of Landmark Attention inference: one token's queries score the
    /// landmark keys of NB complete cached blocks, and each query head keeps its K best blocks
    /// (per token and head, the original's default). The streaming path then runs the grouped
    /// softmax over the kept blocks and the current one.
    /// - Parameters:
    ///   - scores: (H, NB) s = q_h · k_{L_i} / sqrt(D), overwritten (the logits of the outer
    ///     softmax; its ranking is the ranking of the landmark probabilities).
    ///   - indices: (H, K) the kept blocks in ascending block order (chronological), -1 in the
    ///     trailing slots when NB < K, overwritten. Ties go to the earlier block.
    ///   - query: (H, D) the token's queries (rotated as the layer's positions dictate).
    ///   - landmarkKeys: (NB, HKV, D) the blocks' landmark keys, oldest first.
    ///   - shape: the sizes.
    public static func landmarkRetrieval(
        scores: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>,
        query: UnsafePointer<Float>, landmarkKeys: UnsafePointer<Float>,
        shape: LandmarkRetrievalShape
    ) {
        let (H, HKV, D, NB, K, G, scale) = shape.checkedSizes()
        var kept: [Int] = []
        kept.reserveCapacity(K + 1)
        for h in 0..<H {
            let q = query + h * D
            let row = scores + h * NB
            for i in 0..<NB {
                let key = landmarkKeys + (i * HKV + h / G) * D
                var dot: Float = 0
                for d in 0..<D { dot += q[d] * key[d] }
                row[i] = dot * scale
            }
            // The K best by score, earlier block first on ties: insertion into a sorted list.
            kept.removeAll(keepingCapacity: true)
            for i in 0..<NB {
                if kept.count == K, !(row[i] > row[kept[K - 1]]) { continue }
                var slot = kept.count
                while slot > 0, row[i] > row[kept[slot - 1]] { slot -= 1 }
                kept.insert(i, at: slot)
                if kept.count > K { kept.removeLast() }
            }
            kept.sort()
            for slot in 0..<K {
                indices[h * K + slot] = slot < kept.count ? Int32(kept[slot]) : -1
            }
        }
    }
}
