// The pointers of the Mamba2 SSD scan, grouped the way the forward and the backward share them
// (the backward reads the forward's inputs again), as SparseAttentionOperands.swift does for
// sparse attention. Letters as in `SSDShape`: B batch, T sequence, H heads, P head size,
// G groups of heads sharing B and C, N state size.
//
// The scan, per batch row b and head h (group g = h / (H / G)), with state h_t of size (P, N):
//   h_t = exp(dt_t A) h_{t-1} + dt_t x_t B_t^T,   y_t = h_t C_t + D x_t,
// starting from h_{-1} = the initial state; the final state is h_{T-1}.

/// What the SSD scan reads. All contiguous, row-major fp32.
public struct SSDInputs {
    /// (B, T, H, P) the mixer's input x (after the causal conv and its activation).
    public var x: UnsafePointer<Float>
    /// (B, T, H) step sizes dt, positive (softplus(raw + bias) already applied).
    public var dt: UnsafePointer<Float>
    /// (H) the per-head decay rate A, negative (the scalar of A = a·I, e.g. -exp(A_log)).
    public var A: UnsafePointer<Float>
    /// (B, T, G, N) the input projection B_t.
    public var B: UnsafePointer<Float>
    /// (B, T, G, N) the output projection C_t.
    public var C: UnsafePointer<Float>
    /// (H) the skip D.
    public var D: UnsafePointer<Float>
    /// (B, H, P, N) the state before token 0 (the previous segment's final state), or nil for
    /// zeros.
    public var initialState: UnsafePointer<Float>?

    /// Groups the inputs of one call.
    public init(
        x: UnsafePointer<Float>, dt: UnsafePointer<Float>, A: UnsafePointer<Float>,
        B: UnsafePointer<Float>, C: UnsafePointer<Float>, D: UnsafePointer<Float>,
        initialState: UnsafePointer<Float>?
    ) {
        (self.x, self.dt, self.A, self.B, self.C, self.D) = (x, dt, A, B, C, D)
        self.initialState = initialState
    }
}

/// What the SSD scan backward writes; every buffer is OVERWRITTEN (parameter gradients are
/// per-call values: a caller that accumulates adds them itself).
public struct SSDGradients {
    /// (B, T, H, P) dL/dx.
    public var dx: UnsafeMutablePointer<Float>
    /// (B, T, H) dL/ddt.
    public var dDt: UnsafeMutablePointer<Float>
    /// (H) dL/dA, summed over the batch.
    public var dA: UnsafeMutablePointer<Float>
    /// (B, T, G, N) dL/dB, summed over the heads of each group.
    public var dB: UnsafeMutablePointer<Float>
    /// (B, T, G, N) dL/dC, summed over the heads of each group.
    public var dC: UnsafeMutablePointer<Float>
    /// (H) dL/dD, summed over the batch.
    public var dD: UnsafeMutablePointer<Float>
    /// (B, H, P, N) dL/d(initial state), or nil when the caller does not need it.
    public var dInitialState: UnsafeMutablePointer<Float>?

    /// Groups the gradients of one call.
    public init(
        dx: UnsafeMutablePointer<Float>, dDt: UnsafeMutablePointer<Float>,
        dA: UnsafeMutablePointer<Float>, dB: UnsafeMutablePointer<Float>,
        dC: UnsafeMutablePointer<Float>, dD: UnsafeMutablePointer<Float>,
        dInitialState: UnsafeMutablePointer<Float>?
    ) {
        (self.dx, self.dDt, self.dA, self.dB, self.dC, self.dD) = (dx, dDt, dA, dB, dC, dD)
        self.dInitialState = dInitialState
    }
}
