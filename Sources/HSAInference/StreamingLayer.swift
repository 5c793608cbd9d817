import HSACPU
import HSACore
import HSAModel

/// The streaming state of one decoder layer: its window of keys and values and, for an HSA
/// layer with per_chunk retrieval, the retrieval query of the latest chunk boundary (cS - 1).
/// Everything lives in the memory of the backend current at creation.
final class LayerState {
    /// (·, NKV*HS) keys after QK-norm and RoPE at absolute positions.
    let keys: RowWindow
    /// (·, NKV*HS) values.
    let values: RowWindow
    /// (NKV*DR) retrieval query at `boundaryPosition`.
    let boundaryQuery: Tensor
    /// (·, NKV*HS) the keys of the landmark rows seen so far, one per complete block, for the
    /// retrieval step of `attention: landmark` (whose `keys` keep every row); nil otherwise.
    let landmarkKeys: RowWindow?
    /// The latest position cS - 1 seen by this layer (-1: none yet).
    var boundaryPosition = -1
    /// (NKV, K) chunks selected by the last row of the last block (recency order, -1 in empty
    /// slots), when the session records selections; nil otherwise.
    var lastSelection: [Int32]?

    init(config: ModelConfig, firstPosition: Int) {
        let width = config.nKvHeads * config.headDim
        keys = RowWindow(width: width, firstPosition: firstPosition)
        values = RowWindow(width: width, firstPosition: firstPosition)
        landmarkKeys = config.usesLandmarks ? RowWindow(width: width) : nil
        boundaryQuery = Tensor(shape: [config.resolvedRetrievalDim])
    }

    /// Bytes held by the key/value windows.
    var allocatedBytes: Int {
        keys.allocatedBytes + values.allocatedBytes + (landmarkKeys?.allocatedBytes ?? 0)
    }
}

/// Runs one decoder layer (lower, upper, or upper with HSA) over a block of new rows at
/// consecutive absolute positions, extending the layer's caches: the same arithmetic as
/// `DecoderLayer` / `HSADecoderLayer` of HSAModel (MODEL.md "Residual paths"), one block at a
/// time.
///
/// Every op goes through `backend` (`ComputeBackends.current`, else the CPU). When that
/// backend is also a `StreamingAccelerator` (a GPU), the caches live in its memory, windowed
/// attention runs as the backend's causal attention over the window plus the block (queries of
/// the window rows are zero and their outputs unused: W - 1 extra rows per block), and HSA runs
/// as the accelerator's streaming kernel over a `DeviceKVStore`. For full attention the padding
/// would be the whole cache, so a dense layer's few-row blocks (decode) attend on the host over
/// the same managed memory instead (`hostAttentionRows`).
struct StreamingLayer {
    let config: ModelConfig
    /// Where the ops run.
    let backend: any ComputeBackend
    /// The backend as a streaming accelerator, when it is one.
    let accelerator: (any StreamingAccelerator)?
    /// Whether HSA layers keep the selection of their last row (`LayerState.lastSelection`).
    var recordsSelections = false

    /// A layer running on the current backend.
    init(config: ModelConfig) {
        self.config = config
        let backend = ComputeBackends.current ?? CPUBackend.shared
        self.backend = backend
        accelerator = backend as? any StreamingAccelerator
    }

    /// Blocks of at most this many rows of a full-attention layer attend on the host even on an
    /// accelerator: there a block attends as a causal pass over the whole cache plus the block,
    /// one T x T pass per generated token and layer; the host reads the T cached keys once.
    static let hostAttentionRows = 16

    /// Keys kept between blocks: W - 1 (nil for full and landmark attention, which keep all:
    /// landmark retrieval may pick any earlier block).
    var keptKeys: Int? {
        config.attention == .full || config.usesLandmarks ? nil : config.window - 1
    }

    // MARK: - Forward

    /// Replaces `x` (n, C), the layer's input at positions `first ..< first + n`, by the
    /// layer's output. The state must end at `first` (or be empty).
    func forward(
        _ x: Tensor, rows n: Int, firstPosition first: Int, weights w: DecoderLayerWeights,
        hsa: HSAWeights?, state: LayerState, memory: ChunkMemory?
    ) throws {
        let c = config.dModel
        let (nh, nkv, hs) = (config.nHeads, config.nKvHeads, config.headDim)
        let positions = (0..<n).map { Int32(first + $0) }

        // Attention: keys and values go straight into the window.
        let normed = Tensor(shape: [n, c])
        rmsNorm(normed.data, normed: x.data, weight: w.attentionNorm, rows: n)
        let queryRaw = Tensor(shape: [n, nh * hs])
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
        // On an accelerator the queries sit after `windowRows` zero rows (see the type's doc).
        let onHost =
            accelerator == nil
            || (config.attention == .full && n <= Self.hostAttentionRows)
        let windowRows = onHost ? 0 : state.keys.count
        let paddedQuery = Tensor(shape: [windowRows + n, nh * hs])
        let query = Tensor(viewing: paddedQuery, offset: windowRows * nh * hs, shape: [n, nh * hs])
        let keys = state.keys.appendUninitialized(n)
        let values = state.values.appendUninitialized(n)
        linear(values, normed.data, w.value, bias: w.valueBias, rows: n)
        if let queryNorm = w.queryNorm, let keyNorm = w.keyNorm {
            rmsNorm(query.data, normed: queryRaw.data, weight: queryNorm, rows: n * nh)
            rmsNorm(keys, normed: keyRaw.data, weight: keyNorm, rows: n * nkv)
        } else {
            query.copy(from: queryRaw)
            backend.copy(keys, keyRaw.data, count: n * nkv * hs)
        }
        // Every kind but NoPE landmark attention rotates (AttentionSublayer's rule).
        if config.usesRoPE {
            backend.ropeQueryAndKey(
                query: query.data, key: keys, rows: n, positions: positions, config: config,
                direction: .forward)
        }
        let attention =
            config.usesLandmarks
            ? landmarkAttention(query: query, rows: n, firstPosition: first, state: state)
            : windowedAttention(
                query: paddedQuery, onHost: onHost, windowRows: windowRows, rows: n,
                firstPosition: first, state: state)
        if let keptKeys {
            state.keys.keepLast(keptKeys)
            state.values.keepLast(keptKeys)
        }
        let y = Tensor(shape: [n, c])
        linear(y.data, attention.data, w.output, rows: n)
        backend.accumulate(y.data, x.data, count: n * c)

        // HSA (bypass or sequential residual), then the MLP.
        var mlpInput = y
        var residual = y
        if let hsa, let memory {
            mlpInput = Tensor(shape: [n, c])
            try hierarchicalSparseAttention(
                out: mlpInput, input: y, rows: n, firstPosition: first, weights: hsa,
                state: state, memory: memory)
            backend.accumulate(mlpInput.data, y.data, count: n * c)
            if config.residual == .sequential { residual = mlpInput }
        }
        mlp(out: x, normInput: mlpInput, residual: residual, weights: w, rows: n)
    }

    /// (n, NH*HS) attention of the block's queries over the window (which already holds the
    /// block's keys and values). On the host: the CPU's cached-attention kernel. On an
    /// accelerator: causal attention over all window rows, `query` holding `windowRows` zero
    /// rows first.
    private func windowedAttention(
        query: Tensor, onHost: Bool, windowRows: Int, rows n: Int, firstPosition first: Int,
        state: LayerState
    ) -> Tensor {
        let (nh, nkv, hs) = (config.nHeads, config.nKvHeads, config.headDim)
        if onHost {
            let attention = Tensor(shape: [n, nh * hs])
            // on an accelerator the queries, keys and this output's zero fill are queued kernels
            backend.synchronize()
            CPU.cachedAttentionForward(
                out: attention.data, q: query.data, keys: state.keys.rows,
                values: state.values.rows, queryCount: n, firstQueryPosition: first,
                keyCount: state.keys.count, firstKeyPosition: state.keys.firstPosition,
                heads: nh, kvHeads: nkv, headDim: hs, window: config.effectiveWindow)
            return attention
        }
        let total = windowRows + n
        precondition(state.keys.count == total, "window rows \(state.keys.count) != \(total)")
        let out = Tensor(shape: [total, nh * hs])
        let logSumExp = Tensor(shape: [total, nh])
        backend.attentionForward(
            out: out.data, logSumExp: logSumExp.data, q: query.data, k: state.keys.rows,
            v: state.values.rows,
            shape: AttentionShape(
                batch: 1, sequenceLength: total, heads: nh, kvHeads: nkv, headDim: hs,
                mask: .causal(window: min(config.effectiveWindow, total))))
        return Tensor(viewing: out, offset: windowRows * nh * hs, shape: [n, nh * hs])
    }

    /// (n, NH*HS) Landmark Attention of the block's queries (positions `first ..< first + n` of
    /// the stream with landmark rows) over the layer's block cache, which already holds the
    /// block's keys and values: its own block plus the `top_k` earlier blocks whose landmarks
    /// score best (`CPU.landmarkCachedAttentionForward`). Host only: sessions refuse landmark
    /// models on an accelerator. First files the block's landmark keys for retrieval.
    private func landmarkAttention(
        query: Tensor, rows n: Int, firstPosition first: Int, state: LayerState
    ) -> Tensor {
        let (nh, nkv, hs) = (config.nHeads, config.nKvHeads, config.headDim)
        let s = config.landmarkBlock
        precondition(state.keys.firstPosition == 0, "a landmark cache keeps every row")
        guard let landmarkKeys = state.landmarkKeys else {
            preconditionFailure("a landmark layer state keeps the landmark keys")
        }
        for t in first..<(first + n) where t % (s + 1) == s {
            landmarkKeys.append(state.keys.rows + t * nkv * hs, rows: 1)
        }
        let attention = Tensor(shape: [n, nh * hs])
        CPU.landmarkCachedAttentionForward(
            out: attention.data, q: query.data, keys: state.keys.rows, values: state.values.rows,
            landmarkKeys: landmarkKeys.rows, queryCount: n, firstQueryPosition: first,
            keyCount: state.keys.count,
            shape: LandmarkRetrievalShape(
                heads: nh, kvHeads: nkv, headDim: hs, blockCount: landmarkKeys.count,
                topK: config.topK),
            blockSize: s)
        return attention
    }

    // MARK: - HSA

    /// out (n, C) = hsa_out(y) for the rows at `first ..< first + n` (HSASublayer's math).
    private func hierarchicalSparseAttention(
        out: Tensor, input y: Tensor, rows n: Int, firstPosition first: Int, weights w: HSAWeights,
        state: LayerState, memory: ChunkMemory
    ) throws {
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
            backend.synchronize()  // a host loop over the backend's memory follows
            groupMeans(out: retrievalQuery, heads: queryRaw, rows: n)
        }
        let query = Tensor(shape: [n, nh * hs])
        if let queryNorm = w.queryNorm {
            rmsNorm(query.data, normed: queryRaw.data, weight: queryNorm, rows: n * nh)
        } else {
            query.copy(from: queryRaw)
        }

        // Eligible chunks and the query that scores them, per row (row copies go through the
        // backend: its memory may be a device's).
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
                backend.copy(target, retrievalQuery.data + (boundary - first) * width, count: width)
            } else if boundary == state.boundaryPosition {
                backend.copy(target, state.boundaryQuery.data, count: width)
            } else {
                // Only rows whose outputs are never used (the start of a tail) get here.
                eligible[i] = 0
            }
        }
        if config.retrieval == .perChunk {
            let lastBoundary = ((first + n) / s) * s - 1
            if lastBoundary >= first {
                backend.copy(
                    state.boundaryQuery.data, retrievalQuery.data + (lastBoundary - first) * width,
                    count: width)
                state.boundaryPosition = lastBoundary
            }
        }

        let attention = Tensor(shape: [n, nh * hs])
        if let accelerator, let deviceStore = memory.store as? DeviceKVStore {
            var selection = [Int32](
                repeating: -1, count: recordsSelections ? n * nkv * config.topK : 0)
            try eligible.withUnsafeBufferPointer { eligibleBuffer in
                guard let eligibleBase = eligibleBuffer.baseAddress else { return }
                try selection.withUnsafeMutableBufferPointer { selectionBuffer in
                    try accelerator.streamingSparseAttentionForward(
                        out: attention.data, q: query.data, retrievalQuery: scoringQuery.data,
                        eligibleChunks: eligibleBase, landmarks: memory.landmarks,
                        store: deviceStore.device,
                        keyNorm: w.keyNorm.map { UnsafePointer($0.data) },
                        rows: n, heads: nh, kvHeads: nkv, headDim: hs, retrievalDim: dr,
                        chunkSize: s, chunkCount: memory.chunkCount, topK: config.topK,
                        fusion: config.fusion,
                        selected: recordsSelections ? selectionBuffer.baseAddress : nil)
                }
            }
            if recordsSelections {
                state.lastSelection = Array(selection[((n - 1) * nkv * config.topK)...])
            }
        } else if let hostStore = memory.store as? any HostKVStore {
            hostSparseAttention(
                out: attention, query: query, scoringQuery: scoringQuery, eligible: eligible,
                rows: n, weights: w, memory: memory, store: hostStore)
            if recordsSelections {
                state.lastSelection = HostSelection.topChunks(
                    retrievalQuery: scoringQuery.data + (n - 1) * width,
                    eligible: Int(eligible[n - 1]), landmarks: memory.landmarks, config: config)
            }
        } else {
            throw InferenceError.storeNotReadable(
                store: String(describing: type(of: memory.store)))
        }
        linear(out.data, attention.data, w.output, rows: n)
    }

    /// The CPU's streaming HSA over a host store, in groups of rows, releasing the touched
    /// records after each: with a file-backed store the resident set never holds more than one
    /// group's selected chunks (16 rows * NKV * K records).
    private func hostSparseAttention(
        out attention: Tensor, query: Tensor, scoringQuery: Tensor, eligible: [Int32], rows n: Int,
        weights w: HSAWeights, memory: ChunkMemory, store: any HostKVStore
    ) {
        let (nh, nkv, hs) = (config.nHeads, config.nKvHeads, config.headDim)
        let (dr, s) = (config.retrievalHeadDim, config.chunkSize)
        let width = nkv * dr
        let group = 16
        eligible.withUnsafeBufferPointer { eligibleBuffer in
            guard let eligibleBase = eligibleBuffer.baseAddress else { return }
            for start in stride(from: 0, to: n, by: group) {
                let rows = min(group, n - start)
                CPU.streamingSparseAttentionForward(
                    out: attention.data + start * nh * hs, q: query.data + start * nh * hs,
                    retrievalQuery: scoringQuery.data + start * width,
                    eligibleChunks: eligibleBase + start, landmarks: memory.landmarks,
                    chunkRecords: store.records, recordPrecision: store.precision,
                    keyNorm: w.keyNorm.map { UnsafePointer($0.data) }, rows: rows, heads: nh,
                    kvHeads: nkv, headDim: hs, retrievalDim: dr, chunkSize: s,
                    chunkCount: memory.chunkCount, topK: config.topK, fusion: config.fusion)
                store.releaseResidentPages()
            }
        }
    }

    /// out (n, NKV, HS) = mean of each group's raw query heads (n, NH, HS), summed in head
    /// order as HSASublayer does (a host loop: the caller synchronizes the backend first).
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
        backend.swigluForward(out: gate.data, gate: gate.data, up: up.data, count: n * f)
        linear(out.data, gate.data, w.down, rows: n)
        backend.accumulate(out.data, residual.data, count: n * c)
    }

    // MARK: - Op helpers

    /// out (N, O) = input (N, I) @ weight (O, I)^T + bias (O).
    func linear(
        _ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ weight: Tensor,
        bias: Tensor? = nil, rows: Int
    ) {
        backend.matmulForward(
            out: out, input: input, weight: weight.data, bias: bias?.data, rows: rows,
            inputChannels: weight.shape[1], outputChannels: weight.shape[0])
    }

    /// out (N, C) = RMSNorm of `input` (N, C) rows with gain `weight` (C), eps 1e-6.
    func rmsNorm(
        _ out: UnsafeMutablePointer<Float>, normed input: UnsafePointer<Float>, weight: Tensor,
        rows: Int
    ) {
        let rstd = Tensor(shape: [max(rows, 1)])
        backend.rmsNormForward(
            out: out, rstd: rstd.data, input: input, weight: weight.data, rows: rows,
            channels: weight.count, eps: 1e-6)
    }
}
