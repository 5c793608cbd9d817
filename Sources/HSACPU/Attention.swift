import Foundation
import HSACore

// Multi-head attention with grouped-query heads, flash style: keys are visited in blocks of
// `attentionKeyBlock` positions with an online softmax, so no (T, T) buffer ever exists.
//
// Letters: B batch, T sequence length, NH query heads, NKV key/value heads, HS head size,
// G = NH / NKV query heads per key/value head, W sliding window.
// Layouts: q (B, T, NH, HS); k, v (B, T, NKV, HS); out (B, T, NH, HS); logSumExp (B, T, NH).
// Query head h uses key/value head h / G. Scores are scaled by 1/sqrt(HS).
//
// Numerics: every output element is written by exactly one work item, and each work item runs
// its loops in a fixed order, so results are bitwise independent of the thread count and of
// the other items of the batch. Key blocks are aligned to absolute positions (multiples of
// `attentionKeyBlock`), so a query row's result depends only on its own inputs.

// MARK: - Forward

extension CPU {
    /// Multi-head attention forward with grouped-query heads and an online softmax.
    ///
    /// Work items are (batch, kv head, block of query rows); each item handles the G query
    /// heads of its kv head, so the key/value tiles it packs are shared by G * block rows.
    /// Extra memory: O(threads * block * G * HS).
    /// - Parameters:
    ///   - out: (B, T, NH, HS) attention output, overwritten.
    ///   - logSumExp: (B, T, NH) natural log of each row's softmax denominator (max included),
    ///     overwritten; saved for the backward.
    ///   - q: (B, T, NH, HS) queries (RoPE and QK-norm already applied).
    ///   - k: (B, T, NKV, HS) keys.
    ///   - v: (B, T, NKV, HS) values.
    ///   - shape: the sizes and the mask.
    public static func attentionForward(
        out: UnsafeMutablePointer<Float>, logSumExp: UnsafeMutablePointer<Float>,
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        shape: AttentionShape
    ) {
        shape.requireValid()
        let (batch, sequenceLength, kvHeads, headDim) = (
            shape.batch, shape.sequenceLength, shape.kvHeads, shape.headDim
        )
        let queryBlocks = (sequenceLength + attentionQueryBlock - 1) / attentionQueryBlock
        let items = batch * kvHeads * queryBlocks
        let workPerItem = attentionQueryBlock * shape.group * headDim * min(sequenceLength, 512)
        attentionParallel(items, workPerItem: workPerItem) { item in
            let queryBlock = item % queryBlocks
            let pair = item / queryBlocks
            forwardQueryBlock(
                out: out, logSumExp: logSumExp, q: q, k: k, v: v, shape: shape,
                batchIndex: pair / kvHeads, kvHead: pair % kvHeads,
                firstQuery: queryBlock * attentionQueryBlock)
        }
    }

    /// One forward work item: query rows `firstQuery ..< firstQuery + attentionQueryBlock` of
    /// every query head of `kvHead`, in batch item `batchIndex`.
    private static func forwardQueryBlock(
        out: UnsafeMutablePointer<Float>, logSumExp: UnsafeMutablePointer<Float>,
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        shape: AttentionShape, batchIndex: Int, kvHead: Int, firstQuery: Int
    ) {
        let hs = shape.headDim
        let group = shape.group
        let endQuery = min(firstQuery + attentionQueryBlock, shape.sequenceLength)
        let rows = (endQuery - firstQuery) * group  // row r = (t - firstQuery) * G + head in group

        // Per-row state of the online softmax: scaled query, output accumulator, max, sum.
        let scratch = AttentionScratch(rows: rows, headDim: hs)
        defer { scratch.deallocate() }
        let queries = scratch.queries  // (rows, HS) q * 1/sqrt(HS)
        let accumulators = scratch.accumulators  // (rows, HS)
        let maxima = scratch.maxima  // (rows)
        let sums = scratch.sums  // (rows)
        let scale = 1 / Float(hs).squareRoot()
        for r in 0..<rows {
            let offset = shape.queryOffset(
                batch: batchIndex, position: firstQuery + r / group,
                head: kvHead * group + r % group)
            let source = q + offset
            let target = queries + r * hs
            for d in 0..<hs { target[d] = source[d] * scale }
            maxima[r] = -Float.infinity
            sums[r] = 0
        }
        accumulators.initialize(repeating: 0, count: rows * hs)

        let keyTile = scratch.keyTile  // (HS, Bk) keys of the current block, transposed
        let scores = scratch.scores  // (Bk)
        let weights = scratch.weights  // (Bk)
        let keyStride = shape.keyRowStride

        let blocks = shape.keyBlocks(
            seenBy: firstQuery..<endQuery, k: k, v: v, batch: batchIndex, kvHead: kvHead)
        for block in blocks {
            packTransposed(
                tile: keyTile, rows: block.keys, rowStride: keyStride, count: block.count,
                headDim: hs)
            for r in 0..<rows {
                guard let (lo, hi) = block.visibleLanes(query: firstQuery + r / group, shape: shape)
                else { continue }
                blockScores(scores, queries + r * hs, keyTile, headDim: hs)
                let blockMax = maskedMax(scores, lo: lo, hi: hi)
                let oldMax = maxima[r]
                let newMax = max(oldMax, blockMax)
                let accumulator = accumulators + r * hs
                if newMax > oldMax {
                    // Rescale what was accumulated against the old maximum.
                    let correction = oldMax == -Float.infinity ? 0 : attentionExp(oldMax - newMax)
                    sums[r] *= correction
                    for d in 0..<hs { accumulator[d] *= correction }
                    maxima[r] = newMax
                }
                maskedExp(weights, scores: scores, lo: lo, hi: hi, subtracting: newMax)
                sums[r] += laneSum(weights)
                accumulateRows(
                    accumulator, weights: weights, rows: block.values, rowStride: keyStride,
                    lo: lo, hi: hi, headDim: hs)
            }
        }

        for r in 0..<rows {
            let row = shape.rowIndex(
                batch: batchIndex, position: firstQuery + r / group,
                head: kvHead * group + r % group)
            let inverse = 1 / sums[r]
            let accumulator = accumulators + r * hs
            let target = out + row * hs
            for d in 0..<hs { target[d] = accumulator[d] * inverse }
            logSumExp[row] = maxima[r] + log(sums[r])
        }
    }

    /// Readable reference forward (same contract as `attentionForward`): one query row at a
    /// time, a two-pass softmax over the row's visible keys, serial. For tests.
    /// - Parameters:
    ///   - out: (B, T, NH, HS) attention output, overwritten.
    ///   - logSumExp: (B, T, NH) log of the softmax denominator, overwritten.
    ///   - q: (B, T, NH, HS) queries.
    ///   - k: (B, T, NKV, HS) keys.
    ///   - v: (B, T, NKV, HS) values.
    ///   - shape: the sizes and the mask.
    public static func attentionForwardNaive(
        out: UnsafeMutablePointer<Float>, logSumExp: UnsafeMutablePointer<Float>,
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        shape: AttentionShape
    ) {
        shape.requireValid()
        let (batch, sequenceLength, heads, headDim, mask) = (
            shape.batch, shape.sequenceLength, shape.heads, shape.headDim, shape.mask
        )
        let scale = 1 / Float(headDim).squareRoot()
        var scores = [Float](repeating: 0, count: sequenceLength)  // one row: (T)
        for b in 0..<batch {
            for t in 0..<sequenceLength {
                for h in 0..<heads {
                    let row = shape.rowIndex(batch: b, position: t, head: h)
                    let query = q + row * headDim
                    let kvHead = h / shape.group
                    let bounds = mask.keyBounds(query: t, sequenceLength: sequenceLength)
                    var maximum = -Float.infinity
                    for j in bounds.first...bounds.last {
                        let key = k + shape.keyOffset(batch: b, position: j, kvHead: kvHead)
                        var score: Float = 0
                        for d in 0..<headDim { score += query[d] * key[d] }
                        scores[j] = score * scale
                        maximum = max(maximum, scores[j])
                    }
                    var sum: Float = 0
                    for j in bounds.first...bounds.last {
                        scores[j] = exp(scores[j] - maximum)
                        sum += scores[j]
                    }
                    let target = out + row * headDim
                    for d in 0..<headDim { target[d] = 0 }
                    for j in bounds.first...bounds.last {
                        let value = v + shape.keyOffset(batch: b, position: j, kvHead: kvHead)
                        let weight = scores[j] / sum
                        for d in 0..<headDim { target[d] += weight * value[d] }
                    }
                    logSumExp[row] = maximum + log(sum)
                }
            }
        }
    }
}

// MARK: - Helpers

/// Keys per block of the flash loops (a fixed constant: the block boundaries are part of the
/// numerics). Score kernels hold one block in two `SIMD16<Float>` accumulators.
let attentionKeyBlock = 32
/// Query positions per forward / dQ work item (times the G query heads of a kv head).
let attentionQueryBlock = 32

/// Index arithmetic of one attention call over the layouts at the top of this file.
extension AttentionShape {
    /// Traps on sizes no kernel can run (the CPU functions check before any work).
    func requireValid() {
        precondition(batch >= 0 && sequenceLength >= 0, "attention: negative batch or length")
        precondition(kvHeads >= 1 && heads >= 1 && headDim >= 1, "attention: empty heads")
        precondition(
            heads % kvHeads == 0, "attention: heads \(heads) not a multiple of kvHeads \(kvHeads)")
        precondition(mask.isValid, "attention: mask \(mask) needs window >= 1")
    }

    /// Floats between consecutive positions of one kv head in k or v: NKV * HS.
    var keyRowStride: Int { kvHeads * headDim }
    /// Floats between consecutive positions of one query head in q or out: NH * HS.
    var queryRowStride: Int { heads * headDim }

    /// Flat (B, T, NH) index of a query row.
    @inline(__always)
    func rowIndex(batch b: Int, position t: Int, head h: Int) -> Int {
        (b * sequenceLength + t) * heads + h
    }

    /// Float offset of a query row in (B, T, NH, HS).
    @inline(__always)
    func queryOffset(batch b: Int, position t: Int, head h: Int) -> Int {
        rowIndex(batch: b, position: t, head: h) * headDim
    }

    /// Float offset of a key/value row in (B, T, NKV, HS).
    @inline(__always)
    func keyOffset(batch b: Int, position j: Int, kvHead g: Int) -> Int {
        ((b * sequenceLength + j) * kvHeads + g) * headDim
    }
}

/// Scratch buffers of one flash work item over `rows` query rows, allocated per item (so
/// concurrent items never share memory) and freed with `deallocate()`.
struct AttentionScratch {
    /// (rows, HS) scaled queries.
    let queries: UnsafeMutablePointer<Float>
    /// (rows, HS) output or gradient accumulators.
    let accumulators: UnsafeMutablePointer<Float>
    /// (rows) running maxima.
    let maxima: UnsafeMutablePointer<Float>
    /// (rows) running softmax sums.
    let sums: UnsafeMutablePointer<Float>
    /// (HS, Bk) a transposed key block.
    let keyTile: UnsafeMutablePointer<Float>
    /// (HS, Bk) a transposed value block.
    let valueTile: UnsafeMutablePointer<Float>
    /// (Bk) scores of one row against the block.
    let scores: UnsafeMutablePointer<Float>
    /// (Bk) probabilities of one row.
    let weights: UnsafeMutablePointer<Float>
    /// (Bk) second per-row vector (dP, dS in the backward).
    let extra: UnsafeMutablePointer<Float>

    init(rows: Int, headDim: Int) {
        let tile = headDim * attentionKeyBlock
        queries = .allocate(capacity: max(rows * headDim, 1))
        accumulators = .allocate(capacity: max(rows * headDim, 1))
        maxima = .allocate(capacity: max(rows, 1))
        sums = .allocate(capacity: max(rows, 1))
        keyTile = .allocate(capacity: tile)
        valueTile = .allocate(capacity: tile)
        scores = .allocate(capacity: attentionKeyBlock)
        weights = .allocate(capacity: attentionKeyBlock)
        extra = .allocate(capacity: attentionKeyBlock)
    }

    func deallocate() {
        queries.deallocate()
        accumulators.deallocate()
        maxima.deallocate()
        sums.deallocate()
        keyTile.deallocate()
        valueTile.deallocate()
        scores.deallocate()
        weights.deallocate()
        extra.deallocate()
    }
}

extension CPU {
    /// Runs `body(item)` for every item, over `parallelFor` when the total work is worth the
    /// dispatch (tiny encoder calls stay on the calling thread). Items write disjoint memory.
    static func attentionParallel(_ items: Int, workPerItem: Int, _ body: (Int) -> Void) {
        if items <= 0 { return }
        if items == 1 || items * max(workPerItem, 1) < 1 << 16 {
            for item in 0..<items { body(item) }
            return
        }
        parallelFor(items, body)
    }

    /// Copies `count` rows of HS floats (row i at `rows + i * rowStride`) into `tile` (HS, Bk)
    /// transposed, zero-filling columns `count ..< Bk` so unused lanes stay finite.
    @inline(__always)
    static func packTransposed(
        tile: UnsafeMutablePointer<Float>, rows: UnsafePointer<Float>, rowStride: Int,
        count: Int, headDim: Int
    ) {
        for i in 0..<count {
            let row = rows + i * rowStride
            for d in 0..<headDim { tile[d * attentionKeyBlock + i] = row[d] }
        }
        if count < attentionKeyBlock {
            for d in 0..<headDim {
                (tile + d * attentionKeyBlock + count).initialize(
                    repeating: 0, count: attentionKeyBlock - count)
            }
        }
    }

    /// `scores[j] = Σ_d x[d] * tile[d, j]` for all Bk lanes of a transposed block (vectorized
    /// over keys: no horizontal sums; each lane sums over d in order).
    @inline(__always)
    static func blockScores(
        _ scores: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
        _ tile: UnsafePointer<Float>, headDim: Int
    ) {
        var low = SIMD16<Float>(repeating: 0)
        var high = SIMD16<Float>(repeating: 0)
        let raw = UnsafeRawPointer(tile)
        let rowBytes = attentionKeyBlock * MemoryLayout<Float>.stride
        for d in 0..<headDim {
            let xd = SIMD16<Float>(repeating: x[d])
            let offset = d * rowBytes
            low += xd * raw.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
            high += xd * raw.loadUnaligned(fromByteOffset: offset + 64, as: SIMD16<Float>.self)
        }
        let out = UnsafeMutableRawPointer(scores)
        out.storeBytes(of: low, as: SIMD16<Float>.self)
        out.storeBytes(of: high, toByteOffset: 64, as: SIMD16<Float>.self)
    }

    /// `tile[d, j] += x[d] * lanes[j]` for all Bk lanes: a rank-1 update of a transposed
    /// (HS, Bk) accumulator.
    @inline(__always)
    static func blockRankOneUpdate(
        _ tile: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
        _ lanes: UnsafePointer<Float>, headDim: Int
    ) {
        let lanesRaw = UnsafeRawPointer(lanes)
        let low = lanesRaw.loadUnaligned(as: SIMD16<Float>.self)
        let high = lanesRaw.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
        let raw = UnsafeMutableRawPointer(tile)
        let rowBytes = attentionKeyBlock * MemoryLayout<Float>.stride
        for d in 0..<headDim {
            let xd = SIMD16<Float>(repeating: x[d])
            let offset = d * rowBytes
            let a = raw.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self) + xd * low
            let b =
                raw.loadUnaligned(fromByteOffset: offset + 64, as: SIMD16<Float>.self)
                + xd * high
            raw.storeBytes(of: a, toByteOffset: offset, as: SIMD16<Float>.self)
            raw.storeBytes(of: b, toByteOffset: offset + 64, as: SIMD16<Float>.self)
        }
    }

    /// `weights[j] = exp(scores[j] - shift)` for j in lo...hi and 0 for the other Bk lanes.
    @inline(__always)
    static func maskedExp(
        _ weights: UnsafeMutablePointer<Float>, scores: UnsafePointer<Float>, lo: Int, hi: Int,
        subtracting shift: Float
    ) {
        for j in 0..<attentionKeyBlock {
            let e = attentionExp(scores[j] - shift)
            weights[j] = (j >= lo && j <= hi) ? e : 0
        }
    }

    /// The largest of `scores[lo...hi]`, with four independent compare-select chains (a single
    /// `max` chain was a quarter of the forward's time; SIMD16's `max()` goes through memory).
    @inline(__always)
    static func maskedMax(_ scores: UnsafePointer<Float>, lo: Int, hi: Int) -> Float {
        var m0 = scores[lo]
        var m1 = m0
        var m2 = m0
        var m3 = m0
        var j = lo + 1
        while j + 4 <= hi + 1 {
            let (a, b, c, d) = (scores[j], scores[j + 1], scores[j + 2], scores[j + 3])
            m0 = a > m0 ? a : m0
            m1 = b > m1 ? b : m1
            m2 = c > m2 ? c : m2
            m3 = d > m3 ? d : m3
            j += 4
        }
        while j <= hi {
            let a = scores[j]
            m0 = a > m0 ? a : m0
            j += 1
        }
        m0 = m1 > m0 ? m1 : m0
        m2 = m3 > m2 ? m3 : m2
        return m2 > m0 ? m2 : m0
    }

    /// Sum of the Bk lanes in a fixed order (two SIMD16 halves, then across lanes).
    @inline(__always)
    static func laneSum(_ lanes: UnsafePointer<Float>) -> Float {
        let raw = UnsafeRawPointer(lanes)
        let low = raw.loadUnaligned(as: SIMD16<Float>.self)
        let high = raw.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
        return (low + high).sum()
    }

    /// `acc[d] += Σ_{j = lo...hi} weights[j] * rows[j * rowStride + d]` for d < HS: the
    /// probability-weighted sum of value rows (or dS-weighted key rows). The accumulators stay
    /// in registers across j, 32 (or 16, 8, 1) dimensions at a time.
    @inline(__always)
    static func accumulateRows(
        _ acc: UnsafeMutablePointer<Float>, weights: UnsafePointer<Float>,
        rows: UnsafePointer<Float>, rowStride: Int, lo: Int, hi: Int, headDim: Int
    ) {
        let accRaw = UnsafeMutableRawPointer(acc)
        let rowsRaw = UnsafeRawPointer(rows)
        let strideBytes = rowStride * MemoryLayout<Float>.stride
        var d = 0
        while d + 32 <= headDim {
            let base = d * MemoryLayout<Float>.stride
            var a0 = accRaw.loadUnaligned(fromByteOffset: base, as: SIMD16<Float>.self)
            var a1 = accRaw.loadUnaligned(fromByteOffset: base + 64, as: SIMD16<Float>.self)
            for j in lo...hi {
                let w = SIMD16<Float>(repeating: weights[j])
                let offset = j * strideBytes + base
                a0 += w * rowsRaw.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
                a1 += w * rowsRaw.loadUnaligned(fromByteOffset: offset + 64, as: SIMD16<Float>.self)
            }
            accRaw.storeBytes(of: a0, toByteOffset: base, as: SIMD16<Float>.self)
            accRaw.storeBytes(of: a1, toByteOffset: base + 64, as: SIMD16<Float>.self)
            d += 32
        }
        while d + 8 <= headDim {
            let base = d * MemoryLayout<Float>.stride
            var a = accRaw.loadUnaligned(fromByteOffset: base, as: SIMD8<Float>.self)
            for j in lo...hi {
                let w = SIMD8<Float>(repeating: weights[j])
                let offset = j * strideBytes + base
                a += w * rowsRaw.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            }
            accRaw.storeBytes(of: a, toByteOffset: base, as: SIMD8<Float>.self)
            d += 8
        }
        while d < headDim {
            var a = acc[d]
            for j in lo...hi { a += weights[j] * rows[j * rowStride + d] }
            acc[d] = a
            d += 1
        }
    }
}

/// `e^x` in fp32 without a libm call, so loops over it vectorize (Cephes `expf`: range
/// reduction by ln 2 and a degree-5 polynomial, about 1 ulp on [-87, 88]). Arguments below
/// -87 return a value below 1.7e-38 (not exactly 0); the flash loops only pass `x <= 0`.
@inline(__always)
func attentionExp(_ x: Float) -> Float {
    let clamped = min(max(x, -87), 88)
    // Adding 1.5 * 2^23 rounds to the nearest integer n and leaves n in the low mantissa bits.
    let magic: Float = 12_582_912
    let shifted = clamped * 1.442_695_04 + magic
    let n = shifted - magic
    let r = clamped - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p: Float = 1.987_569_15e-4
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 0.166_666_655
    p = p * r + 0.500_000_01
    let polynomial = p * r * r + r + 1
    let exponent = (shifted.bitPattern &- magic.bitPattern) &+ 127
    return polynomial * Float(bitPattern: exponent &<< 23)
}
