import HSACPU
import HSACore

/// `y = x + o_proj(Attention(RMSNorm(x)))` with grouped heads, optional QK-norm, RoPE (unless
/// the config is NoPE) and a sliding-window, causal or bidirectional mask, or Landmark Attention
/// (`AttentionOp`). Used by decoder and encoder layers.
struct AttentionSublayer {
    let config: ModelConfig
    let op: AttentionOp

    init(config: ModelConfig, op: AttentionOp) {
        self.config = config
        self.op = op
    }

    init(config: ModelConfig, mask: AttentionMask) {
        self.init(config: config, op: .masked(mask))
    }

    /// Activations kept for the backward pass; N = batch * sequenceLength rows.
    struct Cache {
        let normed: Tensor  // (N, C)
        let rstd: Tensor  // (N)
        let queryRaw: Tensor  // (N, NH*HS) before QK-norm
        let keyRaw: Tensor  // (N, NKV*HS)
        let queryRstd: Tensor  // (N*NH)
        let keyRstd: Tensor  // (N*NKV)
        let query: Tensor  // (N, NH*HS) normed and rotated
        let key: Tensor  // (N, NKV*HS)
        let value: Tensor  // (N, NKV*HS)
        let attention: Tensor  // (N, NH*HS)
        let logSumExp: Tensor  // (N, NH)
    }

    // MARK: - Forward

    /// Writes `out` (N, C) = x + attention(x). `positions` (N) are the RoPE positions.
    func forward(
        out: Tensor, input x: Tensor, weights w: DecoderLayerWeights, positions: [Int32],
        batch: Int, sequenceLength: Int
    ) -> Cache {
        let n = batch * sequenceLength
        let (nh, nkv, hs) = (config.nHeads, config.nKvHeads, config.headDim)
        let cache = Cache(
            normed: Tensor(shape: [n, config.dModel]), rstd: Tensor(shape: [n]),
            queryRaw: Tensor(shape: [n, nh * hs]), keyRaw: Tensor(shape: [n, nkv * hs]),
            queryRstd: Tensor(shape: [n * nh]), keyRstd: Tensor(shape: [n * nkv]),
            query: Tensor(shape: [n, nh * hs]), key: Tensor(shape: [n, nkv * hs]),
            value: Tensor(shape: [n, nkv * hs]), attention: Tensor(shape: [n, nh * hs]),
            logSumExp: Tensor(shape: [n, nh]))
        TensorOps.rmsNorm(cache.normed, rstd: cache.rstd, x, w.attentionNorm, rows: n)
        TensorOps.linear(cache.queryRaw, cache.normed, w.query, bias: w.queryBias, rows: n)
        TensorOps.linear(cache.keyRaw, cache.normed, w.key, bias: w.keyBias, rows: n)
        TensorOps.linear(cache.value, cache.normed, w.value, bias: w.valueBias, rows: n)
        if let queryNorm = w.queryNorm, let keyNorm = w.keyNorm {
            TensorOps.rmsNorm(
                cache.query, rstd: cache.queryRstd, cache.queryRaw, queryNorm, rows: n * nh)
            TensorOps.rmsNorm(cache.key, rstd: cache.keyRstd, cache.keyRaw, keyNorm, rows: n * nkv)
        } else {
            cache.query.copy(from: cache.queryRaw)
            cache.key.copy(from: cache.keyRaw)
        }
        if config.usesRoPE {
            TensorOps.backend.ropeQueryAndKey(
                query: cache.query.data, key: cache.key.data, rows: n, positions: positions,
                config: config, direction: .forward)
        }
        op.forward(
            out: cache.attention, logSumExp: cache.logSumExp, q: cache.query, k: cache.key,
            v: cache.value, config: config, batch: batch, sequenceLength: sequenceLength)
        TensorOps.linear(out, cache.attention, w.output, rows: n)
        TensorOps.accumulate(out, x)
        return cache
    }

    // MARK: - Backward

    /// dInput (N, C) += dOut + the gradient through the attention branch; parameter gradients
    /// accumulate into `grads`.
    func backward(
        dInput: Tensor, dOut: Tensor, input x: Tensor, cache: Cache, weights w: DecoderLayerWeights,
        grads g: DecoderLayerWeights, positions: [Int32], batch: Int, sequenceLength: Int
    ) {
        let n = batch * sequenceLength
        let (nh, nkv, hs) = (config.nHeads, config.nKvHeads, config.headDim)
        TensorOps.accumulate(dInput, dOut)
        let dAttention = TensorOps.linearInputGradient(
            dWeight: g.output, dOut: dOut, input: cache.attention, weight: w.output, rows: n)
        let dQuery = Tensor(shape: [n, nh * hs])
        let dKey = Tensor(shape: [n, nkv * hs])
        let dValue = Tensor(shape: [n, nkv * hs])
        op.backward(
            dQ: dQuery, dK: dKey, dV: dValue, dOut: dAttention, out: cache.attention,
            logSumExp: cache.logSumExp, q: cache.query, k: cache.key, v: cache.value,
            config: config, batch: batch, sequenceLength: sequenceLength)
        if config.usesRoPE {
            TensorOps.backend.ropeQueryAndKey(
                query: dQuery.data, key: dKey.data, rows: n, positions: positions, config: config,
                direction: .backward)
        }
        let dQueryRaw: Tensor
        let dKeyRaw: Tensor
        if let queryNorm = w.queryNorm, let keyNorm = w.keyNorm, let gq = g.queryNorm,
            let gk = g.keyNorm
        {
            dQueryRaw = Tensor(shape: [n, nh * hs])
            dKeyRaw = Tensor(shape: [n, nkv * hs])
            TensorOps.rmsNormBackward(
                dInput: dQueryRaw, dWeight: gq, dOut: dQuery, input: cache.queryRaw,
                weight: queryNorm, rstd: cache.queryRstd, rows: n * nh)
            TensorOps.rmsNormBackward(
                dInput: dKeyRaw, dWeight: gk, dOut: dKey, input: cache.keyRaw, weight: keyNorm,
                rstd: cache.keyRstd, rows: n * nkv)
        } else {
            dQueryRaw = dQuery
            dKeyRaw = dKey
        }
        let dNormed = Tensor(shape: [n, config.dModel])
        TensorOps.linearBackward(
            dInput: dNormed, dWeight: g.query, dBias: g.queryBias, dOut: dQueryRaw,
            input: cache.normed, weight: w.query, rows: n)
        TensorOps.linearBackward(
            dInput: dNormed, dWeight: g.key, dBias: g.keyBias, dOut: dKeyRaw, input: cache.normed,
            weight: w.key, rows: n)
        TensorOps.linearBackward(
            dInput: dNormed, dWeight: g.value, dBias: g.valueBias, dOut: dValue,
            input: cache.normed, weight: w.value, rows: n)
        TensorOps.rmsNormBackward(
            dInput: dInput, dWeight: g.attentionNorm, dOut: dNormed, input: x,
            weight: w.attentionNorm, rstd: cache.rstd, rows: n)
    }
}
