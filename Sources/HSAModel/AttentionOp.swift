import HSACore

/// The attention op an `AttentionSublayer` runs on its rotated (or not) queries, keys and
/// values: dense attention under a mask, or Landmark Attention for `attention: landmark`, whose
/// rows already hold the inserted landmarks (`LandmarkRows`). Both write (N, NH, HS) outputs
/// and an (N, NH) log-sum-exp, so the sublayer around them is the same.
enum AttentionOp {
    /// Dense attention: sliding-window, causal or bidirectional.
    case masked(AttentionMask)
    /// Landmark Attention with S = `blockSize` ordinary rows per block.
    case landmark(blockSize: Int)

    /// The op of `config`'s decoder layers (lower, upper and the SWA part of HSA layers).
    static func decoder(_ config: ModelConfig) -> AttentionOp {
        config.usesLandmarks
            ? .landmark(blockSize: config.landmarkBlock)
            : .masked(.causal(window: config.effectiveWindow))
    }

    /// out (N, NH*HS) and logSumExp (N, NH) overwritten; N = batch * sequenceLength.
    func forward(
        out: Tensor, logSumExp: Tensor, q: Tensor, k: Tensor, v: Tensor, config: ModelConfig,
        batch: Int, sequenceLength: Int
    ) {
        let backend = TensorOps.backend
        switch self {
        case .masked(let mask):
            backend.attentionForward(
                out: out.data, logSumExp: logSumExp.data, q: q.data, k: k.data, v: v.data,
                shape: AttentionShape(
                    batch: batch, sequenceLength: sequenceLength, heads: config.nHeads,
                    kvHeads: config.nKvHeads, headDim: config.headDim, mask: mask))
        case .landmark(let blockSize):
            backend.landmarkAttentionForward(
                into: LandmarkAttentionResults(out: out.data, logSumExp: logSumExp.data),
                inputs: LandmarkAttentionInputs(q: q.data, k: k.data, v: v.data),
                shape: LandmarkAttentionShape(
                    batch: batch, sequenceLength: sequenceLength, heads: config.nHeads,
                    kvHeads: config.nKvHeads, headDim: config.headDim, blockSize: blockSize))
        }
    }

    /// dQ, dK, dV overwritten from dOut and what `forward` wrote for the same inputs.
    func backward(
        dQ: Tensor, dK: Tensor, dV: Tensor, dOut: Tensor, out: Tensor, logSumExp: Tensor,
        q: Tensor, k: Tensor, v: Tensor, config: ModelConfig, batch: Int, sequenceLength: Int
    ) {
        let backend = TensorOps.backend
        switch self {
        case .masked(let mask):
            backend.attentionBackward(
                dQ: dQ.data, dK: dK.data, dV: dV.data, dOut: dOut.data, out: out.data,
                logSumExp: logSumExp.data, q: q.data, k: k.data, v: v.data,
                shape: AttentionShape(
                    batch: batch, sequenceLength: sequenceLength, heads: config.nHeads,
                    kvHeads: config.nKvHeads, headDim: config.headDim, mask: mask))
        case .landmark(let blockSize):
            backend.landmarkAttentionBackward(
                into: LandmarkAttentionGradients(dq: dQ.data, dk: dK.data, dv: dV.data),
                dOut: dOut.data,
                forward: LandmarkAttentionResults(out: out.data, logSumExp: logSumExp.data),
                inputs: LandmarkAttentionInputs(q: q.data, k: k.data, v: v.data),
                shape: LandmarkAttentionShape(
                    batch: batch, sequenceLength: sequenceLength, heads: config.nHeads,
                    kvHeads: config.nKvHeads, headDim: config.headDim, blockSize: blockSize))
        }
    }
}
