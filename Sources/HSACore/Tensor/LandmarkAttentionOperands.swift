// The pointers of Landmark Attention (Mohtashami & Jaggi 2023), grouped the way the forward and
// the backward share them, as SSDOperands.swift does for the Mamba2 scan. Letters as in
// `LandmarkAttentionShape`: B batch, T positions (landmarks included), H query heads, HKV
// key/value heads, D head size, S ordinary tokens per block; query head h reads kv head
// h / (H / HKV). Scores are s_j = q · k_j / sqrt(D) on q and k as given: the op applies no
// positional encoding, the layer rotates q and k first (RoPE) or not (NoPE).
//
// The grouped softmax, for the query at position t of block c (landmark or not):
//   own   = the ordinary positions of block c up to t (block c's landmark never: a landmark
//           query does not see its own key)
//   outer = softmax over own ∪ {the landmarks L_b of the earlier blocks b < c}: p_j
//   inner = for each earlier block b, softmax over its S ordinary positions: r_j
//   out_t = Σ_{j ∈ own} p_j v_j + Σ_{b < c} p_{L_b} Σ_{j ∈ block b} r_j v_j
// so a landmark's value is never read (its key only gates its block), and the weights of a
// query sum to one.

/// What Landmark Attention reads. All contiguous, row-major fp32.
public struct LandmarkAttentionInputs {
    /// (B, T, H, D) queries (rotated already if the layer uses RoPE).
    public var q: UnsafePointer<Float>
    /// (B, T, HKV, D) keys, landmark positions included.
    public var k: UnsafePointer<Float>
    /// (B, T, HKV, D) values (those at landmark positions are unused).
    public var v: UnsafePointer<Float>

    /// Groups the inputs of one call.
    public init(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>) {
        (self.q, self.k, self.v) = (q, k, v)
    }
}

/// What the Landmark Attention forward writes (overwriting) and its backward reads again.
public struct LandmarkAttentionResults {
    /// (B, T, H, D) the output.
    public var out: UnsafeMutablePointer<Float>
    /// (B, T, H) log of the outer softmax's denominator (own-block scores and earlier landmark
    /// scores, max included). The inner softmaxes are recomputed by the backward.
    public var logSumExp: UnsafeMutablePointer<Float>

    /// Groups the results of one call.
    public init(out: UnsafeMutablePointer<Float>, logSumExp: UnsafeMutablePointer<Float>) {
        (self.out, self.logSumExp) = (out, logSumExp)
    }
}

/// What the Landmark Attention backward writes; every buffer is OVERWRITTEN.
public struct LandmarkAttentionGradients {
    /// (B, T, H, D) dL/dq.
    public var dq: UnsafeMutablePointer<Float>
    /// (B, T, HKV, D) dL/dk, summed over the query heads of each kv head.
    public var dk: UnsafeMutablePointer<Float>
    /// (B, T, HKV, D) dL/dv (zero at landmark positions).
    public var dv: UnsafeMutablePointer<Float>

    /// Groups the gradients of one call.
    public init(
        dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
        dv: UnsafeMutablePointer<Float>
    ) {
        (self.dq, self.dk, self.dv) = (dq, dk, dv)
    }
}
