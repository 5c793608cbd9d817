import Foundation
import HSACore

// Backward of the flash attention in Attention.swift, flash-attention-2 style: probabilities
// are recomputed from the saved logSumExp, and D = rowsum(dOut * out) replaces the softmax
// Jacobian's row sums.
//
// Letters and layouts as in Attention.swift: q, dQ (B, T, NH, HS); k, v, dK, dV
// (B, T, NKV, HS); dOut, out (B, T, NH, HS); logSumExp (B, T, NH); G = NH / NKV.
//
// For one query row i and a visible key j (s = scale * q_i . k_j):
//   p_ij = exp(s_ij - lse_i),  dp_ij = dOut_i . v_j,  ds_ij = p_ij (dp_ij - D_i)
//   dV_j += p_ij dOut_i,  dK_j += ds_ij scale q_i,  dQ_i += ds_ij scale k_j.
// Two passes keep every output owned by one work item (deterministic, no racing `+=`):
// dK/dV items own (batch, kv head, key block) and loop over the rows that see the block in a
// fixed order; dQ items own (batch, kv head, query block). The price is recomputing p and dp
// in both passes. Extra memory: D, (B, T, NH), plus per-item tiles.

// MARK: - Backward

extension CPU {
    /// Multi-head attention backward (grouped-query heads, online-softmax recomputation).
    ///
    /// Overwrites `dQ`, `dK` and `dV` (they are not accumulated into).
    /// - Parameters:
    ///   - dQ: (B, T, NH, HS) gradient of the queries, overwritten.
    ///   - dK: (B, T, NKV, HS) gradient of the keys, overwritten.
    ///   - dV: (B, T, NKV, HS) gradient of the values, overwritten.
    ///   - dOut: (B, T, NH, HS) gradient of the attention output.
    ///   - out: (B, T, NH, HS) the forward's output.
    ///   - logSumExp: (B, T, NH) the forward's log softmax denominators.
    ///   - q: (B, T, NH, HS) queries, as given to the forward.
    ///   - k: (B, T, NKV, HS) keys.
    ///   - v: (B, T, NKV, HS) values.
    ///   - shape: the forward's sizes and mask.
    public static func attentionBackward(
        dQ: UnsafeMutablePointer<Float>, dK: UnsafeMutablePointer<Float>,
        dV: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, out: UnsafePointer<Float>,
        logSumExp: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
        v: UnsafePointer<Float>, shape: AttentionShape
    ) {
        shape.requireValid()
        let (batch, sequenceLength, heads, kvHeads, headDim) = (
            shape.batch, shape.sequenceLength, shape.heads, shape.kvHeads, shape.headDim
        )
        let rowCount = batch * sequenceLength * heads
        let deltas = UnsafeMutablePointer<Float>.allocate(capacity: max(rowCount, 1))  // (B,T,NH)
        defer { deltas.deallocate() }
        attentionParallel(batch * sequenceLength, workPerItem: heads * headDim) { position in
            for h in 0..<heads {
                let row = position * heads + h
                deltas[row] = headDot(dOut + row * headDim, out + row * headDim, headDim: headDim)
            }
        }

        let reach = min(sequenceLength, 512)  // rough rows per block, only to size the dispatch
        let keyBlocks = (sequenceLength + attentionKeyBlock - 1) / attentionKeyBlock
        attentionParallel(
            batch * kvHeads * keyBlocks, workPerItem: attentionKeyBlock * heads * headDim * reach
        ) { item in
            let block = item % keyBlocks
            let pair = item / keyBlocks
            keyValueGradientBlock(
                dK: dK, dV: dV, dOut: dOut, deltas: deltas, logSumExp: logSumExp, q: q, k: k,
                v: v, shape: shape, batchIndex: pair / kvHeads, kvHead: pair % kvHeads,
                blockStart: block * attentionKeyBlock)
        }

        let queryBlocks = (sequenceLength + attentionQueryBlock - 1) / attentionQueryBlock
        attentionParallel(
            batch * kvHeads * queryBlocks,
            workPerItem: attentionQueryBlock * heads * headDim * reach
        ) { item in
            let block = item % queryBlocks
            let pair = item / queryBlocks
            queryGradientBlock(
                dQ: dQ, dOut: dOut, deltas: deltas, logSumExp: logSumExp, q: q, k: k, v: v,
                shape: shape, batchIndex: pair / kvHeads, kvHead: pair % kvHeads,
                firstQuery: block * attentionQueryBlock)
        }
    }

    /// dK and dV of keys `blockStart ..< blockStart + Bk` of `kvHead` in batch item
    /// `batchIndex`: visits every (query position, query head of the group) that sees the block,
    /// positions ascending, heads ascending.
    private static func keyValueGradientBlock(
        dK: UnsafeMutablePointer<Float>, dV: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, deltas: UnsafePointer<Float>, logSumExp: UnsafePointer<Float>,
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        shape: AttentionShape, batchIndex: Int, kvHead: Int, blockStart: Int
    ) {
        let hs = shape.headDim
        let group = shape.group
        let length = shape.sequenceLength
        let block = AttentionKeyBlock(
            start: blockStart, shape: shape, k: k, v: v, batch: batchIndex, kvHead: kvHead)
        let scratch = AttentionScratch(rows: 1, headDim: hs)
        defer { scratch.deallocate() }
        let tileSize = hs * attentionKeyBlock
        let keyGradientTile = UnsafeMutablePointer<Float>.allocate(capacity: tileSize)  // (HS, Bk)
        let valueGradientTile = UnsafeMutablePointer<Float>.allocate(capacity: tileSize)
        defer {
            keyGradientTile.deallocate()
            valueGradientTile.deallocate()
        }
        keyGradientTile.initialize(repeating: 0, count: tileSize)
        valueGradientTile.initialize(repeating: 0, count: tileSize)

        let keyStride = shape.keyRowStride
        packTransposed(
            tile: scratch.keyTile, rows: block.keys, rowStride: keyStride, count: block.count,
            headDim: hs)
        packTransposed(
            tile: scratch.valueTile, rows: block.values, rowStride: keyStride, count: block.count,
            headDim: hs)

        let scaledQuery = scratch.queries  // (HS)
        let scores = scratch.scores  // (Bk) s, then unused
        let probabilities = scratch.weights  // (Bk) p
        let scoreGradients = scratch.extra  // (Bk) dp, then ds
        let scale = 1 / Float(hs).squareRoot()
        let firstQuery = shape.mask.queryBounds(key: blockStart, sequenceLength: length).first
        let lastKey = blockStart + block.count - 1
        let lastQuery = shape.mask.queryBounds(key: lastKey, sequenceLength: length).last
        for t in firstQuery...lastQuery {
            guard let (lo, hi) = block.visibleLanes(query: t, shape: shape) else { continue }
            for h in (kvHead * group)..<((kvHead + 1) * group) {
                let row = shape.rowIndex(batch: batchIndex, position: t, head: h)
                let query = q + row * hs
                for d in 0..<hs { scaledQuery[d] = query[d] * scale }
                let outGradient = dOut + row * hs
                blockScores(scores, scaledQuery, scratch.keyTile, headDim: hs)
                maskedExp(
                    probabilities, scores: scores, lo: lo, hi: hi, subtracting: logSumExp[row])
                blockScores(scoreGradients, outGradient, scratch.valueTile, headDim: hs)
                scoreGradientsInPlace(
                    scoreGradients, probabilities: probabilities, delta: deltas[row])
                blockRankOneUpdate(valueGradientTile, outGradient, probabilities, headDim: hs)
                blockRankOneUpdate(keyGradientTile, scaledQuery, scoreGradients, headDim: hs)
            }
        }

        let blockOffset = shape.keyOffset(batch: batchIndex, position: blockStart, kvHead: kvHead)
        for i in 0..<block.count {
            let keyGradient = dK + blockOffset + i * keyStride
            let valueGradient = dV + blockOffset + i * keyStride
            for d in 0..<hs {
                keyGradient[d] = keyGradientTile[d * attentionKeyBlock + i]
                valueGradient[d] = valueGradientTile[d * attentionKeyBlock + i]
            }
        }
    }

    /// dQ of query rows `firstQuery ..< firstQuery + attentionQueryBlock` of every query head of
    /// `kvHead` in batch item `batchIndex`, visiting key blocks in ascending order.
    private static func queryGradientBlock(
        dQ: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, deltas: UnsafePointer<Float>,
        logSumExp: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
        v: UnsafePointer<Float>, shape: AttentionShape, batchIndex: Int, kvHead: Int,
        firstQuery: Int
    ) {
        let hs = shape.headDim
        let group = shape.group
        let length = shape.sequenceLength
        let endQuery = min(firstQuery + attentionQueryBlock, length)
        let rows = (endQuery - firstQuery) * group  // row r = (t - firstQuery) * G + head in group
        let scratch = AttentionScratch(rows: rows, headDim: hs)
        defer { scratch.deallocate() }
        let scaledQueries = scratch.queries  // (rows, HS)
        let accumulators = scratch.accumulators  // (rows, HS) dQ / scale
        let rowIndices = UnsafeMutablePointer<Int>.allocate(capacity: max(rows, 1))  // (rows)
        defer { rowIndices.deallocate() }
        let scale = 1 / Float(hs).squareRoot()
        for r in 0..<rows {
            let row = shape.rowIndex(
                batch: batchIndex, position: firstQuery + r / group,
                head: kvHead * group + r % group)
            rowIndices[r] = row
            let source = q + row * hs
            let target = scaledQueries + r * hs
            for d in 0..<hs { target[d] = source[d] * scale }
        }
        accumulators.initialize(repeating: 0, count: rows * hs)

        let scores = scratch.scores
        let probabilities = scratch.weights
        let scoreGradients = scratch.extra
        let keyStride = shape.keyRowStride

        let blocks = shape.keyBlocks(
            seenBy: firstQuery..<endQuery, k: k, v: v, batch: batchIndex, kvHead: kvHead)
        for block in blocks {
            packTransposed(
                tile: scratch.keyTile, rows: block.keys, rowStride: keyStride, count: block.count,
                headDim: hs)
            packTransposed(
                tile: scratch.valueTile, rows: block.values, rowStride: keyStride,
                count: block.count, headDim: hs)
            for r in 0..<rows {
                guard let (lo, hi) = block.visibleLanes(query: firstQuery + r / group, shape: shape)
                else { continue }
                let row = rowIndices[r]
                blockScores(scores, scaledQueries + r * hs, scratch.keyTile, headDim: hs)
                maskedExp(
                    probabilities, scores: scores, lo: lo, hi: hi, subtracting: logSumExp[row])
                blockScores(scoreGradients, dOut + row * hs, scratch.valueTile, headDim: hs)
                scoreGradientsInPlace(
                    scoreGradients, probabilities: probabilities, delta: deltas[row])
                accumulateRows(
                    accumulators + r * hs, weights: scoreGradients, rows: block.keys,
                    rowStride: keyStride, lo: lo, hi: hi, headDim: hs)
            }
        }

        for r in 0..<rows {
            let source = accumulators + r * hs
            let target = dQ + rowIndices[r] * hs
            for d in 0..<hs { target[d] = source[d] * scale }
        }
    }

    /// Readable reference backward (same contract as `attentionBackward`, overwrites dQ, dK,
    /// dV): one query row at a time, serial, scattering into dK and dV. For tests.
    /// - Parameters:
    ///   - dQ: (B, T, NH, HS) gradient of the queries, overwritten.
    ///   - dK: (B, T, NKV, HS) gradient of the keys, overwritten.
    ///   - dV: (B, T, NKV, HS) gradient of the values, overwritten.
    ///   - dOut: (B, T, NH, HS) gradient of the attention output.
    ///   - out: (B, T, NH, HS) the forward's output.
    ///   - logSumExp: (B, T, NH) the forward's log softmax denominators.
    ///   - q: (B, T, NH, HS) queries.
    ///   - k: (B, T, NKV, HS) keys.
    ///   - v: (B, T, NKV, HS) values.
    ///   - shape: the forward's sizes and mask.
    public static func attentionBackwardNaive(
        dQ: UnsafeMutablePointer<Float>, dK: UnsafeMutablePointer<Float>,
        dV: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, out: UnsafePointer<Float>,
        logSumExp: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
        v: UnsafePointer<Float>, shape: AttentionShape
    ) {
        shape.requireValid()
        let (batch, sequenceLength, heads, kvHeads, headDim, mask) = (
            shape.batch, shape.sequenceLength, shape.heads, shape.kvHeads, shape.headDim,
            shape.mask
        )
        let scale = 1 / Float(headDim).squareRoot()
        dQ.initialize(repeating: 0, count: batch * sequenceLength * heads * headDim)
        dK.initialize(repeating: 0, count: batch * sequenceLength * kvHeads * headDim)
        dV.initialize(repeating: 0, count: batch * sequenceLength * kvHeads * headDim)
        for b in 0..<batch {
            for t in 0..<sequenceLength {
                for h in 0..<heads {
                    let row = shape.rowIndex(batch: b, position: t, head: h)
                    let query = q + row * headDim
                    let outGradient = dOut + row * headDim
                    let delta = headDot(outGradient, out + row * headDim, headDim: headDim)
                    let kvHead = h / shape.group
                    let bounds = mask.keyBounds(query: t, sequenceLength: sequenceLength)
                    for j in bounds.first...bounds.last {
                        let offset = shape.keyOffset(batch: b, position: j, kvHead: kvHead)
                        let score = headDot(query, k + offset, headDim: headDim) * scale
                        let probability = exp(score - logSumExp[row])
                        let probabilityGradient = headDot(outGradient, v + offset, headDim: headDim)
                        let scoreGradient = probability * (probabilityGradient - delta) * scale
                        for d in 0..<headDim {
                            dQ[row * headDim + d] += scoreGradient * k[offset + d]
                            dK[offset + d] += scoreGradient * query[d]
                            dV[offset + d] += probability * outGradient[d]
                        }
                    }
                }
            }
        }
    }
}

// MARK: - Helpers

extension CPU {
    /// Dot product of two head vectors, summed in index order.
    @inline(__always)
    static func headDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, headDim: Int) -> Float
    {
        var sum: Float = 0
        for d in 0..<headDim { sum += a[d] * b[d] }
        return sum
    }

    /// `ds[j] = p[j] * (dp[j] - delta)` over all Bk lanes, in place over `dp` (lanes with
    /// p = 0, outside the mask, get 0).
    @inline(__always)
    static func scoreGradientsInPlace(
        _ gradients: UnsafeMutablePointer<Float>, probabilities: UnsafePointer<Float>,
        delta: Float
    ) {
        for j in 0..<attentionKeyBlock {
            gradients[j] = probabilities[j] * (gradients[j] - delta)
        }
    }
}
