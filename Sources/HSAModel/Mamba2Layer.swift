import Foundation
import HSACPU
import HSACore

/// A `mixer: mamba2` layer: `y = x + Mamba2(RMSNorm(x))`, `out = y + MLP(RMSNorm(y))`.
///
/// The Mamba2 mixer (Dao & Gu 2024, the Mamba2 block), E = expand · C, H = E / P:
///   in_proj (C → 2E + 2GN + H) split into z (E), xBC (E + 2GN), dt_raw (H);
///   xBC = SiLU(causal depthwise conv1d(xBC)), split into x (H, P), B (G, N), C (G, N);
///   dt = softplus(dt_raw + dt_bias); A = -exp(A_log) per head;
///   y = SSD(x, dt, A, B, C, D) from a zero state; y = RMSNorm(y · SiLU(z)) (per group of E / G);
///   out_proj (E → C).
/// Streaming runs the same forward block by block with a `Mamba2State` (the conv's last inputs
/// and the SSD state), its recurrent form.
/// The conv, SiLU, softplus and gated norm are host loops (`CPU`, Mamba2Ops.swift); the SSD scan
/// is the backend's (`ssdScanForward`), which the CUDA backend refuses for now.
struct Mamba2Layer {
    let config: ModelConfig
    let mlp: MLPSublayer

    init(config: ModelConfig) {
        self.config = config
        mlp = MLPSublayer(config: config)
    }

    /// Activations kept for the backward pass; n = batch * sequenceLength rows.
    struct Cache {
        let normed: Tensor  // (n, C)
        let rstd: Tensor  // (n)
        let projection: Tensor  // (n, 2E + 2GN + H)
        let z: Tensor  // (n, E)
        let convInput: Tensor  // (n, E + 2GN) xBC before the conv
        let convOutput: Tensor  // (n, E + 2GN) before SiLU
        let x: Tensor  // (n, E) = (B, T, H, P)
        let b: Tensor  // (n, G N)
        let c: Tensor  // (n, G N)
        let dt: Tensor  // (n, H)
        let a: Tensor  // (H)
        let y: Tensor  // (n, E) the scan's output
        let gateRstd: Tensor  // (n, G)
        let gated: Tensor  // (n, E) the gated norm's output
        let afterMixer: Tensor  // (n, C)
        /// The carried state the block started from (a copy; nil: zeros), for the backward.
        let start: Mamba2State?
        /// Set once the MLP sublayer ran.
        var mlp: MLPSublayer.Cache?
    }

    /// The scan's sizes for a (batch, length) pass.
    func shape(batch: Int, length: Int) -> SSDShape {
        SSDShape(
            batch: batch, sequenceLength: length, heads: config.mambaHeads,
            headDim: config.mambaHeadDim, groups: config.mambaGroups,
            stateDim: config.mambaStateDim, chunkLength: config.mambaChunkLength)
    }

    // MARK: - Forward

    /// Writes `out` (n, C) for input `x` (n, C). With `state`, the block continues the
    /// sequences `state` ended (conv history and SSD state), and `state` advances past it.
    func forward(
        out: Tensor, input x: Tensor, weights w: Mamba2LayerWeights, batch: Int,
        sequenceLength: Int, state: Mamba2State? = nil
    ) -> Cache {
        let n = batch * sequenceLength
        let (e, h, k) = (config.mambaInnerDim, config.mambaHeads, config.mambaConvKernel)
        let gn = config.mambaGroups * config.mambaStateDim
        let (cc, width) = (config.mambaConvChannels, config.mambaProjectionWidth)
        var cache = Cache(
            normed: Tensor(shape: [n, config.dModel]), rstd: Tensor(shape: [n]),
            projection: Tensor(shape: [n, width]), z: Tensor(shape: [n, e]),
            convInput: Tensor(shape: [n, cc]), convOutput: Tensor(shape: [n, cc]),
            x: Tensor(shape: [n, e]), b: Tensor(shape: [n, gn]), c: Tensor(shape: [n, gn]),
            dt: Tensor(shape: [n, h]), a: Tensor(shape: [h]), y: Tensor(shape: [n, e]),
            gateRstd: Tensor(shape: [n, config.mambaGroups]), gated: Tensor(shape: [n, e]),
            afterMixer: Tensor(shape: [n, config.dModel]), start: state?.copy(), mlp: nil)
        TensorOps.rmsNorm(cache.normed, rstd: cache.rstd, x, w.mixerNorm, rows: n)
        TensorOps.linear(cache.projection, cache.normed, w.inProj, rows: n)
        TensorOps.synchronize()  // host loops follow
        let p = cache.projection.data
        copyColumns(cache.z.data, width: e, from: p, stride: width, offset: 0, rows: n)
        copyColumns(cache.convInput.data, width: cc, from: p, stride: width, offset: e, rows: n)
        CPU.causalConv1dForward(
            out: cache.convOutput.data, input: cache.convInput.data, weight: w.convWeight.data,
            bias: w.convBias.data, batch: batch, length: sequenceLength, channels: cc,
            kernel: k, history: state?.convHistory.data)
        state?.advanceConvHistory(input: cache.convInput.data, length: sequenceLength)
        let activated = Tensor(shape: [n, cc])
        CPU.siluForward(out: activated.data, input: cache.convOutput.data, count: n * cc)
        copyColumns(cache.x.data, width: e, from: activated.data, stride: cc, offset: 0, rows: n)
        copyColumns(cache.b.data, width: gn, from: activated.data, stride: cc, offset: e, rows: n)
        copyColumns(
            cache.c.data, width: gn, from: activated.data, stride: cc, offset: e + gn, rows: n)
        CPU.softplusForward(
            out: cache.dt.data, raw: p + e + cc, rawStride: width, bias: w.dtBias.data, rows: n,
            heads: h)
        for i in 0..<h { cache.a.data[i] = -exp(w.aLog.data[i]) }
        // The scan writes the carried state in place: it reads its start from `cache.start`,
        // a copy, so input and output never alias.
        let finalState =
            state?.ssd
            ?? Tensor(shape: [max(shape(batch: batch, length: sequenceLength).stateCount, 1)])
        TensorOps.backend.ssdScanForward(
            out: cache.y.data, finalState: finalState.data, inputs: inputs(cache, w),
            shape: shape(batch: batch, length: sequenceLength))
        TensorOps.synchronize()
        CPU.gatedRMSNormForward(
            out: cache.gated.data, rstd: cache.gateRstd.data, y: cache.y.data, z: cache.z.data,
            weight: w.norm.data, rows: n, channels: e, groupSize: e / config.mambaGroups,
            eps: 1e-5)
        TensorOps.linear(cache.afterMixer, cache.gated, w.outProj, rows: n)
        TensorOps.accumulate(cache.afterMixer, x)
        cache.mlp = mlp.forward(
            out: out, normInput: cache.afterMixer, residual: cache.afterMixer,
            weights: w, rows: n)
        return cache
    }

    func inputs(_ cache: Cache, _ w: Mamba2LayerWeights) -> SSDInputs {
        SSDInputs(
            x: cache.x.data, dt: cache.dt.data, A: cache.a.data, B: cache.b.data,
            C: cache.c.data, D: w.d.data, initialState: UnsafePointer(cache.start?.ssd.data))
    }

    // MARK: - Backward

    /// dInput (n, C) += the gradient of the layer's input; parameter gradients accumulate. A
    /// carried start state is a constant (truncated backpropagation: nothing flows into the
    /// previous segment).
    func backward(
        dInput: Tensor, dOut: Tensor, input x: Tensor, cache: Cache, weights w: Mamba2LayerWeights,
        grads g: Mamba2LayerWeights, batch: Int, sequenceLength: Int
    ) {
        let n = batch * sequenceLength
        let (e, h, k) = (config.mambaInnerDim, config.mambaHeads, config.mambaConvKernel)
        let gn = config.mambaGroups * config.mambaStateDim
        let (cc, width) = (config.mambaConvChannels, config.mambaProjectionWidth)
        guard let mlpCache = cache.mlp else {
            preconditionFailure("Mamba2 layer cache without MLP")
        }
        let dMixed = Tensor(shape: x.shape)
        dMixed.copy(from: dOut)
        mlp.backward(
            dNormInput: dMixed, dOut: dOut, normInput: cache.afterMixer, cache: mlpCache,
            weights: w, grads: g, rows: n)
        TensorOps.accumulate(dInput, dMixed)
        let dGated = TensorOps.linearInputGradient(
            dWeight: g.outProj, dOut: dMixed, input: cache.gated, weight: w.outProj, rows: n)
        TensorOps.synchronize()
        let dY = Tensor(shape: [n, e])
        let dZ = Tensor(shape: [n, e])
        CPU.gatedRMSNormBackward(
            dY: dY.data, dZ: dZ.data, dWeight: g.norm.data, dOut: dGated.data, y: cache.y.data,
            z: cache.z.data, weight: w.norm.data, rstd: cache.gateRstd.data, rows: n,
            channels: e, groupSize: e / config.mambaGroups)
        let dx = Tensor(shape: [n, e])
        let dDt = Tensor(shape: [n, h])
        let dA = Tensor(shape: [h])
        let dB = Tensor(shape: [n, gn])
        let dC = Tensor(shape: [n, gn])
        let dD = Tensor(shape: [h])
        TensorOps.backend.ssdScanBackward(
            into: SSDGradients(
                dx: dx.data, dDt: dDt.data, dA: dA.data, dB: dB.data, dC: dC.data, dD: dD.data,
                dInitialState: nil),
            dOut: dY.data, dFinalState: nil, inputs: inputs(cache, w),
            shape: shape(batch: batch, length: sequenceLength))
        TensorOps.synchronize()
        // The op overwrites dA and dD; A = -exp(A_log), so dA_log = dA · A.
        for i in 0..<h {
            g.d.data[i] += dD.data[i]
            g.aLog.data[i] += dA.data[i] * cache.a.data[i]
        }
        let dProjection = Tensor(shape: [n, width])
        let dp = dProjection.data
        CPU.softplusBackward(
            dRaw: dp + e + cc, rawStride: width, dBias: g.dtBias.data, dOut: dDt.data,
            raw: cache.projection.data + e + cc, bias: w.dtBias.data, rows: n, heads: h)
        let dActivated = Tensor(shape: [n, cc])
        copyColumns(dActivated.data, stride: cc, offset: 0, from: dx.data, width: e, rows: n)
        copyColumns(dActivated.data, stride: cc, offset: e, from: dB.data, width: gn, rows: n)
        copyColumns(dActivated.data, stride: cc, offset: e + gn, from: dC.data, width: gn, rows: n)
        let dConvOutput = Tensor(shape: [n, cc])
        CPU.siluBackward(
            dInput: dConvOutput.data, dOut: dActivated.data, input: cache.convOutput.data,
            count: n * cc)
        let dConvInput = Tensor(shape: [n, cc])
        CPU.causalConv1dBackward(
            dInput: dConvInput.data, dWeight: g.convWeight.data, dBias: g.convBias.data,
            dOut: dConvOutput.data, input: cache.convInput.data, weight: w.convWeight.data,
            batch: batch, length: sequenceLength, channels: cc, kernel: k,
            history: cache.start?.convHistory.data)
        copyColumns(dp, stride: width, offset: 0, from: dZ.data, width: e, rows: n)
        copyColumns(dp, stride: width, offset: e, from: dConvInput.data, width: cc, rows: n)
        let dNormed = TensorOps.linearInputGradient(
            dWeight: g.inProj, dOut: dProjection, input: cache.normed, weight: w.inProj, rows: n)
        TensorOps.rmsNormBackward(
            dInput: dInput, dWeight: g.mixerNorm, dOut: dNormed, input: x, weight: w.mixerNorm,
            rstd: cache.rstd, rows: n)
    }
}

/// dst (rows, width) = columns [offset, offset + width) of src (rows, stride).
private func copyColumns(
    _ dst: UnsafeMutablePointer<Float>, width: Int, from src: UnsafePointer<Float>, stride: Int,
    offset: Int, rows: Int
) {
    for r in 0..<rows { (dst + r * width).update(from: src + r * stride + offset, count: width) }
}

/// Columns [offset, offset + width) of dst (rows, stride) = src (rows, width).
private func copyColumns(
    _ dst: UnsafeMutablePointer<Float>, stride: Int, offset: Int,
    from src: UnsafePointer<Float>, width: Int, rows: Int
) {
    for r in 0..<rows { (dst + r * stride + offset).update(from: src + r * width, count: width) }
}
