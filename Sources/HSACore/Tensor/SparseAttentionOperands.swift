// The pointers of hierarchical sparse attention, grouped the way the forward and the backward
// share them: the backward reads the forward's inputs and results again, so each group is one
// value instead of a dozen pointers restated by every backend.

/// What sparse attention reads: queries, the chunk memory and the selection.
public struct SparseAttentionInputs {
    /// (B, T, NH, HS) queries, already QK-normed.
    public var q: UnsafePointer<Float>
    /// (B, NC, S, NKV, HS) chunk keys, already normed.
    public var keys: UnsafePointer<Float>
    /// (B, NC, S, NKV, HS) chunk values.
    public var values: UnsafePointer<Float>
    /// (B, T, NKV, K) selection from `chunkSelectForward`, recency order, -1 in empty slots;
    /// host memory.
    public var indices: UnsafePointer<Int32>
    /// (B, T, NKV, K) the selected chunks' scores.
    public var scores: UnsafePointer<Float>

    /// Groups the inputs of one call.
    public init(
        q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        indices: UnsafePointer<Int32>, scores: UnsafePointer<Float>
    ) {
        (self.q, self.keys, self.values, self.indices, self.scores) = (
            q, keys, values, indices, scores
        )
    }
}

/// What the sparse attention forward writes (overwriting) and its backward reads again.
public struct SparseAttentionResults {
    /// (B, T, NH, HS) fused output y.
    public var out: UnsafeMutablePointer<Float>
    /// (B, T, NKV, K) fusion weights w (0 in empty slots and for `joint`).
    public var fusionWeights: UnsafeMutablePointer<Float>
    /// (B, T, NH, K, HS) per-chunk outputs o[t,h,k] (0 in empty slots); not written for `joint`.
    public var chunkOutputs: UnsafeMutablePointer<Float>
    /// (B, T, NH, K) logsumexp of each chunk's scaled logits (0 in empty slots); for `joint`,
    /// slot 0 holds the joint logsumexp and the rest are 0.
    public var chunkLogSumExp: UnsafeMutablePointer<Float>

    /// Groups the results of one call.
    public init(
        out: UnsafeMutablePointer<Float>, fusionWeights: UnsafeMutablePointer<Float>,
        chunkOutputs: UnsafeMutablePointer<Float>, chunkLogSumExp: UnsafeMutablePointer<Float>
    ) {
        (self.out, self.fusionWeights, self.chunkOutputs, self.chunkLogSumExp) = (
            out, fusionWeights, chunkOutputs, chunkLogSumExp
        )
    }
}
