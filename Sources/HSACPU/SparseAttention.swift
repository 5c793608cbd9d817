import Foundation
import HSACore

// Hierarchical sparse attention forward: attention inside each selected chunk, then fusion.
// Dimension letters: B batch, T sequence, NH query heads, NKV key/value heads, HS head size,
// S chunk size, NC complete chunks, K top-k chunks, G = NH / NKV query heads per KV head.
//
// Per token t, KV head g and selected slot k (chunk i = indices[t, g, k]), each query head h of
// group g attends over the S keys of chunk i: o[t,h,k] = softmax_j(q·K[i,j] / sqrt(HS)) V[i,j].
// The slots are fused with weights w[t,g,k] from the scores (stick-breaking in recency order, or
// softmax): y[t,h] = Σ_k w_k o[t,h,k]. `joint` instead takes one softmax over the keys of all
// selected chunks. No positional encoding anywhere; a token with no selected chunk outputs zero.

// MARK: - Forward

extension CPU {
    /// Sparse attention over the selected chunks, fused across chunks.
    /// - Parameters:
    ///   - results: overwritten (see `SparseAttentionResults` for what `joint` leaves unused).
    ///   - inputs: queries, chunk keys and values, and the selection.
    ///   - shape: the sizes and the fusion.
    public static func sparseAttentionForward(
        into results: SparseAttentionResults, inputs: SparseAttentionInputs,
        shape: SparseAttentionShape
    ) {
        let (batch, T, NH, NKV, HS, S, NC, K, G, scale) = shape.checkedAttentionSizes()
        let fusion = shape.fusion
        let rows = batch * T
        let rowsPerBlock = 8
        let blocks = (rows + rowsPerBlock - 1) / rowsPerBlock
        let keyStride = NKV * HS  // Distance between consecutive keys of one chunk and group.
        // Keys transposed to (B, NC, NKV, HS, S) so the logits of a chunk vectorize over keys.
        let keysT = transposedChunks(
            inputs.keys, batch: batch, chunkCount: NC, chunkSize: S, kvHeads: NKV, headDim: HS)
        defer { keysT.deallocate() }

        rowParallel(blocks, workPerRow: rowsPerBlock * NH * K * S * HS) { block in
            // Scratch, once per block: the probabilities of one head over all selected keys.
            let probs = UnsafeMutablePointer<Float>.allocate(capacity: K * S)
            defer { probs.deallocate() }
            for row in (block * rowsPerBlock)..<min((block + 1) * rowsPerBlock, rows) {
                let b = row / T
                for g in 0..<NKV {
                    let slot = (row * NKV + g) * K
                    let slotIndices = inputs.indices + slot
                    let weights = results.fusionWeights + slot
                    let selected = selectedCount(slotIndices, topK: K, chunkCount: NC)
                    fusionWeightsForward(
                        weights: weights, scores: inputs.scores + slot, count: selected, topK: K,
                        fusion: fusion)
                    for hh in 0..<G {
                        let h = g * G + hh
                        let qh = inputs.q + (row * NH + h) * HS
                        let y = results.out + (row * NH + h) * HS
                        let lse = results.chunkLogSumExp + (row * NH + h) * K
                        for d in 0..<HS { y[d] = 0 }
                        for k in 0..<K { lse[k] = 0 }
                        if fusion == .joint {
                            if selected == 0 { continue }
                            // Slot k's chunk, as a row of (B, NC).
                            func chunkRow(_ k: Int) -> Int { b * NC + Int(slotIndices[k]) }
                            lse[0] = jointChunkAttention(
                                y, probs: probs, q: qh, selected: selected,
                                keysT: { k in
                                    UnsafePointer(keysT + (chunkRow(k) * NKV + g) * HS * S)
                                },
                                values: { k in inputs.values + (chunkRow(k) * S * NKV + g) * HS },
                                valueStride: keyStride, chunkSize: S, headDim: HS, scale: scale)
                            continue
                        }
                        let outputs = results.chunkOutputs + (row * NH + h) * K * HS
                        for k in 0..<K {
                            let o = outputs + k * HS
                            if k >= selected {
                                for d in 0..<HS { o[d] = 0 }
                                continue
                            }
                            let chunkBase = ((b * NC + Int(slotIndices[k])) * S * NKV + g) * HS
                            let chunkT = keysT + ((b * NC + Int(slotIndices[k])) * NKV + g) * HS * S
                            lse[k] = chunkAttentionForward(
                                out: o, probs: probs, q: qh, keysT: chunkT,
                                values: inputs.values + chunkBase, keyStride: keyStride, rows: S,
                                headDim: HS, scale: scale)
                            addScaled(y, o, weights[k], count: HS)
                        }
                    }
                }
            }
        }
    }
}

// MARK: - Helpers

extension CPU {
    /// The number of filled slots of one selection (filled slots come first; -1 marks empty).
    static func selectedCount(
        _ slotIndices: UnsafePointer<Int32>, topK: Int, chunkCount: Int
    ) -> Int {
        var count = 0
        while count < topK && slotIndices[count] >= 0 {
            precondition(
                Int(slotIndices[count]) < chunkCount,
                "chunk index \(slotIndices[count]) out of range 0..<\(chunkCount)")
            count += 1
        }
        return count
    }

    /// Fusion weights of one (token, KV head) from the selected scores, in slot (recency) order.
    /// Slots from `count` to `topK` (and all slots for `joint`) get weight 0.
    static func fusionWeightsForward(
        weights: UnsafeMutablePointer<Float>, scores: UnsafePointer<Float>, count: Int,
        topK: Int, fusion: FusionKind
    ) {
        for k in 0..<topK { weights[k] = 0 }
        switch fusion {
        case .stickBreaking:
            // w_k = exp(s_k - Σ_{j<=k} softplus(s_j)): log-space form of the stick-breaking
            // product sigmoid(s_k) Π_{j<k} (1 - sigmoid(s_j)).
            var consumed: Float = 0
            for k in 0..<count {
                consumed += stickSoftplus(scores[k])
                weights[k] = exp(scores[k] - consumed)
            }
        case .softmax:
            if count == 0 { return }
            let sum = softmaxNumerators(weights, of: scores, count: count).sum
            let inverse = 1 / sum
            for k in 0..<count { weights[k] *= inverse }
        case .joint:
            return
        }
    }

    /// `out[j] = exp(x[j] - max x)` for `j < count` (`out` may be `x`): a softmax's numerators.
    /// - Returns: the maximum and the numerators' sum, in index order.
    @inline(__always)
    static func softmaxNumerators(
        _ out: UnsafeMutablePointer<Float>, of x: UnsafePointer<Float>, count: Int
    ) -> (max: Float, sum: Float) {
        var maximum = -Float.infinity
        for j in 0..<count { maximum = max(maximum, x[j]) }
        var sum: Float = 0
        for j in 0..<count {
            out[j] = exp(x[j] - maximum)
            sum += out[j]
        }
        return (maximum, sum)
    }

    /// `log(1 + exp(x))` without overflow.
    @inline(__always)
    static func stickSoftplus(_ x: Float) -> Float {
        x > 0 ? x + log1p(exp(-x)) : log1p(exp(x))
    }

    /// `1 / (1 + exp(-x))`, the stick-breaking fraction of a score.
    @inline(__always)
    static func stickSigmoid(_ x: Float) -> Float {
        1 / (1 + exp(-x))
    }

    /// `y += a * x` over `count` elements.
    @inline(__always)
    static func addScaled(
        _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ a: Float, count: Int
    ) {
        for d in 0..<count { y[d] += a * x[d] }
    }

    /// Copies chunk rows (B, NC, S, NKV, HS) into a new (B, NC, NKV, HS, S) buffer, so that a
    /// query's logits over one chunk are a sum of contiguous rows (vectorizes over keys).
    /// The caller deallocates the result.
    static func transposedChunks(
        _ rows: UnsafePointer<Float>, batch: Int, chunkCount: Int, chunkSize: Int, kvHeads: Int,
        headDim: Int
    ) -> UnsafeMutablePointer<Float> {
        let chunkFloats = chunkSize * kvHeads * headDim
        let result = UnsafeMutablePointer<Float>.allocate(
            capacity: max(batch * chunkCount * chunkFloats, 1))
        rowParallel(batch * chunkCount, workPerRow: chunkFloats) { chunk in
            let source = rows + chunk * chunkFloats
            let target = result + chunk * chunkFloats
            for j in 0..<chunkSize {
                for g in 0..<kvHeads {
                    let row = source + (j * kvHeads + g) * headDim
                    let column = target + g * headDim * chunkSize + j
                    for d in 0..<headDim { column[d * chunkSize] = row[d] }
                }
            }
        }
        return result
    }

    /// `logits[j] = scale * Σ_d q[d] keysT[d, j]` for the `rows` keys of one chunk.
    /// - Parameters:
    ///   - logits: (rows) overwritten.
    ///   - q: (HS) the query.
    ///   - keysT: (HS, rows) the chunk's keys of one KV head, transposed.
    @inline(__always)
    static func chunkLogits(
        _ logits: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>,
        keysT: UnsafePointer<Float>, rows: Int, headDim: Int, scale: Float
    ) {
        for j in 0..<rows { logits[j] = 0 }
        addWeightedRows(
            logits, weights: q, weightStride: 1, rows: keysT, rowStride: rows,
            rowCount: headDim, count: rows)
        for j in 0..<rows { logits[j] *= scale }
    }

    /// `out[d] += Σ_r weights[r * weightStride] * rows[r * rowStride + d]` for `d < count`.
    ///
    /// The accumulators stay in registers across all rows (16 or 8 lanes at a time), so each
    /// output element is loaded and stored once; every element sums its rows in order r = 0...
    @inline(__always)
    static func addWeightedRows(
        _ out: UnsafeMutablePointer<Float>, weights: UnsafePointer<Float>, weightStride: Int,
        rows: UnsafePointer<Float>, rowStride: Int, rowCount: Int, count: Int
    ) {
        var d = 0
        while d + 16 <= count {
            addWeightedRowLanes(
                SIMD16<Float>.self, out + d, weights: weights, weightStride: weightStride,
                rows: rows + d, rowStride: rowStride, rowCount: rowCount)
            d += 16
        }
        while d + 8 <= count {
            addWeightedRowLanes(
                SIMD8<Float>.self, out + d, weights: weights, weightStride: weightStride,
                rows: rows + d, rowStride: rowStride, rowCount: rowCount)
            d += 8
        }
        while d < count {
            var acc = out[d]
            for r in 0..<rowCount { acc += weights[r * weightStride] * rows[r * rowStride + d] }
            out[d] = acc
            d += 1
        }
    }

    /// `addWeightedRows` over the `Lanes.scalarCount` elements at `out`, in one register.
    @inline(__always)
    private static func addWeightedRowLanes<Lanes: SIMD>(
        _: Lanes.Type, _ out: UnsafeMutablePointer<Float>, weights: UnsafePointer<Float>,
        weightStride: Int, rows: UnsafePointer<Float>, rowStride: Int, rowCount: Int
    ) where Lanes.Scalar == Float {
        var acc = UnsafeRawPointer(out).loadUnaligned(as: Lanes.self)
        for r in 0..<rowCount {
            let row = UnsafeRawPointer(rows + r * rowStride)
            acc += Lanes(repeating: weights[r * weightStride]) * row.loadUnaligned(as: Lanes.self)
        }
        UnsafeMutableRawPointer(out).storeBytes(of: acc, as: Lanes.self)
    }

    /// `out = Σ_r weights[r] * rows[r * rowStride] / sum` over `count` elements: the softmax-
    /// weighted sum of value rows whose weights `exp(logit - max)` add up to `sum`.
    @inline(__always)
    static func normalizedWeightedRows(
        _ out: UnsafeMutablePointer<Float>, weights: UnsafePointer<Float>, sum: Float,
        rows: UnsafePointer<Float>, rowStride: Int, rowCount: Int, count: Int
    ) {
        for d in 0..<count { out[d] = 0 }
        addWeightedRows(
            out, weights: weights, weightStride: 1, rows: rows, rowStride: rowStride,
            rowCount: rowCount, count: count)
        let inverse = 1 / sum
        for d in 0..<count { out[d] *= inverse }
    }

    /// Joint fusion for one query head: one softmax over the S keys of each of the `selected`
    /// (> 0) chunks, accumulated into `y` (zeroed by the caller) and normalized.
    /// - Parameters:
    ///   - probs: (selected * S) scratch.
    ///   - keysT: the (HS, S) transposed keys of slot k.
    ///   - values: the first value row of slot k; value j at `+ j * valueStride`.
    /// - Returns: the logsumexp of all the logits.
    static func jointChunkAttention(
        _ y: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
        q: UnsafePointer<Float>, selected: Int, keysT: (Int) -> UnsafePointer<Float>,
        values: (Int) -> UnsafePointer<Float>, valueStride: Int, chunkSize S: Int,
        headDim HS: Int, scale: Float
    ) -> Float {
        var maxLogit = -Float.infinity
        for k in 0..<selected {
            let p = probs + k * S
            chunkLogits(p, q: q, keysT: keysT(k), rows: S, headDim: HS, scale: scale)
            for j in 0..<S { maxLogit = max(maxLogit, p[j]) }
        }
        var sum: Float = 0
        for k in 0..<selected {
            let p = probs + k * S
            for j in 0..<S {
                p[j] = exp(p[j] - maxLogit)
                sum += p[j]
            }
            addWeightedRows(
                y, weights: p, weightStride: 1, rows: values(k), rowStride: valueStride,
                rowCount: S, count: HS)
        }
        let inverse = 1 / sum
        for d in 0..<HS { y[d] *= inverse }
        return maxLogit + log(sum)
    }

    /// Softmax attention of one query over the `rows` keys of one chunk.
    /// - Parameters:
    ///   - out: (HS) the attention output, overwritten.
    ///   - probs: (rows) scratch.
    ///   - q: (HS) the query.
    ///   - keysT: (HS, rows) the chunk's keys, transposed.
    ///   - values: first value of the chunk; value j is at `values + j * keyStride`, (HS) each.
    /// - Returns: the logsumexp of the scaled logits.
    static func chunkAttentionForward(
        out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
        q: UnsafePointer<Float>, keysT: UnsafePointer<Float>, values: UnsafePointer<Float>,
        keyStride: Int, rows: Int, headDim: Int, scale: Float
    ) -> Float {
        chunkLogits(probs, q: q, keysT: keysT, rows: rows, headDim: headDim, scale: scale)
        let (maxLogit, sum) = softmaxNumerators(probs, of: probs, count: rows)
        normalizedWeightedRows(
            out, weights: probs, sum: sum, rows: values, rowStride: keyStride, rowCount: rows,
            count: headDim)
        return maxLogit + log(sum)
    }
}
