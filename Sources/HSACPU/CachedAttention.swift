import Foundation
import HSACore

// Attention of a block of consecutive query positions over a contiguous key/value cache, for
// streaming inference (prefill in blocks, decode one token at a time). Inference only: no
// backward, no logsumexp.
// Letters: N query rows, L cached key rows, NH query heads, NKV key/value heads, HS head size,
// G = NH / NKV, W window. Query row i sits at absolute position P + i and sees the keys at
// positions max(0, P + i - W + 1) ... P + i; key row j of the cache sits at position K0 + j.
// Keys missing from the cache (before K0) are skipped: callers only rely on rows whose whole
// window is cached.

// MARK: - Forward

extension CPU {
    /// Sliding-window (or causal, with a huge window) attention of `queryCount` new rows over
    /// a key/value cache that already holds the new rows' own keys.
    /// - Parameters:
    ///   - out: (N, NH, HS) attention output, overwritten.
    ///   - q: (N, NH, HS) queries (QK-norm and RoPE applied).
    ///   - keys: (L, NKV, HS) cached keys (QK-norm and RoPE applied), positions K0 ..< K0 + L.
    ///   - values: (L, NKV, HS) cached values.
    ///   - queryCount: N.
    ///   - firstQueryPosition: P, the absolute position of query row 0.
    ///   - keyCount: L.
    ///   - firstKeyPosition: K0, the absolute position of key row 0.
    ///   - heads: NH.
    ///   - kvHeads: NKV.
    ///   - headDim: HS.
    ///   - window: W (at least 1).
    public static func cachedAttentionForward(
        out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, keys: UnsafePointer<Float>,
        values: UnsafePointer<Float>, queryCount: Int, firstQueryPosition: Int, keyCount: Int,
        firstKeyPosition: Int, heads: Int, kvHeads: Int, headDim: Int, window: Int
    ) {
        precondition(heads % kvHeads == 0 && window >= 1 && headDim > 0)
        precondition(
            firstQueryPosition + queryCount <= firstKeyPosition + keyCount,
            "cachedAttention: queries up to \(firstQueryPosition + queryCount) but keys end at "
                + "\(firstKeyPosition + keyCount)")
        let (NH, NKV, HS) = (heads, kvHeads, headDim)
        let G = NH / NKV
        let keyStride = NKV * HS
        let scale = 1 / Float(HS).squareRoot()
        let visible = min(window, keyCount)
        // Work item: one KV head and a block of consecutive query rows. The keys that block
        // sees are transposed once to (HS, span), so every query's scores are a sum of HS
        // contiguous rows (vectorized over keys), shared by the block's rows and G heads.
        let rowsPerItem = 16
        let queryBlocks = (queryCount + rowsPerItem - 1) / rowsPerItem
        let items = queryBlocks * NKV
        let body = { (item: Int) in
            let g = item % NKV
            let firstRow = (item / NKV) * rowsPerItem
            let endRow = min(firstRow + rowsPerItem, queryCount)
            let spanLo = keyIndexLo(
                row: firstRow, firstQueryPosition: firstQueryPosition,
                firstKeyPosition: firstKeyPosition, window: window)
            let spanHi = firstQueryPosition + endRow - 1 - firstKeyPosition
            let span = spanHi - spanLo + 1
            let keysT = UnsafeMutablePointer<Float>.allocate(capacity: max(HS * span, 1))
            let probs = UnsafeMutablePointer<Float>.allocate(capacity: max(visible, 1))
            defer {
                keysT.deallocate()
                probs.deallocate()
            }
            for j in 0..<span {
                let key = keys + (spanLo + j) * keyStride + g * HS
                for d in 0..<HS { keysT[d * span + j] = key[d] }
            }
            for i in firstRow..<endRow {
                let lo = keyIndexLo(
                    row: i, firstQueryPosition: firstQueryPosition,
                    firstKeyPosition: firstKeyPosition, window: window)
                let hi = firstQueryPosition + i - firstKeyPosition
                let m = hi - lo + 1
                let valueBase = values + lo * keyStride + g * HS
                for hh in 0..<G {
                    let h = g * G + hh
                    let qh = q + (i * NH + h) * HS
                    for j in 0..<m { probs[j] = 0 }
                    addWeightedRows(
                        probs, weights: qh, weightStride: 1, rows: keysT + (lo - spanLo),
                        rowStride: span, rowCount: HS, count: m)
                    let maximum = maskedMax(probs, lo: 0, hi: m - 1)
                    let sum = scaledExpSum(probs, count: m, shift: maximum, scale: scale)
                    normalizedWeightedRows(
                        out + (i * NH + h) * HS, weights: probs, sum: sum, rows: valueBase,
                        rowStride: keyStride, rowCount: m, count: HS)
                }
            }
        }
        if items <= 1 || queryCount * visible * NH * HS < 1 << 15 {
            for item in 0..<items { body(item) }
        } else {
            parallelFor(items, body)
        }
    }

    /// `x[j] = exp((x[j] - shift) * scale)` for j < count with the attention kernel's exp
    /// polynomial, eight lanes at a time; returns their sum, accumulated in eight fixed lanes.
    @inline(__always)
    private static func scaledExpSum(
        _ x: UnsafeMutablePointer<Float>, count: Int, shift: Float, scale: Float
    ) -> Float {
        var lanes = SIMD8<Float>(repeating: 0)
        let raw = UnsafeMutableRawPointer(x)
        let shiftLanes = SIMD8<Float>(repeating: shift)
        let scaleLanes = SIMD8<Float>(repeating: scale)
        var j = 0
        while j + 8 <= count {
            let offset = j * MemoryLayout<Float>.stride
            let values = raw.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            let e = attentionExp8((values - shiftLanes) * scaleLanes)
            raw.storeBytes(of: e, toByteOffset: offset, as: SIMD8<Float>.self)
            lanes += e
            j += 8
        }
        var tail: Float = 0
        while j < count {
            x[j] = attentionExp((x[j] - shift) * scale)
            tail += x[j]
            j += 1
        }
        return lanes.sum() + tail
    }

    /// `attentionExp` on eight lanes (same constants and operations, so the same results).
    @inline(__always)
    static func attentionExp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let clamped = x.clamped(
            lowerBound: SIMD8(repeating: -87), upperBound: SIMD8(repeating: 88))
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        let r = clamped - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 0.166_666_655
        p = p * r + 0.500_000_01
        let polynomial = p * r * r + r + 1
        let bits = unsafeBitCast(shifted, to: SIMD8<Int32>.self)
        let magicBits = unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let exponent = (bits &- magicBits) &+ 127
        return polynomial * unsafeBitCast(exponent &<< 23, to: SIMD8<Float>.self)
    }

    /// Index in the cache of the first key that query row `row` sees.
    @inline(__always)
    private static func keyIndexLo(
        row: Int, firstQueryPosition: Int, firstKeyPosition: Int, window: Int
    ) -> Int {
        max(0, firstQueryPosition + row - window + 1, firstKeyPosition) - firstKeyPosition
    }
}
