import HSACore

// What the CPU kernels of LandmarkAttention.swift and LandmarkAttentionBackward.swift need of
// their shapes before any work: the checks, the sizes in the one-letter names those kernels are
// written in, and one (batch row, query head) sequence's view of q, k and v.

extension LandmarkAttentionShape {
    /// Traps on sizes the Landmark Attention kernels cannot run, else the sizes they read,
    /// G = H / HKV and the scores' scale 1/sqrt(D).
    func checkedSizes() -> (
        batch: Int, T: Int, H: Int, HKV: Int, D: Int, S: Int, G: Int, scale: Float
    ) {
        precondition(batch >= 0 && sequenceLength >= 0 && heads > 0 && kvHeads > 0)
        precondition(headDim > 0 && blockSize > 0, "landmark attention: empty head or block")
        precondition(heads % kvHeads == 0, "heads \(heads) must be a multiple of \(kvHeads)")
        let scale = 1 / Float(headDim).squareRoot()
        return (batch, sequenceLength, heads, kvHeads, headDim, blockSize, group, scale)
    }
}

extension LandmarkRetrievalShape {
    /// Traps on sizes the retrieval cannot run, else the sizes it reads, G and 1/sqrt(D).
    func checkedSizes() -> (H: Int, HKV: Int, D: Int, NB: Int, K: Int, G: Int, scale: Float) {
        precondition(heads > 0 && kvHeads > 0 && headDim > 0 && blockCount >= 0 && topK > 0)
        precondition(heads % kvHeads == 0, "heads \(heads) must be a multiple of \(kvHeads)")
        let scale = 1 / Float(headDim).squareRoot()
        return (heads, kvHeads, headDim, blockCount, topK, group, scale)
    }
}

/// One (batch row b, query head h) sequence of Landmark Attention: where its rows live. Query
/// row t is `q + t * queryStride` (D contiguous values), key / value row j (kv head h / G) is
/// `k + j * keyStride`.
struct LandmarkHeadSequence {
    let q: UnsafePointer<Float>
    let k: UnsafePointer<Float>
    let v: UnsafePointer<Float>
    /// H * D and HKV * D.
    let queryStride: Int
    let keyStride: Int
    /// D, S and 1/sqrt(D).
    let headDim: Int
    let blockSize: Int
    let scale: Float

    init(
        _ inputs: LandmarkAttentionInputs, shape: LandmarkAttentionShape, batchRow b: Int,
        head h: Int
    ) {
        let (T, H, HKV, D) = (shape.sequenceLength, shape.heads, shape.kvHeads, shape.headDim)
        let g = h / shape.group
        q = inputs.q + (b * T * H + h) * D
        k = inputs.k + (b * T * HKV + g) * D
        v = inputs.v + (b * T * HKV + g) * D
        (queryStride, keyStride) = (H * D, HKV * D)
        (headDim, blockSize) = (D, shape.blockSize)
        scale = 1 / Float(D).squareRoot()
    }

    func query(_ t: Int) -> UnsafePointer<Float> { q + t * queryStride }
    func key(_ j: Int) -> UnsafePointer<Float> { k + j * keyStride }
    func value(_ j: Int) -> UnsafePointer<Float> { v + j * keyStride }

    /// q · k_j / sqrt(D) for the query row `query`.
    @inline(__always)
    func score(_ query: UnsafePointer<Float>, _ j: Int) -> Float {
        let key = key(j)
        var dot: Float = 0
        for d in 0..<headDim { dot += query[d] * key[d] }
        return dot * scale
    }

    /// The own-block keys of the query at t: the ordinary positions of its block up to t (up to
    /// the block's last ordinary position when t is the landmark). Never empty.
    func ownKeys(_ t: Int) -> Range<Int> {
        let start = t / (blockSize + 1) * (blockSize + 1)
        return start..<min(t + 1, start + blockSize)
    }
}
