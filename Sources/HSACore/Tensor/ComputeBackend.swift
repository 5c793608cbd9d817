// The seam between the model and the hardware: one method per op the model uses, over raw fp32
// pointers, with the same labels, shapes and overwrite/accumulate contracts as the `CPU.*`
// functions in HSACPU (see each one's doc comment there for the math). A backend also owns the
// memory that `Tensor`s live in, so pointers handed to it are always its own allocations, except
// the small Int32 index arrays (tokens, targets, positions, chunk indices) and `rowScale`, which
// are host memory: a device backend copies those itself.

/// A device that runs the model's ops. Letters: N rows, C channels, B batch, T sequence, NH query
/// heads, NKV key/value heads, HS head size, DR retrieval size, S chunk size, NC chunks, K top-k,
/// V vocabulary.
public protocol ComputeBackend: TensorAllocator {
    /// Short name for logs, e.g. "cpu" or "cuda (NVIDIA H100 80GB HBM3)".
    var name: String { get }

    // MARK: Elementwise and reductions

    /// out = a + b.
    func add(
        out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        count: Int)
    /// dst += src.
    func accumulate(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int)
    /// x *= factor.
    func scale(_ x: UnsafeMutablePointer<Float>, by factor: Float, count: Int)
    /// Σ x² in Double.
    func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double
    /// Σ x in Double, summed in index order on the CPU (loss totals).
    func sum(_ x: UnsafePointer<Float>, count: Int) -> Double
    /// One AdamW step over `count` parameters (see `CPU.adamWUpdate`).
    func adamWUpdate(
        parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count: Int,
        learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float,
        step: Int)

    // MARK: Dense layers

    /// out (N, O) = input (N, I) @ weight (O, I)^T + bias (O), overwritten.
    func matmulForward(
        out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, rows: Int, inputChannels: Int,
        outputChannels: Int)
    /// dInput (N, I) +=, dWeight (O, I) +=, dBias (O) +=.
    func matmulBackward(
        dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>,
        dBias: UnsafeMutablePointer<Float>?, dOut: UnsafePointer<Float>,
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, inputChannels: Int,
        outputChannels: Int)
    /// out (N, C), rstd (N), overwritten.
    func rmsNormForward(
        out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, channels: Int,
        eps: Float)
    /// dInput (N, C) +=, dWeight (C) +=.
    func rmsNormBackward(
        dInput: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rstd: UnsafePointer<Float>, rows: Int, channels: Int)
    /// x (N, H, HS) rotated in place: forward, or backward (x is the output's gradient, turned
    /// into the input's); positions (N) host memory.
    func rope(
        _ x: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, rows: Int, heads: Int,
        headDim: Int, rotary: RotaryEmbedding, direction: RopeDirection)
    /// out = silu(gate) * up, overwritten.
    func swigluForward(
        out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
        count: Int)
    /// dGate, dUp overwritten.
    func swigluBackward(
        dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
        count: Int)
    /// out (N, C) = table[tokens]; tokens (N) host memory.
    func embeddingForward(
        out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>,
        table: UnsafePointer<Float>, rows: Int, channels: Int)
    /// dTable (V, C) += scatter of dOut (N, C); tokens (N) host memory.
    func embeddingBackward(
        dTable: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
        tokens: UnsafePointer<Int32>, rows: Int, channels: Int)
    /// losses (N) overwritten; targets (N) host memory, negative = ignored.
    func crossEntropyForward(
        losses: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
        targets: UnsafePointer<Int32>, rows: Int, vocab: Int)
    /// dLogits (N, V) overwritten; targets and rowScale (N) host memory.
    func crossEntropyBackward(
        dLogits: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
        targets: UnsafePointer<Int32>, rowScale: UnsafePointer<Float>, rows: Int, vocab: Int)

    // MARK: Attention

    /// out (B, T, NH, HS), logSumExp (B, T, NH) overwritten.
    func attentionForward(
        out: UnsafeMutablePointer<Float>, logSumExp: UnsafeMutablePointer<Float>,
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        shape: AttentionShape)
    /// dQ, dK, dV overwritten.
    func attentionBackward(
        dQ: UnsafeMutablePointer<Float>, dK: UnsafeMutablePointer<Float>,
        dV: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, out: UnsafePointer<Float>,
        logSumExp: UnsafePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
        v: UnsafePointer<Float>, shape: AttentionShape)

    // MARK: Hierarchical sparse attention

    /// indices (B*T, NKV, K) host memory and scores (B*T, NKV, K) overwritten.
    func chunkSelectForward(
        indices: UnsafeMutablePointer<Int32>, scores: UnsafeMutablePointer<Float>,
        retrievalQuery: UnsafePointer<Float>, landmarks: UnsafePointer<Float>,
        shape: SparseAttentionShape)
    /// dRetrievalQuery (B*T, NKV, DR) +=, dLandmarks (B, NC, NKV, DR) +=; indices host memory.
    func chunkScoresBackward(
        dRetrievalQuery: UnsafeMutablePointer<Float>, dLandmarks: UnsafeMutablePointer<Float>,
        dScores: UnsafePointer<Float>, retrievalQuery: UnsafePointer<Float>,
        landmarks: UnsafePointer<Float>, indices: UnsafePointer<Int32>,
        shape: SparseAttentionShape)
    /// `results` overwritten; indices host memory.
    func sparseAttentionForward(
        into results: SparseAttentionResults, inputs: SparseAttentionInputs,
        shape: SparseAttentionShape)
    /// dQ, dScores overwritten; dKeys, dValues +=; `forward` is what the forward wrote for the
    /// same inputs; indices host memory (see `CPU.sparseAttentionBackward` for the exact
    /// contract).
    func sparseAttentionBackward(
        dQ: UnsafeMutablePointer<Float>, dKeys: UnsafeMutablePointer<Float>,
        dValues: UnsafeMutablePointer<Float>, dScores: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, forward: SparseAttentionResults,
        inputs: SparseAttentionInputs, shape: SparseAttentionShape)

    // MARK: Landmark attention

    /// `results` overwritten (the `attention: landmark` baseline's layers).
    func landmarkAttentionForward(
        into results: LandmarkAttentionResults, inputs: LandmarkAttentionInputs,
        shape: LandmarkAttentionShape)
    /// `gradients` overwritten; `forward` is what the forward wrote for the same inputs.
    func landmarkAttentionBackward(
        into gradients: LandmarkAttentionGradients, dOut: UnsafePointer<Float>,
        forward: LandmarkAttentionResults, inputs: LandmarkAttentionInputs,
        shape: LandmarkAttentionShape)

    // MARK: Mamba2 SSD scan

    /// `out` (B, T, H, P) and `finalState` (B, H, P, N) overwritten (the `mixer: mamba2`
    /// layers; `SSDOperands.swift` has the layouts).
    func ssdScanForward(
        out: UnsafeMutablePointer<Float>, finalState: UnsafeMutablePointer<Float>,
        inputs: SSDInputs, shape: SSDShape)
    /// `gradients` overwritten (dA and dD are per-call values, not accumulated).
    func ssdScanBackward(
        into gradients: SSDGradients, dOut: UnsafePointer<Float>,
        dFinalState: UnsafePointer<Float>?, inputs: SSDInputs, shape: SSDShape)
}

extension ComputeBackend {
    /// `sum` as the CPU computes it, over memory the host can read: Σ x in Double, in index
    /// order. A device backend synchronizes and then sums here, so loss totals match exactly.
    public func hostSum(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var total = 0.0
        for i in 0..<count { total += Double(x[i]) }
        return total
    }
}

// MARK: - Current backend

/// Where the process-wide backend lives (a protocol cannot hold stored statics).
public enum ComputeBackends {
    /// The backend every new `Tensor` allocates with and the model runs on; nil means host
    /// memory (`HostAllocator`) and the CPU ops. Set it once at startup, before any tensor
    /// exists (the CLI's `--backend`); code that switches it must not run concurrently with
    /// other model code, and tensors must be used with the backend that allocated them.
    nonisolated(unsafe) public static var current: (any ComputeBackend)?

    /// The allocator new tensors use: the current backend's, else host memory.
    public static var allocator: any TensorAllocator { current ?? HostAllocator.shared }
}
