import Foundation
import HSACore

// Hierarchical sparse attention for streaming inference: top-k chunk selection by landmark
// score plus attention inside the selected chunks and fusion, for a block of query rows whose
// chunk memory grows over time. The arithmetic mirrors `chunkSelectForward` and
// `sparseAttentionForward` (same scores, same top-k ties, same fusion), but each row carries
// its own eligible-chunk count and the chunk keys/values come as per-chunk records (a RAM
// buffer or a memory-mapped file), with the layer's key norm applied on the fly.
// Letters: N query rows, NC chunks in memory, NH / NKV heads, HS head size, DR retrieval head
// size, S chunk size, K top-k. A chunk record is (2, S, NKV, HS): its keys, then its values.

// MARK: - Storage precision

/// How the chunk keys/values of the streaming chunk memory are stored.
public enum KVPrecision: String, Sendable, CaseIterable {
    /// 4 bytes per element: exact.
    case fp32
    /// 2 bytes per element (the upper half of fp32, rounded to nearest even): half the memory,
    /// about 3 significant digits.
    case bf16

    /// Bytes per stored element.
    public var bytes: Int { self == .fp32 ? 4 : 2 }
}

extension CPU {
    /// The bf16 bits of `value`, rounded to nearest even.
    @inline(__always)
    public static func bfloat16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let rounding = 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    /// The fp32 value of bf16 `bits`.
    @inline(__always)
    public static func bfloat16Value(_ bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }
}

// MARK: - Forward

extension CPU {
    /// Streaming HSA forward for `rows` query rows.
    /// - Parameters:
    ///   - out: (N, NH, HS) fused output y, overwritten (0 for rows with no eligible chunk).
    ///   - q: (N, NH, HS) attention queries, already q-normed.
    ///   - retrievalQuery: (N, NKV, DR) the retrieval query that scores each row's chunks
    ///     (for per_chunk retrieval the caller passes the query of position cS - 1).
    ///   - eligibleChunks: (N) chunks 0 ..< eligibleChunks[n] may be selected by row n.
    ///   - landmarks: (NC, NKV, DR) chunk landmarks.
    ///   - chunkRecords: (NC, 2, S, NKV, HS) raw (un-normed) chunk keys and values, stored in
    ///     `recordPrecision`.
    ///   - recordPrecision: fp32 or bf16 elements.
    ///   - keyNorm: (HS) gain of the layer's key RMSNorm, or nil without qk_norm.
    ///   - rows: N.
    ///   - heads: NH.
    ///   - kvHeads: NKV.
    ///   - headDim: HS.
    ///   - retrievalDim: DR.
    ///   - chunkSize: S.
    ///   - chunkCount: NC.
    ///   - topK: K.
    ///   - fusion: how the selected chunks' outputs are combined.
    public static func streamingSparseAttentionForward(
        out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>,
        retrievalQuery: UnsafePointer<Float>, eligibleChunks: UnsafePointer<Int32>,
        landmarks: UnsafePointer<Float>, chunkRecords: UnsafeRawPointer,
        recordPrecision: KVPrecision, keyNorm: UnsafePointer<Float>?, rows: Int, heads: Int,
        kvHeads: Int, headDim: Int, retrievalDim: Int, chunkSize: Int, chunkCount: Int,
        topK: Int, fusion: FusionKind
    ) {
        precondition(heads % kvHeads == 0 && headDim > 0 && retrievalDim > 0 && topK > 0)
        let (NH, NKV, HS, DR, S, NC, K) = (
            heads, kvHeads, headDim, retrievalDim, chunkSize, chunkCount, topK
        )
        let G = NH / NKV
        let keyStride = NKV * HS
        let recordBytes = 2 * S * keyStride * recordPrecision.bytes
        let scale = 1 / Float(HS).squareRoot()
        let retrievalScale = 1 / Float(DR).squareRoot()
        let items = rows * NKV
        let work = (NC + 1) * DR + K * S * HS * (G + 1)
        rowParallel(items, workPerRow: work) { item in
            let row = item / NKV
            let g = item % NKV
            let scratch = StreamingHSAScratch(chunks: max(NC, 1), topK: K, chunk: S, headDim: HS)
            defer { scratch.deallocate() }
            for hh in 0..<G {
                let y = out + (row * NH + g * G + hh) * HS
                for d in 0..<HS { y[d] = 0 }
            }
            let eligible = min(max(Int(eligibleChunks[row]), 0), NC)
            if eligible == 0 { return }
            // Scores and top-k exactly as chunkSelectForward computes them.
            let qs = retrievalQuery + (row * NKV + g) * DR
            for i in 0..<eligible {
                scratch.candidates[i] =
                    rowDot(qs, landmarks + (i * NKV + g) * DR, count: DR) * retrievalScale
            }
            let selected = selectTopK(
                selected: scratch.best, selectedScores: scratch.bestScores,
                candidates: scratch.candidates, count: eligible, topK: K)
            fusionWeightsForward(
                weights: scratch.fusionWeights, scores: scratch.bestScores, count: selected,
                topK: K, fusion: fusion)
            // Gather (and key-norm) the selected chunks' keys of head g, transposed (HS, S),
            // and find (or decode) their values: value j of slot k at values[k] + j * stride.
            let valueStride = recordPrecision == .fp32 ? keyStride : HS
            for k in 0..<selected {
                let record = chunkRecords + Int(scratch.best[k]) * recordBytes
                let keysT = scratch.keysT + k * HS * S
                switch recordPrecision {
                case .fp32:
                    let floats = record.assumingMemoryBound(to: Float.self)
                    gatherKeysTransposed(
                        keysT, keys: floats + g * HS, keyStride: keyStride, count: S,
                        headDim: HS, keyNorm: keyNorm)
                    scratch.values[k] = UnsafePointer(floats + S * keyStride + g * HS)
                case .bf16:
                    let halves = record.assumingMemoryBound(to: UInt16.self)
                    let decoded = scratch.decoded + k * S * HS  // (S, HS): keys, then values
                    decodeRows(decoded, halves + g * HS, rowStride: keyStride, count: S, width: HS)
                    gatherKeysTransposed(
                        keysT, keys: decoded, keyStride: HS, count: S, headDim: HS,
                        keyNorm: keyNorm)
                    decodeRows(
                        decoded, halves + S * keyStride + g * HS, rowStride: keyStride, count: S,
                        width: HS)
                    scratch.values[k] = UnsafePointer(decoded)
                }
            }
            for hh in 0..<G {
                let h = g * G + hh
                let qh = q + (row * NH + h) * HS
                let y = out + (row * NH + h) * HS
                if fusion == .joint {
                    _ = jointChunkAttention(
                        y, probs: scratch.probs, q: qh, selected: selected,
                        keysT: { k in UnsafePointer(scratch.keysT + k * HS * S) },
                        values: { k in scratch.values[k] }, valueStride: valueStride,
                        chunkSize: S, headDim: HS, scale: scale)
                    continue
                }
                for k in 0..<selected {
                    _ = chunkAttentionForward(
                        out: scratch.chunkOutput, probs: scratch.probs, q: qh,
                        keysT: scratch.keysT + k * HS * S, values: scratch.values[k],
                        keyStride: valueStride, rows: S, headDim: HS, scale: scale)
                    addScaled(y, scratch.chunkOutput, scratch.fusionWeights[k], count: HS)
                }
            }
        }
    }
}

// MARK: - Helpers

extension CPU {
    /// Decodes `count` bf16 rows of `width` elements (row j at `source + j * rowStride`) into
    /// `target` (count, width) fp32.
    static func decodeRows(
        _ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<UInt16>, rowStride: Int,
        count: Int, width: Int
    ) {
        for j in 0..<count {
            let row = source + j * rowStride
            for d in 0..<width { target[j * width + d] = bfloat16Value(row[d]) }
        }
    }

    /// Copies `count` key rows of one head (row j at `keys + j * keyStride`, HS floats) into
    /// `target` (HS, count), RMS-normalising each row with `keyNorm` (eps 1e-6) when given,
    /// with the same arithmetic as `rmsNormForward`.
    static func gatherKeysTransposed(
        _ target: UnsafeMutablePointer<Float>, keys: UnsafePointer<Float>, keyStride: Int,
        count: Int, headDim: Int, keyNorm: UnsafePointer<Float>?
    ) {
        for j in 0..<count {
            let x = keys + j * keyStride
            if let keyNorm {
                let meanSquare = rowDot(x, x, count: headDim) / Float(headDim)
                let r = 1 / (meanSquare + 1e-6).squareRoot()
                for d in 0..<headDim { target[d * count + j] = x[d] * r * keyNorm[d] }
            } else {
                for d in 0..<headDim { target[d * count + j] = x[d] }
            }
        }
    }
}

/// Per-work-item scratch of `streamingSparseAttentionForward`, freed with `deallocate()`.
struct StreamingHSAScratch {
    /// (NC) scores of the eligible chunks.
    let candidates: UnsafeMutablePointer<Float>
    /// (K) selected chunk indices, recency order.
    let best: UnsafeMutablePointer<Int32>
    /// (K) their scores.
    let bestScores: UnsafeMutablePointer<Float>
    /// (K) fusion weights.
    let fusionWeights: UnsafeMutablePointer<Float>
    /// (K, HS, S) the selected chunks' keys, normed and transposed.
    let keysT: UnsafeMutablePointer<Float>
    /// (K * S) probabilities.
    let probs: UnsafeMutablePointer<Float>
    /// (HS) one chunk's attention output.
    let chunkOutput: UnsafeMutablePointer<Float>
    /// (K) where each selected chunk's values of the current head start.
    let values: UnsafeMutablePointer<UnsafePointer<Float>>
    /// (K, S, HS) bf16 rows decoded to fp32 (values, after the keys were gathered).
    let decoded: UnsafeMutablePointer<Float>

    init(chunks: Int, topK: Int, chunk: Int, headDim: Int) {
        candidates = .allocate(capacity: chunks)
        best = .allocate(capacity: topK)
        bestScores = .allocate(capacity: topK)
        fusionWeights = .allocate(capacity: topK)
        keysT = .allocate(capacity: topK * headDim * chunk)
        probs = .allocate(capacity: topK * chunk)
        chunkOutput = .allocate(capacity: headDim)
        values = .allocate(capacity: topK)
        decoded = .allocate(capacity: topK * chunk * headDim)
    }

    func deallocate() {
        candidates.deallocate()
        best.deallocate()
        bestScores.deallocate()
        fusionWeights.deallocate()
        keysT.deallocate()
        probs.deallocate()
        chunkOutput.deallocate()
        values.deallocate()
        decoded.deallocate()
    }
}
