import HSACore

// The four HSA ops of `CUDAManagedBackend` on the GPU (Ops/CUDABackend+Sparse.swift). The chunk
// indices are host memory in the `ComputeBackend` contract: the selection is computed into a
// pooled device block and copied back (the one wait per HSA layer's forward); the backward ops
// stage the host indices again. Shapes beyond the kernels' tiles run on the CPU fallback.

// MARK: - Chunk selection

extension CUDAManagedBackend {
    public func chunkSelectForward(
        indices: UnsafeMutablePointer<Int32>, scores: UnsafeMutablePointer<Float>,
        retrievalQuery: UnsafePointer<Float>, landmarks: UnsafePointer<Float>, batch: Int,
        sequenceLength: Int, kvHeads: Int, retrievalDim: Int, chunkSize: Int, chunkCount: Int,
        topK: Int, granularity: RetrievalGranularity
    ) {
        guard CUDABackend.chunkSelectionSupports(chunkCount: chunkCount, topK: topK) else {
            onFallback("chunkSelectForward") {
                $0.chunkSelectForward(
                    indices: indices, scores: scores, retrievalQuery: retrievalQuery,
                    landmarks: landmarks, batch: batch, sequenceLength: sequenceLength,
                    kvHeads: kvHeads, retrievalDim: retrievalDim, chunkSize: chunkSize,
                    chunkCount: chunkCount, topK: topK, granularity: granularity)
            }
            return
        }
        let count = batch * sequenceLength * kvHeads * topK
        if count == 0 { return }
        run("chunkSelectForward") {
            let selection = block(count: count)  // (B, T, NKV, K) Int32
            defer { free(selection, count: count) }
            try gpu.chunkSelectForward(
                indices: view(selection), scores: view(scores),
                retrievalQuery: view(retrievalQuery), landmarks: view(landmarks), batch: batch,
                sequenceLength: sequenceLength, kvHeads: kvHeads, retrievalDim: retrievalDim,
                chunkSize: chunkSize, chunkCount: chunkCount, topK: topK,
                granularity: granularity)
            // The caller reads the indices on the host (they are also its cache for backward).
            try gpu.synchronize()
            try device.driver.check(
                device.driver.cuMemcpyDtoH(indices, address(selection), count * 4),
                "cuMemcpyDtoH_v2")
        }
    }

    public func chunkScoresBackward(
        dRetrievalQuery: UnsafeMutablePointer<Float>, dLandmarks: UnsafeMutablePointer<Float>,
        dScores: UnsafePointer<Float>, retrievalQuery: UnsafePointer<Float>,
        landmarks: UnsafePointer<Float>, indices: UnsafePointer<Int32>, batch: Int,
        sequenceLength: Int, kvHeads: Int, retrievalDim: Int, chunkSize: Int, chunkCount: Int,
        topK: Int, granularity: RetrievalGranularity
    ) {
        let count = batch * sequenceLength * kvHeads * topK
        if count == 0 { return }
        let workspaceBytes = CUDABackend.chunkScoresBackwardWorkspaceBytes(
            batch: batch, sequenceLength: sequenceLength, kvHeads: kvHeads,
            chunkCount: chunkCount)
        run("chunkScoresBackward") {
            try withStaged(indices, count: count) { stagedIndices in
                try withWorkspace(bytes: workspaceBytes) { workspace in
                    try gpu.chunkScoresBackward(
                        dRetrievalQuery: view(dRetrievalQuery), dLandmarks: view(dLandmarks),
                        dScores: view(dScores), retrievalQuery: view(retrievalQuery),
                        landmarks: view(landmarks), indices: stagedIndices,
                        workspace: workspace, batch: batch, sequenceLength: sequenceLength,
                        kvHeads: kvHeads, retrievalDim: retrievalDim, chunkSize: chunkSize,
                        chunkCount: chunkCount, topK: topK, granularity: granularity)
                }
            }
        }
    }
}

// MARK: - Sparse attention

extension CUDAManagedBackend {
    public func sparseAttentionForward(
        out: UnsafeMutablePointer<Float>, fusionWeights: UnsafeMutablePointer<Float>,
        chunkOutputs: UnsafeMutablePointer<Float>, chunkLogSumExp: UnsafeMutablePointer<Float>,
        q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        indices: UnsafePointer<Int32>, scores: UnsafePointer<Float>, batch: Int,
        sequenceLength: Int, heads: Int, kvHeads: Int, headDim: Int, chunkSize: Int,
        chunkCount: Int, topK: Int, fusion: FusionKind
    ) {
        guard
            CUDABackend.sparseAttentionSupports(
                heads: heads, kvHeads: kvHeads, headDim: headDim, chunkSize: chunkSize,
                topK: topK)
        else {
            onFallback("sparseAttentionForward") {
                $0.sparseAttentionForward(
                    out: out, fusionWeights: fusionWeights, chunkOutputs: chunkOutputs,
                    chunkLogSumExp: chunkLogSumExp, q: q, keys: keys, values: values,
                    indices: indices, scores: scores, batch: batch,
                    sequenceLength: sequenceLength, heads: heads, kvHeads: kvHeads,
                    headDim: headDim, chunkSize: chunkSize, chunkCount: chunkCount, topK: topK,
                    fusion: fusion)
            }
            return
        }
        let count = batch * sequenceLength * kvHeads * topK
        if count == 0 { return }
        run("sparseAttentionForward") {
            try withStaged(indices, count: count) { stagedIndices in
                try gpu.sparseAttentionForward(
                    out: view(out), fusionWeights: view(fusionWeights),
                    chunkOutputs: view(chunkOutputs), chunkLogSumExp: view(chunkLogSumExp),
                    q: view(q), keys: view(keys), values: view(values), indices: stagedIndices,
                    scores: view(scores), batch: batch, sequenceLength: sequenceLength,
                    heads: heads, kvHeads: kvHeads, headDim: headDim, chunkSize: chunkSize,
                    chunkCount: chunkCount, topK: topK, fusion: fusion)
            }
        }
    }

    public func sparseAttentionBackward(
        dQ: UnsafeMutablePointer<Float>, dKeys: UnsafeMutablePointer<Float>,
        dValues: UnsafeMutablePointer<Float>, dScores: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, out: UnsafePointer<Float>,
        fusionWeights: UnsafePointer<Float>, chunkOutputs: UnsafePointer<Float>,
        chunkLogSumExp: UnsafePointer<Float>, q: UnsafePointer<Float>,
        keys: UnsafePointer<Float>, values: UnsafePointer<Float>, indices: UnsafePointer<Int32>,
        scores: UnsafePointer<Float>, batch: Int, sequenceLength: Int, heads: Int, kvHeads: Int,
        headDim: Int, chunkSize: Int, chunkCount: Int, topK: Int, fusion: FusionKind
    ) {
        guard
            CUDABackend.sparseAttentionSupports(
                heads: heads, kvHeads: kvHeads, headDim: headDim, chunkSize: chunkSize,
                topK: topK)
        else {
            onFallback("sparseAttentionBackward") {
                $0.sparseAttentionBackward(
                    dQ: dQ, dKeys: dKeys, dValues: dValues, dScores: dScores, dOut: dOut,
                    out: out, fusionWeights: fusionWeights, chunkOutputs: chunkOutputs,
                    chunkLogSumExp: chunkLogSumExp, q: q, keys: keys, values: values,
                    indices: indices, scores: scores, batch: batch,
                    sequenceLength: sequenceLength, heads: heads, kvHeads: kvHeads,
                    headDim: headDim, chunkSize: chunkSize, chunkCount: chunkCount, topK: topK,
                    fusion: fusion)
            }
            return
        }
        let count = batch * sequenceLength * kvHeads * topK
        if count == 0 { return }
        let workspaceBytes = CUDABackend.sparseAttentionBackwardWorkspaceBytes(
            batch: batch, sequenceLength: sequenceLength, heads: heads, kvHeads: kvHeads,
            headDim: headDim, chunkSize: chunkSize, chunkCount: chunkCount, topK: topK)
        run("sparseAttentionBackward") {
            try withStaged(indices, count: count) { stagedIndices in
                try withWorkspace(bytes: workspaceBytes) { workspace in
                    try gpu.sparseAttentionBackward(
                        dQ: view(dQ), dKeys: view(dKeys), dValues: view(dValues),
                        dScores: view(dScores), dOut: view(dOut), out: view(out),
                        fusionWeights: view(fusionWeights), chunkOutputs: view(chunkOutputs),
                        chunkLogSumExp: view(chunkLogSumExp), q: view(q), keys: view(keys),
                        values: view(values), indices: stagedIndices, scores: view(scores),
                        workspace: workspace, batch: batch, sequenceLength: sequenceLength,
                        heads: heads, kvHeads: kvHeads, headDim: headDim, chunkSize: chunkSize,
                        chunkCount: chunkCount, topK: topK, fusion: fusion)
                }
            }
        }
    }
}
