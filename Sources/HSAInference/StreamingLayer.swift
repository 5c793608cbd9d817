import HSACPU
import HSACore
import HSAModel

/// The streaming state of one decoder layer: its window of keys and values and, for an HSA
/// layer with per_chunk retrieval, the retrieval query of the latest chunk boundary (cS - 1).
final class LayerState {
    /// (·, NKV*HS) keys after QK-norm and RoPE at absolute positions.
    let keys: RowWindow
    /// (·, NKV*HS) values.
    let values: RowWindow
    /// (NKV*DR) retrieval query at `boundaryPosition`.
    var boundaryQuery: [Float]
    /// The latest position cS - 1 seen by this layer (-1: none yet).
    var boundaryPosition = -1

    init(config: ModelConfig, firstPosition: Int) {
        let width = config.nKvHeads * config.headDim
        keys = RowWindow(width: width, firstPosition: firstPosition)
        values = RowWindow(width: width, firstPosition: firstPosition)
        boundaryQuery = [Float](repeating: 0, count: config.resolvedRetrievalDim)
    }

    /// Bytes held by the key/value windows.
    var allocatedBytes: Int { keys.allocatedBytes + values.allocatedBytes }
}

/// Runs one decoder layer (lower, upper, or upper with HSA) over a block of new rows at
/// consecutive absolute positions, extending the layer's caches: the same arithmetic as
/// `DecoderLayer` / `HSADecoderLayer` of HSAModel (MODEL.md "Residual paths"), one block at a
/// time.
struct StreamingLayer {
    let config: ModelConfig

    /// Keys kept between blocks: W - 1 (nil for full attention, which keeps all).
    var keptKeys: Int? { config.attention == .full ? nil : config.window - 1 }

    // MARK: - Forward

    /// Replaces `x` (n, C), the layer's input at positions `first ..< first + n`, by the
    /// layer's output. The state must end at `first` (or be empty).
    func forward(
        _ x: Tensor, rows n: Int, firstPosition first: Int, weights w: DecoderLayerWeights,
        hsa: HSAWeights?, state: LayerState, memory: ChunkMemory?
    ) {
        let c = config.dModel
        let (nh, nkv, hs) = (config.nHeads, config.nKvHeads, config.headDim)
        let positions = (0..<n).map { Int32(first + $0) }
        let theta = Float(config.ropeTheta)

        // Attention: keys and values go straight into the window.
        let normed = Tensor(shape: [n, c])
        rmsNorm(normed.data, normed: x.data, weight: w.attentionNorm, rows: n)
        let queryRaw = Tensor(shape: [n, nh * hs])
        let query = Tensor(shape: [n, nh * hs])
        let keyRaw = Tensor(shape: [n, nkv * hs])
        linear(queryRaw.data, normed.data, w.query, bias: w.queryBias, rows: n)
        linear(keyRaw.data, normed.data, w.key, bias: w.keyBias, rows: n)
        if state.keys.count == 0 {
            state.keys.reset(firstPosition: first)
            state.values.reset(firstPosition: first)
        }
        precondition(
            state.keys.endPosition == first,
            "layer cache ends at \(state.keys.endPosition), block starts at \(first)")
        let keys = state.keys.appendUninitialized(n)
        let values = state.values.appendUninitialized(n)
        linear(values, normed.data, w.value, bias: w.valueBias, rows: n)
        if let queryNorm = w.queryNorm, let keyNorm = w.keyNorm {
            rmsNorm(query.data, normed: queryRaw.data, weight: queryNorm, rows: n * nh)
            rmsNorm(keys, normed: keyRaw.data, weight: keyNorm, rows: n * nkv)
        } else {
            query.copy(from: queryRaw)
            keys.update(from: keyRaw.data, count: n * nkv * hs)
        }
        positions.withUnsafeBufferPointer { buffer in
            guard let p = buffer.baseAddress else { return }
            CPU.ropeForward(query.data, positions: p, rows: n, heads: nh, headDim: hs, theta: theta)
            CPU.ropeForward(keys, positions: p, rows: n, heads: nkv, headDim: hs, theta: theta)
        }
        let attention = Tensor(shape: [n, nh * hs])
        CPU.cachedAttentionForward(
            out: attention.data, q: query.data, keys: state.keys.rows, values: state.values.rows,
            queryCount: n, firstQueryPosition: first, keyCount: state.keys.count,
            firstKeyPosition: state.keys.firstPosition, heads: nh, kvHeads: nkv, headDim: hs,
            window: config.effectiveWindow)
        if let keptKeys {
            state.keys.keepLast(keptKeys)
            state.values.keepLast(keptKeys)
        }
        let y = Tensor(shape: [n, c])
        linear(y.data, attention.data, w.output, rows: n)
        CPU.accumulate(y.data, x.data, count: n * c)

        // HSA (bypass or sequential residual), then the MLP.
        var mlpInput = y
        var residual = y
        if let hsa, let memory {
            mlpInput = Tensor(shape: [n, c])
            hierarchicalSparseAttention(
                out: mlpInput, input: y, rows: n, firstPosition: first, weights: hsa,
                state: state, memory: memory)
            CPU.accumulate(mlpInput.data, y.data, count: n * c)
            if config.residual == .sequential { residual = mlpInput }
        }
        mlp(out: x, normInput: mlpInput, residual: residual, weights: w, rows: n)
    }

    // MARK: - HSA

    /// out (n, C) = hsa_out(y) for the rows at `first ..< first + n` (HSASublayer's math).
    private func hierarchicalSparseAttention(
        out: Tensor, input y: Tensor, rows n: Int, firstPosition first: Int, weights w: HSAWeights,
        state: LayerState, memory: ChunkMemory
    ) {
        let (c, nh, nkv, hs) = (config.dModel, config.nHeads, config.nKvHeads, config.headDim)
        let (dr, s) = (config.retrievalHeadDim, config.chunkSize)
        let normed = Tensor(shape: [n, c])
        rmsNorm(normed.data, normed: y.data, weight: w.norm, rows: n)
        let queryRaw = Tensor(shape: [n, nh * hs])
        linear(queryRaw.data, normed.data, w.query, rows: n)
        let retrievalQuery = Tensor(shape: [n, nkv * dr])
        if let projection = w.retrievalQuery {
            linear(retrievalQuery.data, normed.data, projection, rows: n)
        } else {
            groupMeans(out: retrievalQuery, heads: queryRaw, rows: n)
        }
        let query = Tensor(shape: [n, nh * hs])
        if let queryNorm = w.queryNorm {
            rmsNorm(query.data, normed: queryRaw.data, weight: queryNorm, rows: n * nh)
        } else {
            query.copy(from: queryRaw)
        }

        // Eligible chunks and the query that scores them, per row.
        var eligible = [Int32](repeating: 0, count: n)
        var scoringQuery = retrievalQuery
        let width = nkv * dr
        if config.retrieval == .perChunk {
            scoringQuery = Tensor(shape: [n, width])
        }
        for i in 0..<n {
            let t = first + i
            let chunk = t / s
            eligible[i] = Int32(min(chunk, memory.chunkCount))
            guard config.retrieval == .perChunk, chunk > 0 else { continue }
            let boundary = chunk * s - 1
            let target = scoringQuery.data + i * width
            if boundary >= first {
                target.update(from: retrievalQuery.data + (boundary - first) * width, count: width)
            } else if boundary == state.boundaryPosition {
                state.boundaryQuery.withUnsafeBufferPointer { saved in
                    if let base = saved.baseAddress { target.update(from: base, count: width) }
                }
            } else {
                // Only rows whose outputs are never used (the start of a tail) get here.
                eligible[i] = 0
            }
        }
        if config.retrieval == .perChunk {
            let lastBoundary = ((first + n) / s) * s - 1
            if lastBoundary >= first {
                for k in 0..<width {
                    state.boundaryQuery[k] = retrievalQuery[(lastBoundary - first) * width + k]
                }
                state.boundaryPosition = lastBoundary
            }
        }

        let attention = Tensor(shape: [n, nh * hs])
        // Groups of rows, releasing the touched records after each: with a file-backed store
        // the resident set never holds more than one group's selected chunks
        // (16 rows * NKV * K records).
        let group = 16
        eligible.withUnsafeBufferPointer { eligibleBuffer in
            guard let eligibleBase = eligibleBuffer.baseAddress else { return }
            for start in stride(from: 0, to: n, by: group) {
                let rows = min(group, n - start)
                CPU.streamingSparseAttentionForward(
                    out: attention.data + start * nh * hs, q: query.data + start * nh * hs,
                    retrievalQuery: scoringQuery.data + start * width,
                    eligibleChunks: eligibleBase + start, landmarks: memory.landmarks,
                    chunkRecords: memory.store.records, recordPrecision: memory.store.precision,
                    keyNorm: w.keyNorm.map { UnsafePointer($0.data) }, rows: rows, heads: nh,
                    kvHeads: nkv, headDim: hs, retrievalDim: dr, chunkSize: s,
                    chunkCount: memory.chunkCount, topK: config.topK, fusion: config.fusion)
                memory.store.releaseResidentPages()
            }
        }
        linear(out.data, attention.data, w.output, rows: n)
    }

    /// out (n, NKV, HS) = mean of each group's raw query heads (n, NH, HS), summed in head
    /// order as HSASublayer does.
    private func groupMeans(out: Tensor, heads: Tensor, rows n: Int) {
        let (nh, nkv, hs) = (config.nHeads, config.nKvHeads, config.headDim)
        let group = nh / nkv
        for row in 0..<n {
            for h in 0..<nh {
                let source = heads.data + (row * nh + h) * hs
                let target = out.data + (row * nkv + h / group) * hs
                for d in 0..<hs { target[d] += source[d] / Float(group) }
            }
        }
    }

    // MARK: - MLP

    /// out (n, C) = residual + down(silu(gate(h)) * up(h)), h = RMSNorm(normInput).
    private func mlp(
        out: Tensor, normInput: Tensor, residual: Tensor, weights w: DecoderLayerWeights,
        rows n: Int
    ) {
        let (c, f) = (config.dModel, config.dFf)
        let normed = Tensor(shape: [n, c])
        rmsNorm(normed.data, normed: normInput.data, weight: w.mlpNorm, rows: n)
        let gate = Tensor(shape: [n, f])
        let up = Tensor(shape: [n, f])
        linear(gate.data, normed.data, w.gate, rows: n)
        linear(up.data, normed.data, w.up, rows: n)
        CPU.swigluForward(out: gate.data, gate: gate.data, up: up.data, count: n * f)
        linear(out.data, gate.data, w.down, rows: n)
        CPU.accumulate(out.data, residual.data, count: n * c)
    }
}

// MARK: - Op helpers

/// out (N, O) = input (N, I) @ weight (O, I)^T + bias (O).
func linear(
    _ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ weight: Tensor,
    bias: Tensor? = nil, rows: Int
) {
    CPU.matmulForward(
        out: out, input: input, weight: weight.data, bias: bias?.data, rows: rows,
        inputChannels: weight.shape[1], outputChannels: weight.shape[0])
}

/// out (N, C) = RMSNorm of `input` (N, C) rows with gain `weight` (C), eps 1e-6.
func rmsNorm(
    _ out: UnsafeMutablePointer<Float>, normed input: UnsafePointer<Float>, weight: Tensor,
    rows: Int
) {
    let rstd = UnsafeMutablePointer<Float>.allocate(capacity: max(rows, 1))
    defer { rstd.deallocate() }
    CPU.rmsNormForward(
        out: out, rstd: rstd, input: input, weight: weight.data, rows: rows,
        channels: weight.count)
}
