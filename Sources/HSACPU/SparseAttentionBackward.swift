import Foundation
import HSACore

// Hierarchical sparse attention backward. Dimension letters as in SparseAttention.swift.
//
// Per token t, KV head g: dw_k = Σ_{h in g} dy_h · o[t,h,k]; the scores get ds through the
// fusion Jacobian (softmax: ds = w (dw - Σ w dw); stick-breaking, with g_k = dw_k w_k in recency
// order: ds_m = g_m - sigmoid(s_m) Σ_{k>=m} g_k; joint: none). Each chunk's attention gets
// do = w_k dy and is differentiated with its saved logsumexp and output.
//
// Determinism: many tokens select the same chunk, so chunk key/value gradients are summed per
// work item (batch, KV head, fixed block of tokens) into private partial buffers, tokens in
// order, and the partials are then added into dKeys/dValues in block order. The blocks depend
// only on the shapes, so results are bitwise identical for every thread count.

// MARK: - Backward

extension CPU {
    /// Backward of `sparseAttentionForward` with the selection held fixed.
    /// - Parameters:
    ///   - dQ: (B, T, NH, HS) gradient of q, overwritten.
    ///   - dKeys: (B, NC, S, NKV, HS) gradient of the chunk keys, accumulated (`+=`).
    ///   - dValues: (B, NC, S, NKV, HS) gradient of the chunk values, accumulated (`+=`).
    ///   - dScores: (B, T, NKV, K) gradient of the selected scores, overwritten (0 in empty slots
    ///     and everywhere for `joint`).
    ///   - dOut: (B, T, NH, HS) gradient of the fused output y.
    ///   - forward: what the forward wrote (`chunkOutputs` unused for `joint`).
    ///   - inputs: the forward's inputs.
    ///   - shape: the forward's sizes and fusion.
    public static func sparseAttentionBackward(
        dQ: UnsafeMutablePointer<Float>, dKeys: UnsafeMutablePointer<Float>,
        dValues: UnsafeMutablePointer<Float>, dScores: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, forward: SparseAttentionResults,
        inputs: SparseAttentionInputs, shape: SparseAttentionShape
    ) {
        let (batch, T, NH, NKV, HS, S, NC, K, G, scale) = shape.checkedAttentionSizes()
        let fusion = shape.fusion
        let (q, keys, indices, scores) = (inputs.q, inputs.keys, inputs.indices, inputs.scores)
        let keyStride = NKV * HS
        if batch == 0 || T == 0 { return }
        // Keys and values transposed to (B, NC, NKV, HS, S): logits and dy·V vectorize over keys.
        let keysT = transposedChunks(
            keys, batch: batch, chunkCount: NC, chunkSize: S, kvHeads: NKV, headDim: HS)
        let valuesT = transposedChunks(
            inputs.values, batch: batch, chunkCount: NC, chunkSize: S, kvHeads: NKV, headDim: HS)
        defer {
            keysT.deallocate()
            valuesT.deallocate()
        }

        // Token blocks: at most `maxTokenBlocks` per sequence, whole chunks each, fixed by shape.
        let maxTokenBlocks = 8
        let chunksPerSequence = (T + S - 1) / S
        let chunksPerBlock = (chunksPerSequence + maxTokenBlocks - 1) / maxTokenBlocks
        let tokensPerBlock = chunksPerBlock * S
        let tokenBlocks = (T + tokensPerBlock - 1) / tokensPerBlock
        // Chunks a block can touch: those eligible for its last token.
        func chunksSeen(_ block: Int) -> Int {
            min(NC, (min((block + 1) * tokensPerBlock, T) - 1) / S)
        }
        // Partial (chunksSeen, S, HS) key and value gradients per item (b, g, block).
        let items = batch * NKV * tokenBlocks
        var partialOffsets = [Int](repeating: 0, count: items + 1)
        for item in 0..<items {
            partialOffsets[item + 1] =
                partialOffsets[item] + chunksSeen(item % tokenBlocks) * S * HS
        }
        let partialCount = partialOffsets[items]
        let partialKeys = UnsafeMutablePointer<Float>.allocate(capacity: max(partialCount, 1))
        let partialValues = UnsafeMutablePointer<Float>.allocate(capacity: max(partialCount, 1))
        partialKeys.initialize(repeating: 0, count: max(partialCount, 1))
        partialValues.initialize(repeating: 0, count: max(partialCount, 1))
        defer {
            partialKeys.deallocate()
            partialValues.deallocate()
        }

        partialOffsets.withUnsafeBufferPointer { offsetBuffer in
            guard let offsets = offsetBuffer.baseAddress else { return }
            rowParallel(items, workPerRow: tokensPerBlock * G * K * S * HS) { item in
                let b = item / (NKV * tokenBlocks)
                let g = (item / tokenBlocks) % NKV
                let block = item % tokenBlocks
                // Scratch, once per item: dy · o[h, k] per head and slot, dw per slot, and two
                // (G, S) rows over the keys of one chunk: w·p and dLogit per head.
                let dyDotO = UnsafeMutablePointer<Float>.allocate(capacity: G * K)
                let dWeights = UnsafeMutablePointer<Float>.allocate(capacity: K)
                let probs = UnsafeMutablePointer<Float>.allocate(capacity: G * S)
                let dLogits = UnsafeMutablePointer<Float>.allocate(capacity: G * S)
                let jointDelta = UnsafeMutablePointer<Float>.allocate(capacity: G)
                defer {
                    dyDotO.deallocate()
                    dWeights.deallocate()
                    probs.deallocate()
                    dLogits.deallocate()
                    jointDelta.deallocate()
                }
                let dKeyPartial = partialKeys + offsets[item]
                let dValuePartial = partialValues + offsets[item]
                let tokenEnd = min((block + 1) * tokensPerBlock, T)
                for t in (block * tokensPerBlock)..<tokenEnd {
                    let row = b * T + t
                    let slot = (row * NKV + g) * K
                    let slotIndices = indices + slot
                    let weights = forward.fusionWeights + slot
                    let slotScores = scores + slot
                    let dSlotScores = dScores + slot
                    let selected = selectedCount(slotIndices, topK: K, chunkCount: NC)
                    for k in 0..<K { dSlotScores[k] = 0 }
                    for hh in 0..<G {
                        let dq = dQ + (row * NH + g * G + hh) * HS
                        for d in 0..<HS { dq[d] = 0 }
                    }
                    if selected == 0 { continue }

                    if fusion != .joint {
                        // dw_k = Σ_h dy_h · o_hk, then ds through the fusion Jacobian.
                        for k in 0..<selected { dWeights[k] = 0 }
                        for hh in 0..<G {
                            let h = g * G + hh
                            let dy = dOut + (row * NH + h) * HS
                            let outputs = forward.chunkOutputs + (row * NH + h) * K * HS
                            for k in 0..<selected {
                                let value = rowDot(dy, outputs + k * HS, count: HS)
                                dyDotO[hh * K + k] = value
                                dWeights[k] += value
                            }
                        }
                        fusionScoresBackward(
                            dScores: dSlotScores, dWeights: dWeights, weights: weights,
                            scores: slotScores, count: selected, fusion: fusion)
                    }

                    // Slot by slot: all heads of the group against one chunk, so the chunk's
                    // key/value gradient rows are updated once per slot with a rank-G sum.
                    let groupQ = q + (row * NH + g * G) * HS  // (G, HS)
                    let groupDy = dOut + (row * NH + g * G) * HS  // (G, HS)
                    let groupOut = forward.out + (row * NH + g * G) * HS  // (G, HS)
                    for hh in 0..<G where fusion == .joint {
                        jointDelta[hh] = rowDot(groupDy + hh * HS, groupOut + hh * HS, count: HS)
                    }
                    for k in 0..<selected {
                        let chunk = Int(slotIndices[k])
                        let chunkBase = ((b * NC + chunk) * S * NKV + g) * HS
                        let chunkT = ((b * NC + chunk) * NKV + g) * HS * S
                        let weight: Float = fusion == .joint ? 1 : weights[k]
                        for hh in 0..<G {
                            let lse = forward.chunkLogSumExp + (row * NH + g * G + hh) * K
                            // joint: one softmax over all selected keys, so delta = dy · y.
                            let delta =
                                fusion == .joint ? jointDelta[hh] : weight * dyDotO[hh * K + k]
                            chunkAttentionBackward(
                                dq: dQ + (row * NH + g * G + hh) * HS,
                                scaledProbs: probs + hh * S, dLogits: dLogits + hh * S,
                                q: groupQ + hh * HS, keys: keys + chunkBase,
                                keysT: keysT + chunkT, valuesT: valuesT + chunkT,
                                keyStride: keyStride, dy: groupDy + hh * HS, weight: weight,
                                delta: delta, logSumExp: fusion == .joint ? lse[0] : lse[k],
                                rows: S, headDim: HS, scale: scale)
                        }
                        // dK_j += Σ_h dLogit[h, j] q_h;  dV_j += Σ_h w p[h, j] dy_h.
                        let dKeyChunk = dKeyPartial + chunk * S * HS
                        let dValueChunk = dValuePartial + chunk * S * HS
                        for j in 0..<S {
                            addWeightedRows(
                                dKeyChunk + j * HS, weights: dLogits + j, weightStride: S,
                                rows: groupQ, rowStride: HS, rowCount: G, count: HS)
                            addWeightedRows(
                                dValueChunk + j * HS, weights: probs + j, weightStride: S,
                                rows: groupDy, rowStride: HS, rowCount: G, count: HS)
                        }
                    }
                }
            }

            // Reduce the partials into dKeys/dValues, blocks in order; rows (b, chunk) disjoint.
            rowParallel(batch * NC, workPerRow: tokenBlocks * S * NKV * HS) { chunkRow in
                let b = chunkRow / max(NC, 1)
                let chunk = chunkRow % max(NC, 1)
                for g in 0..<NKV {
                    for block in 0..<tokenBlocks where chunk < chunksSeen(block) {
                        let item = (b * NKV + g) * tokenBlocks + block
                        let sourceKeys = partialKeys + offsets[item] + chunk * S * HS
                        let sourceValues = partialValues + offsets[item] + chunk * S * HS
                        for j in 0..<S {
                            let target = ((chunkRow * S + j) * NKV + g) * HS
                            addScaled(dKeys + target, sourceKeys + j * HS, 1, count: HS)
                            addScaled(dValues + target, sourceValues + j * HS, 1, count: HS)
                        }
                    }
                }
            }
        }
    }
}

// MARK: - Helpers

extension CPU {
    /// Score gradients of one (token, KV head) from the fusion-weight gradients `dWeights`.
    /// Writes `dScores[0..<count]`; the caller zeroes the empty slots.
    static func fusionScoresBackward(
        dScores: UnsafeMutablePointer<Float>, dWeights: UnsafePointer<Float>,
        weights: UnsafePointer<Float>, scores: UnsafePointer<Float>, count: Int,
        fusion: FusionKind
    ) {
        switch fusion {
        case .stickBreaking:
            // log w_k = s_k - Σ_{j<=k} softplus(s_j), so with g_k = dw_k w_k:
            // ds_m = g_m - sigmoid(s_m) Σ_{k>=m} g_k (suffix sum in recency order).
            var suffix: Float = 0
            for m in stride(from: count - 1, through: 0, by: -1) {
                let gm = dWeights[m] * weights[m]
                suffix += gm
                dScores[m] = gm - stickSigmoid(scores[m]) * suffix
            }
        case .softmax:
            var weighted: Float = 0
            for k in 0..<count { weighted += weights[k] * dWeights[k] }
            for k in 0..<count { dScores[k] = weights[k] * (dWeights[k] - weighted) }
        case .joint:
            return
        }
    }

    /// Backward of `chunkAttentionForward` for one query head and one chunk, whose output
    /// entered the loss as `weight * o`. Accumulates dq; leaves the per-key factors of the
    /// key/value gradients in `dLogits` and `scaledProbs` for the caller's rank-G update.
    /// - Parameters:
    ///   - dq: (HS) query gradient, accumulated.
    ///   - scaledProbs: (rows) `weight * p_j`, overwritten.
    ///   - dLogits: (rows) gradient of the scaled logits times `scale`, overwritten.
    ///   - q: (HS) the query.
    ///   - keys: first key of the chunk; key j is at `keys + j * keyStride`.
    ///   - keysT: (HS, rows) the chunk's keys, transposed.
    ///   - valuesT: (HS, rows) the chunk's values, transposed.
    ///   - dy: (HS) gradient of the fused output; the chunk output's gradient is `weight * dy`.
    ///   - delta: `do · o = weight * (dy · o)` (the softmax backward's row sum).
    ///   - logSumExp: the saved logsumexp of the scaled logits.
    static func chunkAttentionBackward(
        dq: UnsafeMutablePointer<Float>, scaledProbs: UnsafeMutablePointer<Float>,
        dLogits: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>,
        keys: UnsafePointer<Float>, keysT: UnsafePointer<Float>, valuesT: UnsafePointer<Float>,
        keyStride: Int, dy: UnsafePointer<Float>, weight: Float, delta: Float,
        logSumExp: Float, rows: Int, headDim: Int, scale: Float
    ) {
        // Same logits as the forward, then p = exp(logit - lse) and dp_j = weight * dy · V_j.
        chunkLogits(scaledProbs, q: q, keysT: keysT, rows: rows, headDim: headDim, scale: scale)
        chunkLogits(dLogits, q: dy, keysT: valuesT, rows: rows, headDim: headDim, scale: weight)
        for j in 0..<rows {
            let p = exp(scaledProbs[j] - logSumExp)
            dLogits[j] = p * (dLogits[j] - delta) * scale
            scaledProbs[j] = p * weight
        }
        addWeightedRows(
            dq, weights: dLogits, weightStride: 1, rows: keys, rowStride: keyStride,
            rowCount: rows, count: headDim)
    }
}
