import HSACPU
import HSACore

/// Hierarchical sparse attention over the chunk memory: `hsa_out = o_proj(fuse_k(attn_k))` where
/// every token and KV head picks its top-K past chunks by landmark score (MODEL.md "HSA in an
/// upper layer"). Input is `y` (N, C), the residual stream after the layer's SWA.
struct HSASublayer {
    let config: ModelConfig

    /// Activations kept for the backward pass.
    struct Cache {
        let normed: Tensor  // (N, C) RMSNorm_hsa(y)
        let rstd: Tensor  // (N)
        let queryRaw: Tensor  // (N, NH*HS)
        let retrievalQuery: Tensor  // (N, NKV*DR)
        let query: Tensor  // (N, NH*HS) after q_norm
        let queryRstd: Tensor  // (N*NH)
        let keys: Tensor  // (B*NC*S, NKV*HS) after this layer's k_norm
        let keyRstd: Tensor  // (B*NC*S*NKV)
        let indices: [Int32]  // (N, NKV, K)
        let scores: Tensor  // (N, NKV, K)
        let fusionWeights: Tensor  // (N, NKV, K)
        let chunkOutputs: Tensor  // (N, NH, K, HS)
        let chunkLogSumExp: Tensor  // (N, NH, K)
        let attention: Tensor  // (N, NH*HS)

        /// What the sparse attention forward wrote, for its backward.
        var results: SparseAttentionResults {
            SparseAttentionResults(
                out: attention.data, fusionWeights: fusionWeights.data,
                chunkOutputs: chunkOutputs.data, chunkLogSumExp: chunkLogSumExp.data)
        }
    }

    private var dims: (nh: Int, nkv: Int, hs: Int, dr: Int, k: Int, s: Int) {
        (
            config.nHeads, config.nKvHeads, config.headDim, config.retrievalHeadDim, config.topK,
            config.chunkSize
        )
    }

    /// The sizes of this layer's HSA ops for a batch over a memory of `chunkCount` chunks.
    private func opShape(batch: Int, sequenceLength: Int, chunkCount: Int) -> SparseAttentionShape {
        SparseAttentionShape(
            batch: batch, sequenceLength: sequenceLength, heads: config.nHeads,
            kvHeads: config.nKvHeads, headDim: config.headDim,
            retrievalDim: config.retrievalHeadDim,
            chunkSize: config.chunkSize, chunkCount: chunkCount, topK: config.topK,
            fusion: config.fusion, granularity: config.retrieval)
    }

    // MARK: - Forward

    /// Writes `out` (N, C) = hsa_out(y).
    /// `fixedIndices` (N, NKV, K), when given, replaces the top-k selection (gradient checks hold
    /// the non-differentiable selection fixed this way); scores are still computed from it.
    func forward(
        out: Tensor, input y: Tensor, memory: ChunkMemoryTensors, weights w: HSAWeights,
        batch: Int, sequenceLength: Int, fixedIndices: [Int32]? = nil
    ) -> Cache {
        let n = batch * sequenceLength
        let (nh, nkv, hs, dr, k, _) = dims
        let nc = memory.chunkCount
        let shape = opShape(batch: batch, sequenceLength: sequenceLength, chunkCount: nc)
        let memoryRows = memory.keys.shape[0]
        let normed = Tensor(shape: [n, config.dModel])
        let rstd = Tensor(shape: [n])
        TensorOps.rmsNorm(normed, rstd: rstd, y, w.norm, rows: n)
        let queryRaw = Tensor(shape: [n, nh * hs])
        TensorOps.linear(queryRaw, normed, w.query, rows: n)
        let retrievalQuery = Tensor(shape: [n, nkv * dr])
        if let projection = w.retrievalQuery {
            TensorOps.linear(retrievalQuery, normed, projection, rows: n)
        } else {
            groupMeans(out: retrievalQuery, heads: queryRaw, rows: n)
        }
        let query = Tensor(shape: [n, nh * hs])
        let queryRstd = Tensor(shape: [n * nh])
        let keys = Tensor(shape: [memoryRows, nkv * hs])
        let keyRstd = Tensor(shape: [memoryRows * nkv])
        if let queryNorm = w.queryNorm, let keyNorm = w.keyNorm {
            TensorOps.rmsNorm(query, rstd: queryRstd, queryRaw, queryNorm, rows: n * nh)
            TensorOps.rmsNorm(keys, rstd: keyRstd, memory.keys, keyNorm, rows: memoryRows * nkv)
        } else {
            query.copy(from: queryRaw)
            keys.copy(from: memory.keys)
        }

        var indices = [Int32](repeating: -1, count: n * nkv * k)
        let scores = Tensor(shape: [n, nkv, k])
        if let fixedIndices {
            indices = fixedIndices
            fixedSelectionScores(
                scores: scores, indices: indices, retrievalQuery: retrievalQuery,
                landmarks: memory.landmarks, batch: batch, sequenceLength: sequenceLength,
                chunkCount: nc)
        } else {
            indices.withUnsafeMutableBufferPointer { idx in
                guard let idx = idx.baseAddress else { return }
                TensorOps.backend.chunkSelectForward(
                    indices: idx, scores: scores.data, retrievalQuery: retrievalQuery.data,
                    landmarks: memory.landmarks.data, shape: shape)
            }
        }
        let fusionWeights = Tensor(shape: [n, nkv, k])
        let chunkOutputs = Tensor(shape: [n, nh, k, hs])
        let chunkLogSumExp = Tensor(shape: [n, nh, k])
        let attention = Tensor(shape: [n, nh * hs])
        indices.withUnsafeBufferPointer { idx in
            guard let idx = idx.baseAddress else { return }
            TensorOps.backend.sparseAttentionForward(
                into: SparseAttentionResults(
                    out: attention.data, fusionWeights: fusionWeights.data,
                    chunkOutputs: chunkOutputs.data, chunkLogSumExp: chunkLogSumExp.data),
                inputs: SparseAttentionInputs(
                    q: query.data, keys: keys.data, values: memory.values.data, indices: idx,
                    scores: scores.data),
                shape: shape)
        }
        TensorOps.linear(out, attention, w.output, rows: n)
        return Cache(
            normed: normed, rstd: rstd, queryRaw: queryRaw, retrievalQuery: retrievalQuery,
            query: query, queryRstd: queryRstd, keys: keys, keyRstd: keyRstd, indices: indices,
            scores: scores, fusionWeights: fusionWeights, chunkOutputs: chunkOutputs,
            chunkLogSumExp: chunkLogSumExp, attention: attention)
    }

    // MARK: - Backward

    /// dInput (N, C) += the gradient of y; dMemory += the memory's gradient; parameter
    /// gradients accumulate into `grads`.
    func backward(
        dInput: Tensor, dMemory: ChunkMemoryTensors, dOut: Tensor, input y: Tensor,
        memory: ChunkMemoryTensors, cache: Cache, weights w: HSAWeights, grads g: HSAWeights,
        batch: Int, sequenceLength: Int
    ) {
        let n = batch * sequenceLength
        let (nh, nkv, hs, dr, k, _) = dims
        let shape = opShape(
            batch: batch, sequenceLength: sequenceLength, chunkCount: memory.chunkCount)
        let memoryRows = memory.keys.shape[0]
        let dAttention = TensorOps.linearInputGradient(
            dWeight: g.output, dOut: dOut, input: cache.attention, weight: w.output, rows: n)
        let dQuery = Tensor(shape: [n, nh * hs])
        let dKeys = Tensor(shape: [memoryRows, nkv * hs])
        let dScores = Tensor(shape: [n, nkv, k])
        cache.indices.withUnsafeBufferPointer { idx in
            guard let idx = idx.baseAddress else { return }
            TensorOps.backend.sparseAttentionBackward(
                dQ: dQuery.data, dKeys: dKeys.data, dValues: dMemory.values.data,
                dScores: dScores.data, dOut: dAttention.data, forward: cache.results,
                inputs: SparseAttentionInputs(
                    q: cache.query.data, keys: cache.keys.data, values: memory.values.data,
                    indices: idx, scores: cache.scores.data),
                shape: shape)
        }
        let dRetrievalQuery = Tensor(shape: [n, nkv * dr])
        cache.indices.withUnsafeBufferPointer { idx in
            guard let idx = idx.baseAddress else { return }
            TensorOps.backend.chunkScoresBackward(
                dRetrievalQuery: dRetrievalQuery.data, dLandmarks: dMemory.landmarks.data,
                dScores: dScores.data, retrievalQuery: cache.retrievalQuery.data,
                landmarks: memory.landmarks.data, indices: idx, shape: shape)
        }
        let dQueryRaw: Tensor
        if let queryNorm = w.queryNorm, let keyNorm = w.keyNorm, let gq = g.queryNorm,
            let gk = g.keyNorm
        {
            dQueryRaw = Tensor(shape: [n, nh * hs])
            TensorOps.rmsNormBackward(
                dInput: dQueryRaw, dWeight: gq, dOut: dQuery, input: cache.queryRaw,
                weight: queryNorm, rstd: cache.queryRstd, rows: n * nh)
            TensorOps.rmsNormBackward(
                dInput: dMemory.keys, dWeight: gk, dOut: dKeys, input: memory.keys, weight: keyNorm,
                rstd: cache.keyRstd, rows: memoryRows * nkv)
        } else {
            dQueryRaw = dQuery
            TensorOps.accumulate(dMemory.keys, dKeys)
        }
        let dNormed = Tensor(shape: [n, config.dModel])
        if let projection = w.retrievalQuery, let gProjection = g.retrievalQuery {
            TensorOps.linearBackward(
                dInput: dNormed, dWeight: gProjection, dOut: dRetrievalQuery, input: cache.normed,
                weight: projection, rows: n)
        } else {
            groupMeansBackward(dHeads: dQueryRaw, dOut: dRetrievalQuery, rows: n)
        }
        TensorOps.linearBackward(
            dInput: dNormed, dWeight: g.query, dOut: dQueryRaw, input: cache.normed,
            weight: w.query, rows: n)
        TensorOps.rmsNormBackward(
            dInput: dInput, dWeight: g.norm, dOut: dNormed, input: y, weight: w.norm,
            rstd: cache.rstd, rows: n)
    }

    // MARK: - Helpers

    /// scores (N, NKV, K) of the chunks in `indices` (-1 slots score 0), from the query row that
    /// the retrieval granularity assigns to each token.
    private func fixedSelectionScores(
        scores: Tensor, indices: [Int32], retrievalQuery: Tensor, landmarks: Tensor, batch: Int,
        sequenceLength: Int, chunkCount: Int
    ) {
        let (_, nkv, _, dr, k, s) = dims
        let scale = 1 / Float(dr).squareRoot()
        TensorOps.synchronize()  // host loop over device-written rows
        for b in 0..<batch {
            for t in 0..<sequenceLength {
                let queryRow = config.retrieval == .perChunk ? max(0, (t / s) * s - 1) : t
                for g in 0..<nkv {
                    let q = retrievalQuery.data + ((b * sequenceLength + queryRow) * nkv + g) * dr
                    for slot in 0..<k {
                        let at = ((b * sequenceLength + t) * nkv + g) * k + slot
                        let chunk = Int(indices[at])
                        guard chunk >= 0 else { continue }
                        let l = landmarks.data + ((b * chunkCount + chunk) * nkv + g) * dr
                        var dot: Float = 0
                        for d in 0..<dr { dot += q[d] * l[d] }
                        scores[at] = dot * scale
                    }
                }
            }
        }
    }

    /// out (N, NKV, HS) = mean of the query heads of each group of `heads` (N, NH, HS): the
    /// retrieval query when it has no projection of its own.
    private func groupMeans(out: Tensor, heads: Tensor, rows n: Int) {
        let (nh, nkv, hs, _, _, _) = dims
        let group = nh / nkv
        TensorOps.synchronize()  // host loop over device-written rows
        for row in 0..<n {
            for h in 0..<nh {
                let src = heads.data + (row * nh + h) * hs
                let dst = out.data + (row * nkv + h / group) * hs
                for d in 0..<hs { dst[d] += src[d] / Float(group) }
            }
        }
    }

    /// dHeads (N, NH, HS) += dOut (N, NKV, HS) / group size.
    private func groupMeansBackward(dHeads: Tensor, dOut: Tensor, rows n: Int) {
        let (nh, nkv, hs, _, _, _) = dims
        let group = nh / nkv
        TensorOps.synchronize()  // host loop over device-written rows
        for row in 0..<n {
            for h in 0..<nh {
                let src = dOut.data + (row * nkv + h / group) * hs
                let dst = dHeads.data + (row * nh + h) * hs
                for d in 0..<hs { dst[d] += src[d] / Float(group) }
            }
        }
    }
}
