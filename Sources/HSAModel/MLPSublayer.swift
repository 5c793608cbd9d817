import HSACPU
import HSACore

/// `out = residual + down(silu(gate(h)) * up(h))` with `h = RMSNorm(normInput)`.
/// In a plain layer `normInput` and `residual` are the same tensor; the bypassing residual path
/// of an HSA layer feeds the MLP from `y + hsa` while the residual stays `y`.
struct MLPSublayer {
    let config: ModelConfig

    /// Activations kept for the backward pass.
    struct Cache {
        let normed: Tensor  // (N, C)
        let rstd: Tensor  // (N)
        let gate: Tensor  // (N, F)
        let up: Tensor  // (N, F)
        let hidden: Tensor  // (N, F) silu(gate) * up
    }

    // MARK: - Forward

    /// Writes `out` (N, C).
    func forward(
        out: Tensor, normInput: Tensor, residual: Tensor, weights w: some MLPSublayerWeights,
        rows n: Int
    ) -> Cache {
        let f = config.dFf
        let cache = Cache(
            normed: Tensor(shape: [n, config.dModel]), rstd: Tensor(shape: [n]),
            gate: Tensor(shape: [n, f]), up: Tensor(shape: [n, f]), hidden: Tensor(shape: [n, f]))
        TensorOps.rmsNorm(cache.normed, rstd: cache.rstd, normInput, w.mlpNorm, rows: n)
        TensorOps.linear(cache.gate, cache.normed, w.gate, rows: n)
        TensorOps.linear(cache.up, cache.normed, w.up, rows: n)
        TensorOps.backend.swigluForward(
            out: cache.hidden.data, gate: cache.gate.data, up: cache.up.data, count: n * f)
        TensorOps.linear(out, cache.hidden, w.down, rows: n)
        TensorOps.accumulate(out, residual)
        return cache
    }

    // MARK: - Backward

    /// dNormInput (N, C) += the gradient through the MLP branch; the caller adds dOut to the
    /// residual's gradient itself (it may be the same tensor as normInput's).
    func backward(
        dNormInput: Tensor, dOut: Tensor, normInput: Tensor, cache: Cache,
        weights w: some MLPSublayerWeights, grads g: some MLPSublayerWeights, rows n: Int
    ) {
        let f = config.dFf
        let dHidden = TensorOps.linearInputGradient(
            dWeight: g.down, dOut: dOut, input: cache.hidden, weight: w.down, rows: n)
        let dGate = Tensor(shape: [n, f])
        let dUp = Tensor(shape: [n, f])
        TensorOps.backend.swigluBackward(
            dGate: dGate.data, dUp: dUp.data, dOut: dHidden.data, gate: cache.gate.data,
            up: cache.up.data, count: n * f)
        let dNormed = Tensor(shape: [n, config.dModel])
        TensorOps.linearBackward(
            dInput: dNormed, dWeight: g.gate, dOut: dGate, input: cache.normed, weight: w.gate,
            rows: n)
        TensorOps.linearBackward(
            dInput: dNormed, dWeight: g.up, dOut: dUp, input: cache.normed, weight: w.up, rows: n)
        TensorOps.rmsNormBackward(
            dInput: dNormInput, dWeight: g.mlpNorm, dOut: dNormed, input: normInput,
            weight: w.mlpNorm, rstd: cache.rstd, rows: n)
    }
}
