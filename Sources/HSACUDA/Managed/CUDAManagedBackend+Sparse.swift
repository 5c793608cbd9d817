import HSACore

// The four HSA ops of `CUDAManagedBackend` on the GPU (Ops/CUDABackend+Sparse.swift). The chunk
// indices are host memory in the `ComputeBackend` contract: the selection is computed into a
// pooled device block and copied back (the one wait per HSA layer's forward); the backward ops
// stage the host indices again. Shapes beyond the kernels' tiles run on the CPU fallback.

// MARK: - Chunk selection

extension CUDAManagedBackend {
    public func chunkSelectForward(
        indices: UnsafeMutablePointer<Int32>, scores: UnsafeMutablePointer<Float>,
        retrievalQuery: UnsafePointer<Float>, landmarks: UnsafePointer<Float>,
        shape: SparseAttentionShape
    ) {
        guard CUDABackend.chunkSelectionSupports(chunkCount: shape.chunkCount, topK: shape.topK)
        else {
            onFallback("chunkSelectForward") {
                $0.chunkSelectForward(
                    indices: indices, scores: scores, retrievalQuery: retrievalQuery,
                    landmarks: landmarks, shape: shape)
            }
            return
        }
        let count = shape.selectionCount
        if count == 0 { return }
        run("chunkSelectForward") {
            let selection = block(count: count)  // (B, T, NKV, K) Int32
            defer { free(selection, count: count) }
            try gpu.chunkSelectForward(
                indices: view(selection), scores: view(scores),
                retrievalQuery: view(retrievalQuery), landmarks: view(landmarks), shape: shape)
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
        landmarks: UnsafePointer<Float>, indices: UnsafePointer<Int32>,
        shape: SparseAttentionShape
    ) {
        let count = shape.selectionCount
        if count == 0 { return }
        let workspaceBytes = CUDABackend.chunkScoresBackwardWorkspaceBytes(shape)
        run("chunkScoresBackward") {
            try withStaged(indices, count: count) { stagedIndices in
                try withWorkspace(bytes: workspaceBytes) { workspace in
                    try gpu.chunkScoresBackward(
                        dRetrievalQuery: view(dRetrievalQuery), dLandmarks: view(dLandmarks),
                        dScores: view(dScores), retrievalQuery: view(retrievalQuery),
                        landmarks: view(landmarks), indices: stagedIndices,
                        workspace: workspace, shape: shape)
                }
            }
        }
    }
}

// MARK: - Sparse attention

extension CUDAManagedBackend {
    public func sparseAttentionForward(
        into results: SparseAttentionResults, inputs: SparseAttentionInputs,
        shape: SparseAttentionShape
    ) {
        guard sparseAttentionRunsOnGPU(shape) else {
            onFallback("sparseAttentionForward") {
                $0.sparseAttentionForward(into: results, inputs: inputs, shape: shape)
            }
            return
        }
        let count = shape.selectionCount
        if count == 0 { return }
        run("sparseAttentionForward") {
            try withStaged(inputs.indices, count: count) { stagedIndices in
                try gpu.sparseAttentionForward(
                    out: view(results.out), fusionWeights: view(results.fusionWeights),
                    chunkOutputs: view(results.chunkOutputs),
                    chunkLogSumExp: view(results.chunkLogSumExp), q: view(inputs.q),
                    keys: view(inputs.keys), values: view(inputs.values), indices: stagedIndices,
                    scores: view(inputs.scores), shape: shape)
            }
        }
    }

    public func sparseAttentionBackward(
        dQ: UnsafeMutablePointer<Float>, dKeys: UnsafeMutablePointer<Float>,
        dValues: UnsafeMutablePointer<Float>, dScores: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, forward: SparseAttentionResults,
        inputs: SparseAttentionInputs, shape: SparseAttentionShape
    ) {
        guard sparseAttentionRunsOnGPU(shape) else {
            onFallback("sparseAttentionBackward") {
                $0.sparseAttentionBackward(
                    dQ: dQ, dKeys: dKeys, dValues: dValues, dScores: dScores, dOut: dOut,
                    forward: forward, inputs: inputs, shape: shape)
            }
            return
        }
        let count = shape.selectionCount
        if count == 0 { return }
        let workspaceBytes = CUDABackend.sparseAttentionBackwardWorkspaceBytes(shape)
        run("sparseAttentionBackward") {
            try withStaged(inputs.indices, count: count) { stagedIndices in
                try withWorkspace(bytes: workspaceBytes) { workspace in
                    try gpu.sparseAttentionBackward(
                        dQ: view(dQ), dKeys: view(dKeys), dValues: view(dValues),
                        dScores: view(dScores), dOut: view(dOut), out: view(forward.out),
                        fusionWeights: view(forward.fusionWeights),
                        chunkOutputs: view(forward.chunkOutputs),
                        chunkLogSumExp: view(forward.chunkLogSumExp), q: view(inputs.q),
                        keys: view(inputs.keys), values: view(inputs.values),
                        indices: stagedIndices, scores: view(inputs.scores),
                        workspace: workspace, shape: shape)
                }
            }
        }
    }

    /// Shapes beyond the kernels' tiles run on the CPU fallback.
    private func sparseAttentionRunsOnGPU(_ shape: SparseAttentionShape) -> Bool {
        CUDABackend.sparseAttentionSupports(
            heads: shape.heads, kvHeads: shape.kvHeads, headDim: shape.headDim,
            chunkSize: shape.chunkSize, topK: shape.topK)
    }
}
