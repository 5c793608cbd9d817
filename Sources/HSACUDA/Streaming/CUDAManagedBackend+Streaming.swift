import HSACore

// `StreamingAccelerator` on the GPU: `StreamingSession` keeps its caches in managed memory, its
// chunk keys/values in a `CUDAChunkStore`, and runs streaming HSA as two kernels (selection over
// every stored chunk, then sparse attention over the selected records; Kernels/
// StreamingKernels.swift). Letters as in HSACore/Tensor/StreamingAccelerator.swift.

extension CUDAManagedBackend: StreamingAccelerator {
    /// An empty `CUDAChunkStore` (device budget from `HSA_KV_DEVICE_BYTES` or free memory).
    public func makeChunkStore(recordElements: Int, halfPrecision: Bool) throws
        -> any AcceleratedChunkStore
    {
        try CUDAChunkStore(
            backend: gpu, recordElements: recordElements, halfPrecision: halfPrecision)
    }

    /// True when the streaming kernels handle the shape: DR <= 256, K <= `CUDABackend.maxTopK`,
    /// and the sparse attention tiles (S * HS <= 4096, S <= 128, G * S <= 1024, G * HS <= 1024,
    /// G <= 32).
    public static func streamingSupports(
        heads: Int, kvHeads: Int, headDim: Int, retrievalDim: Int, chunkSize: Int, topK: Int
    ) -> Bool {
        retrievalDim <= 256
            && CUDABackend.sparseAttentionSupports(
                heads: heads, kvHeads: kvHeads, headDim: headDim, chunkSize: chunkSize,
                topK: topK)
    }

    /// Streaming HSA forward (see `StreamingAccelerator`): selection, then sparse attention;
    /// waits for the GPU only when `selected` is requested.
    public func streamingSparseAttentionForward(
        out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>,
        retrievalQuery: UnsafePointer<Float>, eligibleChunks: UnsafePointer<Int32>,
        landmarks: UnsafePointer<Float>, store: any AcceleratedChunkStore,
        keyNorm: UnsafePointer<Float>?, rows: Int, heads: Int, kvHeads: Int, headDim: Int,
        retrievalDim: Int, chunkSize: Int, chunkCount: Int, topK: Int, fusion: FusionKind,
        selected: UnsafeMutablePointer<Int32>?
    ) throws {
        guard
            Self.streamingSupports(
                heads: heads, kvHeads: kvHeads, headDim: headDim, retrievalDim: retrievalDim,
                chunkSize: chunkSize, topK: topK)
        else {
            throw CUDAError.invalidArgument(
                "streaming HSA: NH \(heads) NKV \(kvHeads) HS \(headDim) DR \(retrievalDim) "
                    + "S \(chunkSize) K \(topK) beyond the kernels' tiles (DR <= 256, "
                    + "K <= \(CUDABackend.maxTopK), S*HS <= 4096, G*S <= 1024, G*HS <= 1024); "
                    + "hint: use --backend cpu")
        }
        guard let store = store as? CUDAChunkStore else {
            throw CUDAError.invalidArgument(
                "streaming HSA: expected a CUDAChunkStore, got \(type(of: store))")
        }
        guard rows > 0 else { return }
        let count = rows * kvHeads * topK
        let fusionCode: Int32 =
            switch fusion {
            case .stickBreaking: 0
            case .softmax: 1
            case .joint: 2
            }
        var failure: (any Error)?
        run("streamingSparseAttention") {
            do {
                try withStaged(eligibleChunks, count: rows) { eligible in
                    let indices = block(count: count)  // (N, NKV, K) Int32
                    let scores = block(count: count)
                    let parts = Self.selectionParts(
                        rowBlocks: (rows + 15) / 16, kvHeads: kvHeads, chunks: chunkCount,
                        multiprocessors: device.multiprocessorCount)
                    let partCount = parts.count * count
                    let partIndices = block(count: partCount)  // (parts, N, NKV, K) Int32
                    let partScores = block(count: partCount)
                    defer {
                        free(indices, count: count)
                        free(scores, count: count)
                        free(partIndices, count: partCount)
                        free(partScores, count: partCount)
                    }
                    try gpu.launch(
                        "hsa_stream_select_v2", in: .streaming,
                        grid: ((rows + 15) / 16, kvHeads * parts.count), block: 256,
                        [
                            .buffer(view(partIndices)), .buffer(view(partScores)),
                            .buffer(view(retrievalQuery)), .buffer(view(landmarks)),
                            .buffer(eligible), .int(Int32(rows)), .int(Int32(kvHeads)),
                            .int(Int32(retrievalDim)), .int(Int32(topK)),
                            .float(1 / Float(retrievalDim).squareRoot()),
                            .int(Int32(parts.chunksPerPart)),
                        ])
                    try gpu.launch(
                        "hsa_stream_select_merge_v1", in: .streaming, grid: (rows, kvHeads),
                        block: 32,
                        [
                            .buffer(view(indices)), .buffer(view(scores)),
                            .buffer(view(partIndices)), .buffer(view(partScores)),
                            .int(Int32(parts.count)), .int(Int32(rows)), .int(Int32(kvHeads)),
                            .int(Int32(topK)),
                        ])
                    try gpu.launch(
                        "hsa_stream_sparse_attention_v1", in: .streaming, grid: (rows, kvHeads),
                        block: 256,
                        [
                            .buffer(view(out)), .buffer(view(q)), .buffer(view(indices)),
                            .buffer(view(scores)), .buffer(store.segmentTable),
                            .int(Int32(store.chunksPerSegment)),
                            keyNorm.map { .buffer(view($0)) } ?? .null, .int(Int32(heads)),
                            .int(Int32(kvHeads)), .int(Int32(headDim)), .int(Int32(chunkSize)),
                            .int(Int32(topK)), .int(fusionCode),
                            .int(store.isHalfPrecision ? 1 : 0),
                            .float(1 / Float(headDim).squareRoot()),
                        ])
                    if let selected {
                        try gpu.synchronize()
                        try device.driver.check(
                            device.driver.cuMemcpyDtoH(selected, address(indices), count * 4),
                            "cuMemcpyDtoH_v2")
                    }
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// How `hsa_stream_select_v2` splits the chunk range: enough parts that the selection
    /// fills about two blocks per multiprocessor when few rows scan many chunks (decode over
    /// millions of tokens), each part at least one 16-chunk tile, at most 256 parts.
    static func selectionParts(rowBlocks: Int, kvHeads: Int, chunks: Int, multiprocessors: Int)
        -> (count: Int, chunksPerPart: Int)
    {
        let blocks = max(rowBlocks * kvHeads, 1)
        let wanted = (2 * multiprocessors + blocks - 1) / blocks
        let tiles = max((chunks + 15) / 16, 1)
        let count = max(1, min(wanted, tiles, 256))
        let tilesPerPart = (tiles + count - 1) / count
        return ((tiles + tilesPerPart - 1) / tilesPerPart, tilesPerPart * 16)
    }
}
