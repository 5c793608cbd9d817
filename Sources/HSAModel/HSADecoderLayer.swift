import HSACPU
import HSACore

/// An upper layer with HSA: `y = x + SWA(RMSNorm_1(x))`, then with `x' = y + HSA(RMSNorm_h(y))`
/// either `out = y + MLP(RMSNorm_2(x'))` (bypass) or `out = x' + MLP(RMSNorm_2(x'))`
/// (sequential), MODEL.md "Residual paths".
struct HSADecoderLayer {
    let config: ModelConfig
    let attention: AttentionSublayer
    let hsa: HSASublayer
    let mlp: MLPSublayer

    init(config: ModelConfig) {
        self.config = config
        attention = AttentionSublayer(config: config, mask: .causal(window: config.effectiveWindow))
        hsa = HSASublayer(config: config)
        mlp = MLPSublayer(config: config)
    }

    /// Activations kept for the backward pass.
    struct Cache {
        let attention: AttentionSublayer.Cache
        let afterAttention: Tensor  // (N, C) y
        let hsa: HSASublayer.Cache
        let mlpInput: Tensor  // (N, C) y + hsa_out
        let mlp: MLPSublayer.Cache
    }

    // MARK: - Forward

    func forward(
        out: Tensor, input x: Tensor, memory: ChunkMemoryTensors, weights w: DecoderLayerWeights,
        hsaWeights: HSAWeights, positions: [Int32], batch: Int, sequenceLength: Int,
        fixedIndices: [Int32]? = nil
    ) -> Cache {
        let n = batch * sequenceLength
        let y = Tensor(shape: x.shape)
        let attentionCache = attention.forward(
            out: y, input: x, weights: w, positions: positions, batch: batch,
            sequenceLength: sequenceLength)
        let mlpInput = Tensor(shape: x.shape)
        let hsaCache = hsa.forward(
            out: mlpInput, input: y, memory: memory, weights: hsaWeights, batch: batch,
            sequenceLength: sequenceLength, fixedIndices: fixedIndices)
        TensorOps.accumulate(mlpInput, y)
        let residual = config.residual == .bypass ? y : mlpInput
        let mlpCache = mlp.forward(
            out: out, normInput: mlpInput, residual: residual, weights: w, rows: n)
        return Cache(
            attention: attentionCache, afterAttention: y, hsa: hsaCache, mlpInput: mlpInput,
            mlp: mlpCache)
    }

    // MARK: - Backward

    /// dInput (N, C) += gradient of x; dMemory += gradient of the chunk memory.
    func backward(
        dInput: Tensor, dMemory: ChunkMemoryTensors, dOut: Tensor, input x: Tensor,
        memory: ChunkMemoryTensors, cache: Cache, weights w: DecoderLayerWeights,
        grads g: DecoderLayerWeights, hsaWeights: HSAWeights, hsaGrads: HSAWeights,
        positions: [Int32], batch: Int, sequenceLength: Int
    ) {
        let n = batch * sequenceLength
        // dMLPInput: the gradient of x' (or z) through the MLP branch.
        let dMLPInput = Tensor(shape: x.shape)
        mlp.backward(
            dNormInput: dMLPInput, dOut: dOut, normInput: cache.mlpInput, cache: cache.mlp,
            weights: w, grads: g, rows: n)
        if config.residual == .sequential { TensorOps.accumulate(dMLPInput, dOut) }
        // dY: gradient of y = residual path (bypass only) + the x' path + the HSA branch.
        let dY = Tensor(shape: x.shape)
        dY.copy(from: dMLPInput)
        if config.residual == .bypass { TensorOps.accumulate(dY, dOut) }
        hsa.backward(
            dInput: dY, dMemory: dMemory, dOut: dMLPInput, input: cache.afterAttention,
            memory: memory, cache: cache.hsa, weights: hsaWeights, grads: hsaGrads, batch: batch,
            sequenceLength: sequenceLength)
        attention.backward(
            dInput: dInput, dOut: dY, input: x, cache: cache.attention, weights: w, grads: g,
            positions: positions, batch: batch, sequenceLength: sequenceLength)
    }
}
