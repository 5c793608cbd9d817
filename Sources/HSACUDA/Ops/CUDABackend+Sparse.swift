// Launchers of the HSA ops (Kernels/SparseKernels.swift), mirroring `CPU.chunkSelectForward`,
// `CPU.chunkScoresBackward`, `CPU.sparseAttentionForward` and `CPU.sparseAttentionBackward`:
// same labels and overwrite/accumulate contracts, `DeviceBuffer`s instead of pointers, indices
// as device Int32 buffers. Letters: B batch, T sequence, NH query heads, NKV key/value heads,
// G = NH / NKV, HS head size, DR retrieval size, S chunk size, NC chunks, K top-k.
// The two backward ops need a caller-provided workspace (`...WorkspaceBytes`), so that a
// stream-ordered caller never frees memory a queued kernel still reads.

import HSACore

// MARK: - Limits

extension CUDABackend {
    /// The largest top-k of the selection, sparse attention and streaming kernels: a warp lane
    /// holds slots r and r + 32 (and the kernels' slot arrays hold 64).
    public static let maxTopK = 64

    /// True when the selection kernel handles the shape (NC <= 2048, K <= `maxTopK`).
    public static func chunkSelectionSupports(chunkCount: Int, topK: Int) -> Bool {
        chunkCount <= 2048 && topK >= 1 && topK <= maxTopK
    }

    /// True when the sparse attention kernels handle the shape: S * HS <= 4096, S <= 128,
    /// G * S <= 1024, G * HS <= 1024, K <= `maxTopK` (static shared-memory tiles).
    public static func sparseAttentionSupports(
        heads: Int, kvHeads: Int, headDim: Int, chunkSize: Int, topK: Int
    ) -> Bool {
        guard kvHeads > 0, heads % kvHeads == 0, headDim > 0, chunkSize > 0 else { return false }
        let group = heads / kvHeads
        return chunkSize * headDim <= 4096 && chunkSize <= 128 && group * chunkSize <= 1024
            && group * headDim <= 1024 && topK >= 1 && topK <= maxTopK && group <= 32
    }

    /// The CPU's token blocks of sparse attention backward: at most 8 per sequence, whole
    /// chunks each (the partial sums follow the same order on both backends).
    static func sparseTokenBlocks(sequenceLength t: Int, chunkSize s: Int) -> (
        tokens: Int, count: Int
    ) {
        let chunksPerSequence = (t + s - 1) / s
        let chunksPerBlock = max((chunksPerSequence + 7) / 8, 1)
        let tokens = chunksPerBlock * s
        return (tokens, max((t + tokens - 1) / tokens, 1))
    }
}

// MARK: - Chunk selection

extension CUDABackend {
    /// Top-k chunk selection (see `CPU.chunkSelectForward`).
    /// - Parameters:
    ///   - indices: (B, T, NKV, K) Int32, overwritten (recency order, -1 in empty slots).
    ///   - scores: (B, T, NKV, K) overwritten (0 in empty slots).
    ///   - retrievalQuery: (B, T, NKV, DR).
    ///   - landmarks: (B, NC, NKV, DR).
    ///   - shape: the sizes (NH, HS and fusion unused) and the granularity.
    public func chunkSelectForward(
        indices: DeviceBuffer, scores: DeviceBuffer, retrievalQuery: DeviceBuffer,
        landmarks: DeviceBuffer, shape: SparseAttentionShape
    ) throws {
        let (batch, kvHeads, retrievalDim, chunkCount, topK) = (
            shape.batch, shape.kvHeads, shape.retrievalDim, shape.chunkCount, shape.topK
        )
        guard Self.chunkSelectionSupports(chunkCount: chunkCount, topK: topK) else {
            throw CUDAError.invalidArgument(
                "chunkSelectForward: NC \(chunkCount) / K \(topK) beyond 2048 / \(Self.maxTopK)")
        }
        let (t, s) = (shape.sequenceLength, shape.chunkSize)
        let perChunk = shape.granularity == .perChunk
        let units = batch * (perChunk ? (t + s - 1) / s : t) * kvHeads
        try require(indices, batch * t * kvHeads * topK, "indices")
        try require(scores, batch * t * kvHeads * topK, "scores")
        // v2 stages the landmarks in shared memory (NC <= 128, DR <= 256); v1 any NC <= 2048.
        let staged = chunkCount <= 128 && retrievalDim <= 256
        let unitsPerSequence = perChunk ? (t + s - 1) / s : t
        try launch(
            staged ? "hsa_chunk_select_forward_v2" : "hsa_chunk_select_forward_v1", in: .sparse,
            grid: staged ? ((unitsPerSequence + 7) / 8, batch * kvHeads) : ((units + 3) / 4, 1),
            block: staged ? 256 : 128,
            [
                .buffer(indices), .buffer(scores), .buffer(retrievalQuery), .buffer(landmarks),
                .int(Int32(batch)), .int(Int32(t)), .int(Int32(kvHeads)),
                .int(Int32(retrievalDim)), .int(Int32(s)), .int(Int32(chunkCount)),
                .int(Int32(topK)), .int(perChunk ? 1 : 0),
            ])
    }

    /// Bytes of workspace `chunkScoresBackward` needs: the (B, NKV, NC, T) selection map.
    public static func chunkScoresBackwardWorkspaceBytes(_ shape: SparseAttentionShape) -> Int {
        max(shape.batch * shape.kvHeads * shape.chunkCount * shape.sequenceLength, 4)
    }

    /// Backward of the selected scores (see `CPU.chunkScoresBackward`); accumulates into both
    /// outputs, tokens in order, no atomics.
    /// - Parameters:
    ///   - dRetrievalQuery: (B, T, NKV, DR) accumulated.
    ///   - dLandmarks: (B, NC, NKV, DR) accumulated.
    ///   - dScores: (B, T, NKV, K).
    ///   - indices: (B, T, NKV, K) Int32 selection.
    ///   - workspace: at least `chunkScoresBackwardWorkspaceBytes` bytes, contents ignored.
    ///   - shape: the forward's sizes and granularity.
    public func chunkScoresBackward(
        dRetrievalQuery: DeviceBuffer, dLandmarks: DeviceBuffer, dScores: DeviceBuffer,
        retrievalQuery: DeviceBuffer, landmarks: DeviceBuffer, indices: DeviceBuffer,
        workspace: DeviceBuffer, shape: SparseAttentionShape
    ) throws {
        let (b, t, nkv, dr, s, nc, k) = (
            shape.batch, shape.sequenceLength, shape.kvHeads, shape.retrievalDim,
            shape.chunkSize, shape.chunkCount, shape.topK
        )
        if b == 0 || t == 0 { return }
        let perChunk: Int32 = shape.granularity == .perChunk ? 1 : 0
        let sizes: [KernelArgument] = [
            .int(Int32(b)), .int(Int32(t)), .int(Int32(nkv)), .int(Int32(dr)), .int(Int32(s)),
            .int(Int32(nc)), .int(Int32(k)), .int(perChunk),
        ]
        let elements = b * t * nkv * dr
        try launch(
            "hsa_chunk_scores_backward_query_v1", in: .sparse,
            grid: ((elements + 255) / 256, 1), block: 256,
            [.buffer(dRetrievalQuery), .buffer(dScores), .buffer(landmarks), .buffer(indices)]
                + sizes)
        if nc == 0 { return }
        let map = try selectionMap(
            workspace, offset: 0, indices: indices, batch: b, sequenceLength: t, kvHeads: nkv,
            chunkCount: nc, topK: k)
        // v2 lists each tile's selecting tokens first (DR <= 256); v1 walks every token.
        let compacted = dr <= 256
        try launch(
            compacted
                ? "hsa_chunk_scores_backward_landmarks_v2"
                : "hsa_chunk_scores_backward_landmarks_v1",
            in: .sparse, grid: (b * nkv * nc, 1),
            block: compacted ? 128 : min(128, max(32, (dr + 31) / 32 * 32)),
            [.buffer(dLandmarks), .buffer(dScores), .buffer(retrievalQuery), .buffer(map)]
                + sizes)
    }

    /// Fills the (B, NKV, NC, T) int8 selection map at `workspace + offset` and returns a view.
    func selectionMap(
        _ workspace: DeviceBuffer, offset: Int, indices: DeviceBuffer, batch: Int,
        sequenceLength: Int, kvHeads: Int, chunkCount: Int, topK: Int
    ) throws -> DeviceBuffer {
        let bytes = batch * kvHeads * chunkCount * sequenceLength
        guard workspace.byteCount >= offset + bytes else {
            throw CUDAError.invalidArgument(
                "workspace holds \(workspace.byteCount) bytes, expected at least \(offset + bytes)")
        }
        let map = DeviceBuffer(
            device: device, borrowing: workspace.address + UInt64(offset), byteCount: bytes)
        try device.makeCurrent()
        try device.driver.check(
            device.driver.cuMemsetD8Async(map.address, 0xFF, bytes, stream.handle),
            "cuMemsetD8Async")
        let rows = batch * sequenceLength * kvHeads
        try launch(
            "hsa_selection_map_v1", in: .sparse, grid: ((rows + 255) / 256, 1), block: 256,
            [
                .buffer(map), .buffer(indices), .int(Int32(batch)), .int(Int32(sequenceLength)),
                .int(Int32(kvHeads)), .int(Int32(chunkCount)), .int(Int32(topK)),
            ])
        return map
    }
}

// MARK: - Sparse attention

extension CUDABackend {
    /// Sparse attention forward (see `CPU.sparseAttentionForward`), one block per (token, KV
    /// head); the selected chunk's keys and values are staged in shared memory for the group.
    /// With `attentionPrecision` bf16 and a shape the tensor-core kernels take, runs those.
    /// - Parameters:
    ///   - out: (B, T, NH, HS) overwritten.
    ///   - fusionWeights: (B, T, NKV, K) overwritten.
    ///   - chunkOutputs: (B, T, NH, K, HS) overwritten (not written for `joint`).
    ///   - chunkLogSumExp: (B, T, NH, K) overwritten.
    ///   - q: (B, T, NH, HS); keys, values: (B, NC, S, NKV, HS).
    ///   - indices: (B, T, NKV, K) Int32; scores: (B, T, NKV, K).
    ///   - shape: the sizes and the fusion.
    public func sparseAttentionForward(
        out: DeviceBuffer, fusionWeights: DeviceBuffer, chunkOutputs: DeviceBuffer,
        chunkLogSumExp: DeviceBuffer, q: DeviceBuffer, keys: DeviceBuffer, values: DeviceBuffer,
        indices: DeviceBuffer, scores: DeviceBuffer, shape: SparseAttentionShape
    ) throws {
        let (batch, sequenceLength, heads, kvHeads, headDim) = (
            shape.batch, shape.sequenceLength, shape.heads, shape.kvHeads, shape.headDim
        )
        let (chunkSize, chunkCount, topK, fusion) = (
            shape.chunkSize, shape.chunkCount, shape.topK, shape.fusion
        )
        try checkSparse(heads, kvHeads, headDim, chunkSize, topK)
        let rows = batch * sequenceLength
        try require(out, rows * heads * headDim, "out")
        try require(fusionWeights, rows * kvHeads * topK, "fusionWeights")
        try require(chunkLogSumExp, rows * heads * topK, "chunkLogSumExp")
        if usesSparseTensorCores(
            heads: heads, kvHeads: kvHeads, headDim: headDim, chunkSize: chunkSize, topK: topK)
        {
            return try sparseAttentionForwardTensorCores(
                out: out, fusionWeights: fusionWeights, chunkOutputs: chunkOutputs,
                chunkLogSumExp: chunkLogSumExp, q: q, keys: keys, values: values,
                indices: indices, scores: scores, dimensions: SparseDimensions(shape),
                fusion: fusion)
        }
        try launch(
            "hsa_sparse_attention_forward_v1", in: .sparse, grid: (rows * kvHeads, 1),
            block: 128,
            [
                .buffer(out), .buffer(fusionWeights), .buffer(chunkOutputs),
                .buffer(chunkLogSumExp), .buffer(q), .buffer(keys), .buffer(values),
                .buffer(indices), .buffer(scores),
            ]
                + sparseShape(
                    batch, sequenceLength, heads, kvHeads, headDim, chunkSize, chunkCount, topK,
                    fusion))
    }

    /// Bytes of workspace `sparseAttentionBackward` needs at either precision: deltas (B, T,
    /// NH, K), two partial sums (B, NKV, NC, blocks, S, HS) and the (B, NKV, NC, T) selection
    /// map; the tensor-core kernels' layout (`TensorCoreBackwardLayout`) when larger.
    public static func sparseAttentionBackwardWorkspaceBytes(_ shape: SparseAttentionShape)
        -> Int
    {
        let dimensions = SparseDimensions(shape)
        let layout = sparseBackwardLayout(
            dimensions.b, dimensions.t, dimensions.nh, dimensions.nkv, dimensions.hs,
            dimensions.s, dimensions.nc, dimensions.k)
        return max(layout.total, TensorCoreBackwardLayout(dimensions).total)
    }

    /// Byte offsets in the backward workspace (each part 256-byte aligned).
    private static func sparseBackwardLayout(
        _ b: Int, _ t: Int, _ nh: Int, _ nkv: Int, _ hs: Int, _ s: Int, _ nc: Int, _ k: Int
    ) -> (partialKeys: Int, partialValues: Int, map: Int, total: Int) {
        let aligned = workspaceAligned
        let blocks = sparseTokenBlocks(sequenceLength: t, chunkSize: s).count
        let deltas = aligned(b * t * nh * k * 4)
        let partial = aligned(b * nkv * nc * blocks * s * hs * 4)
        let map = aligned(b * nkv * nc * t)
        return (deltas, deltas + partial, deltas + 2 * partial, deltas + 2 * partial + map)
    }

    /// Sparse attention backward (see `CPU.sparseAttentionBackward`): dQ and dScores
    /// overwritten, dKeys and dValues accumulated. Three kernels: per (token, KV head) dQ,
    /// dScores and the softmax deltas; per (chunk, token block) partial key/value gradients
    /// over the tokens that selected the chunk, in token order; the partials added in block
    /// order. No atomics.
    /// - Parameters:
    ///   - workspace: at least `sparseAttentionBackwardWorkspaceBytes` bytes, contents ignored.
    ///   - the rest: as `CPU.sparseAttentionBackward` (the forward's results and inputs one
    ///     buffer each), indices a device Int32 buffer.
    public func sparseAttentionBackward(
        dQ: DeviceBuffer, dKeys: DeviceBuffer, dValues: DeviceBuffer, dScores: DeviceBuffer,
        dOut: DeviceBuffer, out: DeviceBuffer, fusionWeights: DeviceBuffer,
        chunkOutputs: DeviceBuffer, chunkLogSumExp: DeviceBuffer, q: DeviceBuffer,
        keys: DeviceBuffer, values: DeviceBuffer, indices: DeviceBuffer, scores: DeviceBuffer,
        workspace: DeviceBuffer, shape: SparseAttentionShape
    ) throws {
        let (b, t, nh, nkv, hs, s, nc, k) = (
            shape.batch, shape.sequenceLength, shape.heads, shape.kvHeads, shape.headDim,
            shape.chunkSize, shape.chunkCount, shape.topK
        )
        let fusion = shape.fusion
        try checkSparse(nh, nkv, hs, s, k)
        if b == 0 || t == 0 { return }
        if usesSparseTensorCores(heads: nh, kvHeads: nkv, headDim: hs, chunkSize: s, topK: k) {
            return try sparseAttentionBackwardTensorCores(
                dQ: dQ, dKeys: dKeys, dValues: dValues, dScores: dScores, dOut: dOut, out: out,
                fusionWeights: fusionWeights, chunkOutputs: chunkOutputs,
                chunkLogSumExp: chunkLogSumExp, q: q, keys: keys, values: values,
                indices: indices, scores: scores, workspace: workspace,
                dimensions: SparseDimensions(shape), fusion: fusion)
        }
        let layout = Self.sparseBackwardLayout(b, t, nh, nkv, hs, s, nc, k)
        let part = try workspaceParts(workspace, needing: layout.total)
        let deltas = part(0)
        let partialKeys = part(layout.partialKeys)
        let partialValues = part(layout.partialValues)
        let sizes = sparseShape(b, t, nh, nkv, hs, s, nc, k, fusion)
        try launch(
            "hsa_sparse_attention_backward_query_v1", in: .sparse, grid: (b * t * nkv, 1),
            block: 128,
            [
                .buffer(dQ), .buffer(dScores), .buffer(deltas), .buffer(dOut), .buffer(out),
                .buffer(fusionWeights), .buffer(chunkOutputs), .buffer(chunkLogSumExp),
                .buffer(q), .buffer(keys), .buffer(values), .buffer(indices), .buffer(scores),
            ] + sizes)
        if nc == 0 { return }
        let map = try selectionMap(
            workspace, offset: layout.map, indices: indices, batch: b, sequenceLength: t,
            kvHeads: nkv, chunkCount: nc, topK: k)
        let blocks = Self.sparseTokenBlocks(sequenceLength: t, chunkSize: s)
        let blockArguments: [KernelArgument] = [
            .int(Int32(blocks.tokens)), .int(Int32(blocks.count)),
        ]
        try launch(
            "hsa_sparse_attention_backward_chunk_v1", in: .sparse,
            grid: (b * nkv * nc, blocks.count), block: 256,
            [
                .buffer(partialKeys), .buffer(partialValues), .buffer(dOut),
                .buffer(fusionWeights), .buffer(chunkLogSumExp), .buffer(deltas), .buffer(q),
                .buffer(keys), .buffer(values), .buffer(map),
            ] + sizes + blockArguments)
        let elements = b * nc * s * nkv * hs
        try launch(
            "hsa_sparse_attention_backward_reduce_v1", in: .sparse,
            grid: ((elements + 255) / 256, 1), block: 256,
            [
                .buffer(dKeys), .buffer(dValues), .buffer(partialKeys), .buffer(partialValues),
                .int(Int32(b)), .int(Int32(t)), .int(Int32(nkv)), .int(Int32(hs)),
                .int(Int32(s)), .int(Int32(nc)),
            ] + blockArguments)
    }

    // MARK: Helpers

    private func checkSparse(
        _ heads: Int, _ kvHeads: Int, _ headDim: Int, _ chunkSize: Int, _ topK: Int
    ) throws {
        guard
            Self.sparseAttentionSupports(
                heads: heads, kvHeads: kvHeads, headDim: headDim, chunkSize: chunkSize,
                topK: topK)
        else {
            throw CUDAError.invalidArgument(
                "sparse attention: NH \(heads), NKV \(kvHeads), HS \(headDim), S \(chunkSize), "
                    + "K \(topK) beyond the kernels' tiles (S*HS <= 4096, S <= 128, "
                    + "G*S <= 1024, G*HS <= 1024, K <= \(Self.maxTopK))")
        }
    }

    /// The `int B, T, NH, NKV, HS, S, NC, K, fusion` tail of the sparse attention kernels.
    func sparseShape(
        _ b: Int, _ t: Int, _ nh: Int, _ nkv: Int, _ hs: Int, _ s: Int, _ nc: Int, _ k: Int,
        _ fusion: FusionKind
    ) -> [KernelArgument] {
        let code: Int32
        switch fusion {
        case .stickBreaking: code = 0
        case .softmax: code = 1
        case .joint: code = 2
        }
        return [
            .int(Int32(b)), .int(Int32(t)), .int(Int32(nh)), .int(Int32(nkv)), .int(Int32(hs)),
            .int(Int32(s)), .int(Int32(nc)), .int(Int32(k)), .int(code),
        ]
    }
}
