import HSACore

/// The CPU as a `ComputeBackend`: host memory and the `CPU.*` ops, unchanged. Every method
/// forwards to the `CPU` function of the same name (see there for shapes and contracts).
public final class CPUBackend: ComputeBackend {
    /// The one instance (it holds no state).
    public static let shared = CPUBackend()

    /// Creates a CPU backend (stateless; `shared` is enough).
    public init() {}

    public var name: String { "cpu" }

    // MARK: - Memory

    public func allocate(count: Int) -> UnsafeMutablePointer<Float> {
        HostAllocator.shared.allocate(count: count)
    }

    public func free(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        HostAllocator.shared.free(pointer, count: count)
    }

    public func synchronize() {}

    public func zero(_ x: UnsafeMutablePointer<Float>, count: Int) {
        HostAllocator.shared.zero(x, count: count)
    }

    public func copy(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
        HostAllocator.shared.copy(dst, src, count: count)
    }

    // MARK: - Elementwise and reductions

    public func add(
        out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        count: Int
    ) {
        CPU.add(out: out, a, b, count: count)
    }

    public func accumulate(
        _ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int
    ) {
        CPU.accumulate(dst, src, count: count)
    }

    public func scale(_ x: UnsafeMutablePointer<Float>, by factor: Float, count: Int) {
        CPU.scale(x, by: factor, count: count)
    }

    public func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        CPU.sumOfSquares(x, count: count)
    }

    public func sum(_ x: UnsafePointer<Float>, count: Int) -> Double {
        hostSum(x, count: count)
    }

    public func adamWUpdate(
        parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
        learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float,
        step: Int
    ) {
        CPU.adamWUpdate(
            parameters: parameters, gradients: gradients, m: m, v: v, count: count,
            learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
            weightDecay: weightDecay, step: step)
    }

    // MARK: - Dense layers

    public func matmulForward(
        out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, rows: Int, inputChannels: Int,
        outputChannels: Int
    ) {
        CPU.matmulForward(
            out: out, input: input, weight: weight, bias: bias, rows: rows,
            inputChannels: inputChannels, outputChannels: outputChannels)
    }

    public func matmulBackward(
        dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>,
        dBias: UnsafeMutablePointer<Float>?, dOut: UnsafePointer<Float>,
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, inputChannels: Int,
        outputChannels: Int
    ) {
        CPU.matmulBackward(
            dInput: dInput, dWeight: dWeight, dBias: dBias, dOut: dOut, input: input,
            weight: weight, rows: rows, inputChannels: inputChannels,
            outputChannels: outputChannels)
    }

    public func rmsNormForward(
        out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, channels: Int,
        eps: Float
    ) {
        CPU.rmsNormForward(
            out: out, rstd: rstd, input: input, weight: weight, rows: rows, channels: channels,
            eps: eps)
    }

    public func rmsNormBackward(
        dInput: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rstd: UnsafePointer<Float>, rows: Int, channels: Int
    ) {
        CPU.rmsNormBackward(
            dInput: dInput, dWeight: dWeight, dOut: dOut, input: input, weight: weight,
            rstd: rstd, rows: rows, channels: channels)
    }

    public func rope(
        _ x: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, rows: Int, heads: Int,
        headDim: Int, rotary: RotaryEmbedding, direction: RopeDirection
    ) {
        CPU.rope(
            x, positions: positions, rows: rows, heads: heads, headDim: headDim, rotary: rotary,
            direction: direction)
    }

    public func swigluForward(
        out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
        count: Int
    ) {
        CPU.swigluForward(out: out, gate: gate, up: up, count: count)
    }

    public func swigluBackward(
        dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
        count: Int
    ) {
        CPU.swigluBackward(dGate: dGate, dUp: dUp, dOut: dOut, gate: gate, up: up, count: count)
    }

    public func embeddingForward(
        out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>,
        table: UnsafePointer<Float>, rows: Int, channels: Int
    ) {
        CPU.embeddingForward(out: out, tokens: tokens, table: table, rows: rows, channels: channels)
    }

    public func embeddingBackward(
        dTable: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
        tokens: UnsafePointer<Int32>, rows: Int, channels: Int
    ) {
        CPU.embeddingBackward(
            dTable: dTable, dOut: dOut, tokens: tokens, rows: rows, channels: channels)
    }

    public func crossEntropyForward(
        losses: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
        targets: UnsafePointer<Int32>, rows: Int, vocab: Int
    ) {
        CPU.crossEntropyForward(
            losses: losses, logits: logits, targets: targets, rows: rows, vocab: vocab)
    }

    public func crossEntropyBackward(
        dLogits: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
        targets: UnsafePointer<Int32>, rowScale: UnsafePointer<Float>, rows: Int, vocab: Int
    ) {
        CPU.crossEntropyBackward(
            dLogits: dLogits, logits: logits, targets: targets, rowScale: rowScale, rows: rows,
            vocab: vocab)
    }

    // MARK: - Attention

    public func attentionForward(
        out: UnsafeMutablePointer<Float>, logSumExp: UnsafeMutablePointer<Float>,
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        shape: AttentionShape
    ) {
        CPU.attentionForward(out: out, logSumExp: logSumExp, q: q, k: k, v: v, shape: shape)
    }

    public func attentionBackward(
        dQ: UnsafeMutablePointer<Float>, dK: UnsafeMutablePointer<Float>,
        dV: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, out: UnsafePointer<Float>,
        logSumExp: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
        v: UnsafePointer<Float>, shape: AttentionShape
    ) {
        CPU.attentionBackward(
            dQ: dQ, dK: dK, dV: dV, dOut: dOut, out: out, logSumExp: logSumExp, q: q, k: k, v: v,
            shape: shape)
    }

    // MARK: - Hierarchical sparse attention

    public func chunkSelectForward(
        indices: UnsafeMutablePointer<Int32>, scores: UnsafeMutablePointer<Float>,
        retrievalQuery: UnsafePointer<Float>, landmarks: UnsafePointer<Float>,
        shape: SparseAttentionShape
    ) {
        CPU.chunkSelectForward(
            indices: indices, scores: scores, retrievalQuery: retrievalQuery,
            landmarks: landmarks, shape: shape)
    }

    public func chunkScoresBackward(
        dRetrievalQuery: UnsafeMutablePointer<Float>, dLandmarks: UnsafeMutablePointer<Float>,
        dScores: UnsafePointer<Float>, retrievalQuery: UnsafePointer<Float>,
        landmarks: UnsafePointer<Float>, indices: UnsafePointer<Int32>,
        shape: SparseAttentionShape
    ) {
        CPU.chunkScoresBackward(
            dRetrievalQuery: dRetrievalQuery, dLandmarks: dLandmarks, dScores: dScores,
            retrievalQuery: retrievalQuery, landmarks: landmarks, indices: indices, shape: shape)
    }

    public func sparseAttentionForward(
        into results: SparseAttentionResults, inputs: SparseAttentionInputs,
        shape: SparseAttentionShape
    ) {
        CPU.sparseAttentionForward(into: results, inputs: inputs, shape: shape)
    }

    public func sparseAttentionBackward(
        dQ: UnsafeMutablePointer<Float>, dKeys: UnsafeMutablePointer<Float>,
        dValues: UnsafeMutablePointer<Float>, dScores: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, forward: SparseAttentionResults,
        inputs: SparseAttentionInputs, shape: SparseAttentionShape
    ) {
        CPU.sparseAttentionBackward(
            dQ: dQ, dKeys: dKeys, dValues: dValues, dScores: dScores, dOut: dOut,
            forward: forward, inputs: inputs, shape: shape)
    }

    // MARK: - Landmark attention

    public func landmarkAttentionForward(
        into results: LandmarkAttentionResults, inputs: LandmarkAttentionInputs,
        shape: LandmarkAttentionShape
    ) {
        CPU.landmarkAttentionForward(into: results, inputs: inputs, shape: shape)
    }

    public func landmarkAttentionBackward(
        into gradients: LandmarkAttentionGradients, dOut: UnsafePointer<Float>,
        forward: LandmarkAttentionResults, inputs: LandmarkAttentionInputs,
        shape: LandmarkAttentionShape
    ) {
        CPU.landmarkAttentionBackward(
            into: gradients, dOut: dOut, forward: forward, inputs: inputs, shape: shape)
    }

    // MARK: - Mamba2 SSD scan

    public func ssdScanForward(
        out: UnsafeMutablePointer<Float>, finalState: UnsafeMutablePointer<Float>,
        inputs: SSDInputs, shape: SSDShape
    ) {
        CPU.ssdScanForward(out: out, finalState: finalState, inputs: inputs, shape: shape)
    }

    public func ssdScanBackward(
        into gradients: SSDGradients, dOut: UnsafePointer<Float>,
        dFinalState: UnsafePointer<Float>?, inputs: SSDInputs, shape: SSDShape
    ) {
        CPU.ssdScanBackward(
            into: gradients, dOut: dOut, dFinalState: dFinalState, inputs: inputs, shape: shape)
    }
}
