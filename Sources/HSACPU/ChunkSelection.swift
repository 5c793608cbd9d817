import Foundation
import HSACore

// Top-k chunk selection by landmark score, and the backward of those scores.
// Dimension letters: B batch, T sequence, NKV key/value heads, DR retrieval head size,
// S chunk size, NC complete chunks, K top-k chunks.
//
// Token t (chunk c = t / S) may select chunks i < c. Scores s = qs · lmk[i] / sqrt(DR) with the
// query of row t (per_token) or of row cS - 1 (per_chunk, the same selection for the whole chunk).
// The K best scores win, ties going to the lower chunk index; the winners are stored in recency
// order (largest chunk index first), which is the order stick-breaking fusion consumes.

// MARK: - Forward

extension CPU {
    /// Per-token top-k chunk selection by landmark score.
    /// - Parameters:
    ///   - indices: (B, T, NKV, K) selected chunk indices in recency order (largest first), -1 in
    ///     empty slots; overwritten.
    ///   - scores: (B, T, NKV, K) `qs · lmk / sqrt(DR)` of the selected chunks, 0 in empty slots;
    ///     overwritten.
    ///   - retrievalQuery: (B, T, NKV, DR) retrieval queries qs.
    ///   - landmarks: (B, NC, NKV, DR) chunk landmarks.
    ///   - shape: the sizes (heads, head size and fusion unused) and the granularity.
    public static func chunkSelectForward(
        indices: UnsafeMutablePointer<Int32>, scores: UnsafeMutablePointer<Float>,
        retrievalQuery: UnsafePointer<Float>, landmarks: UnsafePointer<Float>,
        shape: SparseAttentionShape
    ) {
        let (batch, T, NKV, DR, S, NC, K, scale) = shape.checkedSelectionSizes()
        let granularity = shape.granularity
        // A unit is one selection: a token (per_token) or a chunk of tokens (per_chunk).
        let unitsPerSequence = granularity == .perToken ? T : (T + S - 1) / S
        let units = batch * unitsPerSequence
        let unitsPerBlock = 16
        let blocks = (units + unitsPerBlock - 1) / unitsPerBlock
        let work = (NC + 1) * NKV * DR * unitsPerBlock

        rowParallel(blocks, workPerRow: work) { block in
            // Scratch, once per block: all candidate scores, and the running top-k.
            let candidates = UnsafeMutablePointer<Float>.allocate(capacity: max(NC, 1))
            let best = UnsafeMutablePointer<Int32>.allocate(capacity: K)
            let bestScores = UnsafeMutablePointer<Float>.allocate(capacity: K)
            defer {
                candidates.deallocate()
                best.deallocate()
                bestScores.deallocate()
            }
            let unitEnd = min((block + 1) * unitsPerBlock, units)
            for unit in (block * unitsPerBlock)..<unitEnd {
                let b = unit / unitsPerSequence
                let u = unit % unitsPerSequence
                // Token range sharing this selection, its chunk, and the query row used.
                let firstToken = granularity == .perToken ? u : u * S
                let endToken = granularity == .perToken ? u + 1 : min(u * S + S, T)
                let chunk = firstToken / S
                let eligible = min(chunk, NC)
                let queryRow = granularity == .perToken ? u : u * S - 1
                for g in 0..<NKV {
                    var selected = 0
                    if eligible > 0 {
                        let qs = retrievalQuery + ((b * T + queryRow) * NKV + g) * DR
                        let lmkBase = landmarks + (b * NC * NKV + g) * DR
                        for i in 0..<eligible {
                            candidates[i] = rowDot(qs, lmkBase + i * NKV * DR, count: DR) * scale
                        }
                        selected = selectTopK(
                            selected: best, selectedScores: bestScores, candidates: candidates,
                            count: eligible, topK: K)
                    }
                    for t in firstToken..<endToken {
                        let outIndices = indices + ((b * T + t) * NKV + g) * K
                        let outScores = scores + ((b * T + t) * NKV + g) * K
                        for k in 0..<K {
                            outIndices[k] = k < selected ? best[k] : -1
                            outScores[k] = k < selected ? bestScores[k] : 0
                        }
                    }
                }
            }
        }
    }
}

// MARK: - Backward

extension CPU {
    /// Backward of the selected chunks' scores (the selection itself is not differentiated).
    ///
    /// Accumulates into both outputs. Work is split over (batch, KV head) and tokens run in order,
    /// so the many tokens that selected the same chunk add into its landmark in a fixed order.
    /// - Parameters:
    ///   - dRetrievalQuery: (B, T, NKV, DR) gradient of qs, accumulated (`+=`). With per_chunk,
    ///     every token of chunk c adds into row cS - 1.
    ///   - dLandmarks: (B, NC, NKV, DR) gradient of the landmarks, accumulated (`+=`).
    ///   - dScores: (B, T, NKV, K) gradient of the selected scores.
    ///   - retrievalQuery: (B, T, NKV, DR) retrieval queries qs.
    ///   - landmarks: (B, NC, NKV, DR) chunk landmarks.
    ///   - indices: (B, T, NKV, K) selection from `chunkSelectForward` (-1 in empty slots).
    ///   - shape: the forward's sizes and granularity.
    public static func chunkScoresBackward(
        dRetrievalQuery: UnsafeMutablePointer<Float>, dLandmarks: UnsafeMutablePointer<Float>,
        dScores: UnsafePointer<Float>, retrievalQuery: UnsafePointer<Float>,
        landmarks: UnsafePointer<Float>, indices: UnsafePointer<Int32>,
        shape: SparseAttentionShape
    ) {
        let (batch, T, NKV, DR, S, NC, K, scale) = shape.checkedSelectionSizes()
        let granularity = shape.granularity
        rowParallel(batch * NKV, workPerRow: T * K * DR) { item in
            let b = item / NKV
            let g = item % NKV
            let lmkBase = landmarks + (b * NC * NKV + g) * DR
            let dLmkBase = dLandmarks + (b * NC * NKV + g) * DR
            for t in 0..<T {
                let chunk = t / S
                if chunk == 0 { continue }  // Nothing is eligible in the first chunk.
                let queryRow = granularity == .perToken ? t : chunk * S - 1
                let qs = retrievalQuery + ((b * T + queryRow) * NKV + g) * DR
                let dqs = dRetrievalQuery + ((b * T + queryRow) * NKV + g) * DR
                let slotIndices = indices + ((b * T + t) * NKV + g) * K
                let slotGrads = dScores + ((b * T + t) * NKV + g) * K
                for k in 0..<K {
                    let i = Int(slotIndices[k])
                    if i < 0 { continue }
                    precondition(i < NC, "chunk index \(i) out of range 0..<\(NC)")
                    let ds = slotGrads[k] * scale
                    let lmk = lmkBase + i * NKV * DR
                    let dLmk = dLmkBase + i * NKV * DR
                    for d in 0..<DR {
                        dqs[d] += ds * lmk[d]
                        dLmk[d] += ds * qs[d]
                    }
                }
            }
        }
    }
}

// MARK: - Helpers

extension CPU {
    /// The `topK` largest of `candidates[0..<count]` (ties: lower index first), written into
    /// `selected` / `selectedScores` in recency order (largest chunk index first).
    /// - Returns: the number of slots filled, `min(count, topK)`.
    static func selectTopK(
        selected: UnsafeMutablePointer<Int32>, selectedScores: UnsafeMutablePointer<Float>,
        candidates: UnsafePointer<Float>, count: Int, topK: Int
    ) -> Int {
        // Running top-k sorted by score descending. Candidates arrive in index order, so a
        // strict `>` keeps the earlier (lower) index ahead on ties.
        var filled = 0
        for i in 0..<count {
            let s = candidates[i]
            if filled == topK && !(s > selectedScores[filled - 1]) { continue }
            var position = filled == topK ? filled - 1 : filled
            while position > 0 && s > selectedScores[position - 1] {
                selectedScores[position] = selectedScores[position - 1]
                selected[position] = selected[position - 1]
                position -= 1
            }
            selectedScores[position] = s
            selected[position] = Int32(i)
            if filled < topK { filled += 1 }
        }
        // Re-order the winners by recency: chunk index descending (insertion sort, K is small).
        for a in 1..<max(filled, 1) {
            let index = selected[a]
            let score = selectedScores[a]
            var position = a
            while position > 0 && selected[position - 1] < index {
                selected[position] = selected[position - 1]
                selectedScores[position] = selectedScores[position - 1]
                position -= 1
            }
            selected[position] = index
            selectedScores[position] = score
        }
        return filled
    }
}
