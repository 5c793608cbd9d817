import HSACPU
import HSACore

/// A plain pre-norm layer: `y = x + Attn(RMSNorm(x))`, `out = y + MLP(RMSNorm(y))`.
/// Lower layers, upper layers without HSA and encoder layers are all of this kind.
struct DecoderLayer {
    let attention: AttentionSublayer
    let mlp: MLPSublayer

    init(config: ModelConfig, op: AttentionOp) {
        attention = AttentionSublayer(config: config, op: op)
        mlp = MLPSublayer(config: config)
    }

    init(config: ModelConfig, mask: AttentionMask) {
        self.init(config: config, op: .masked(mask))
    }

    /// Activations kept for the backward pass.
    struct Cache {
        let attention: AttentionSublayer.Cache
        let afterAttention: Tensor  // (N, C) y
        let mlp: MLPSublayer.Cache
    }

    // MARK: - Forward

    /// Writes `out` (N, C) for input `x` (N, C), N = batch * sequenceLength.
    func forward(
        out: Tensor, input x: Tensor, weights w: DecoderLayerWeights, positions: [Int32],
        batch: Int, sequenceLength: Int
    ) -> Cache {
        let y = Tensor(shape: x.shape)
        let attentionCache = attention.forward(
            out: y, input: x, weights: w, positions: positions, batch: batch,
            sequenceLength: sequenceLength)
        let mlpCache = mlp.forward(
            out: out, normInput: y, residual: y, weights: w, rows: batch * sequenceLength)
        return Cache(attention: attentionCache, afterAttention: y, mlp: mlpCache)
    }

    // MARK: - Backward

    /// dInput (N, C) += the gradient of the layer's input; parameter gradients accumulate.
    func backward(
        dInput: Tensor, dOut: Tensor, input x: Tensor, cache: Cache, weights w: DecoderLayerWeights,
        grads g: DecoderLayerWeights, positions: [Int32], batch: Int, sequenceLength: Int
    ) {
        let dY = Tensor(shape: x.shape)
        dY.copy(from: dOut)
        mlp.backward(
            dNormInput: dY, dOut: dOut, normInput: cache.afterAttention, cache: cache.mlp,
            weights: w, grads: g, rows: batch * sequenceLength)
        attention.backward(
            dInput: dInput, dOut: dY, input: x, cache: cache.attention, weights: w, grads: g,
            positions: positions, batch: batch, sequenceLength: sequenceLength)
    }
}
