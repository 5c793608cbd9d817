import Foundation
import HSACore

// Landmark Attention of new rows over a streaming block cache (inference only: no backward, no
// log-sum-exp). The cache holds the keys and values of every row so far, landmarks included,
// in the layout of `LandmarkAttentionShape` (the landmark of block c at c (S + 1) + S), and the
// landmark keys once more, contiguous, for the retrieval step.
//
// Retrieval rule: the query at t in block c scores the landmark keys of the c complete earlier
// blocks (`landmarkRetrieval`, per query head), keeps its K best (earlier block on ties) and
// runs the training form's grouped softmax over the kept blocks, in ascending order, and its
// own block's keys. With K >= c every block is kept and the arithmetic is that of
// `landmarkAttentionForward`, loop order included; with fewer blocks it is the grouped softmax
// restricted to them (the dropped blocks' terms leave the numerator and the denominator). The
// attention reads at most (K + 1) S keys per head; scoring the landmarks reads c keys.

extension CPU {
    /// Landmark Attention of `queryCount` new rows at positions P ..< P + N, whose keys and
    /// values the cache already holds, over their own blocks and their top-K earlier blocks.
    /// - Parameters:
    ///   - out: (N, H, D) attention output, overwritten.
    ///   - q: (N, H, D) queries (positional encoding applied as the layer dictates).
    ///   - keys: (L, HKV, D) the keys of rows 0 ..< L, L >= P + N.
    ///   - values: (L, HKV, D) their values.
    ///   - landmarkKeys: (NB, HKV, D) the landmark keys of blocks 0 ..< NB, every complete block
    ///     before row P + N - 1.
    ///   - shape: the sizes; `blockCount` is NB, `topK` is K.
    ///   - blockSize: S, ordinary rows per block.
    public static func landmarkCachedAttentionForward(
        out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, keys: UnsafePointer<Float>,
        values: UnsafePointer<Float>, landmarkKeys: UnsafePointer<Float>, queryCount: Int,
        firstQueryPosition: Int, keyCount: Int, shape: LandmarkRetrievalShape, blockSize: Int
    ) {
        let (H, _, D, NB, K, _, _) = shape.checkedSizes()
        let (N, P, S) = (queryCount, firstQueryPosition, blockSize)
        precondition(
            S > 0 && P + N <= keyCount, "landmark cache: rows up to \(P + N) of \(keyCount)")
        precondition(
            N == 0 || (P + N - 1) / (S + 1) <= NB, "landmark cache: \(NB) landmarks too few")
        rowParallel(N, workPerRow: H * D * (min(NB, K) + 1) * (S + 1)) { i in
            let t = P + i
            let earlier = t / (S + 1)
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: max(S, H * earlier))
            let indices = UnsafeMutablePointer<Int32>.allocate(capacity: H * K)
            let blockOut = UnsafeMutablePointer<Float>.allocate(capacity: D)
            defer {
                scores.deallocate()
                indices.deallocate()
                blockOut.deallocate()
            }
            // With every earlier block kept, retrieval is the identity: skip the scoring.
            let retrieves = earlier > K
            if retrieves {
                landmarkRetrieval(
                    scores: scores, indices: indices, query: q + i * H * D,
                    landmarkKeys: landmarkKeys,
                    shape: LandmarkRetrievalShape(
                        heads: H, kvHeads: shape.kvHeads, headDim: D, blockCount: earlier,
                        topK: K))
            }
            for h in 0..<H {
                let sequence = LandmarkHeadSequence(
                    cacheKeys: keys, values: values, queries: q + i * H * D, head: h,
                    shape: shape, blockSize: S)
                // The scores' scratch is reused by the grouped softmax once retrieval is done.
                let kept =
                    retrieves
                    ? (0..<K).map { Int(indices[h * K + $0]) }.filter { $0 >= 0 }
                    : Array(0..<earlier)
                _ = sequence.groupedSoftmaxRow(
                    query: sequence.query(0), blocks: kept, ownKeys: sequence.ownKeys(t),
                    out: out + (i * H + h) * D, scores: scores, blockOut: blockOut)
            }
        }
    }
}

extension LandmarkHeadSequence {
    /// Query head h's view of a streaming cache: key / value rows (L, HKV, D) at positions
    /// 0 ..< L, and one query row (`query(0)`) at `queries` (H, D).
    init(
        cacheKeys keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        queries: UnsafePointer<Float>, head h: Int, shape: LandmarkRetrievalShape,
        blockSize: Int
    ) {
        let (HKV, D) = (shape.kvHeads, shape.headDim)
        let g = h / shape.group
        q = queries + h * D
        k = keys + g * D
        v = values + g * D
        (queryStride, keyStride) = (shape.heads * D, HKV * D)
        (headDim, self.blockSize) = (D, blockSize)
        scale = 1 / Float(D).squareRoot()
    }
}
