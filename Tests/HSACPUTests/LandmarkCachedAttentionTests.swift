import Foundation
import HSACPU
import HSACore
import HSATestSupport
import Testing

/// `CPU.landmarkCachedAttentionForward` (streaming, top-K blocks) against the training form:
/// with K covering every block the outputs are the training forward's bit for bit, whatever
/// the split of the queries into blocks; with K = 1 they differ once a row has two earlier
/// blocks.
@Suite struct LandmarkCachedAttentionTests {
    /// The cached kernel over `p`'s rows, queried in the blocks `splits` (first rows).
    static func cached(_ p: LandmarkProblem, topK: Int, splits: [Int]) -> [Float] {
        let s = p.shape
        let (T, H, HKV, D, S) = (s.sequenceLength, s.heads, s.kvHeads, s.headDim, s.blockSize)
        let landmarks = stride(from: S, to: T, by: S + 1).flatMap { row in
            p.k[(row * HKV * D)..<((row + 1) * HKV * D)]
        }
        let (q, k, v, keys) = (
            KernelBuffer(p.q), KernelBuffer(p.k), KernelBuffer(p.v), KernelBuffer(landmarks)
        )
        let out = KernelBuffer(count: T * H * D)
        let bounds = splits + [T]
        for (first, end) in zip(bounds, bounds.dropFirst()) {
            CPU.landmarkCachedAttentionForward(
                out: out.pointer + first * H * D, q: q.readOnly + first * H * D, keys: k.readOnly,
                values: v.readOnly, landmarkKeys: keys.readOnly, queryCount: end - first,
                firstQueryPosition: first, keyCount: T,
                shape: LandmarkRetrievalShape(
                    heads: H, kvHeads: HKV, headDim: D, blockCount: landmarks.count / (HKV * D),
                    topK: topK),
                blockSize: S)
        }
        return out.array
    }

    @Test(arguments: [[0], [0, 1, 7, 8, 19], [0, 22]])
    func everyBlockKeptIsTheTrainingFormExactly(splits: [Int]) {
        let shape = LandmarkAttentionShape(
            batch: 1, sequenceLength: 23, heads: 4, kvHeads: 2, headDim: 5, blockSize: 4)
        let p = LandmarkProblem(shape, seed: 31)
        let training = runLandmark(p, dOut: p.cotangent(seed: 1)).out
        #expect(Self.cached(p, topK: 4, splits: splits) == training)
        #expect(Self.cached(p, topK: 9, splits: splits) == training)
    }

    @Test func topOneDropsBlocksOnlyWhereThereAreSeveral() {
        let shape = LandmarkAttentionShape(
            batch: 1, sequenceLength: 23, heads: 4, kvHeads: 2, headDim: 5, blockSize: 4)
        let p = LandmarkProblem(shape, seed: 32)
        let training = runLandmark(p, dOut: p.cotangent(seed: 1)).out
        let topOne = Self.cached(p, topK: 1, splits: [0])
        let rowWidth = 4 * 5
        // Rows 0 ..< 10 (blocks 0 and 1) have at most one earlier block: unchanged.
        #expect(Array(topOne[0..<(10 * rowWidth)]) == Array(training[0..<(10 * rowWidth)]))
        #expect(Array(topOne[(10 * rowWidth)...]) != Array(training[(10 * rowWidth)...]))
        #expect(topOne.allSatisfy { $0.isFinite })
        // Row by row (decode) or at once (prefill): the same retrieval.
        #expect(Self.cached(p, topK: 1, splits: Array(0..<23)) == topOne)
    }
}
