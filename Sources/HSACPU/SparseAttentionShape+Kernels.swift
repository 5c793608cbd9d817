import HSACore

// What the CPU kernels of ChunkSelection.swift, SparseAttention.swift and
// SparseAttentionBackward.swift need of their shape before any work: the checks, and the sizes
// in the one-letter names those kernels are written in.

extension SparseAttentionShape {
    /// Traps on sizes the selection kernels cannot run, else the sizes they read and the
    /// scores' scale 1/sqrt(DR).
    func checkedSelectionSizes() -> (
        batch: Int, T: Int, NKV: Int, DR: Int, S: Int, NC: Int, K: Int, scale: Float
    ) {
        precondition(batch >= 0 && sequenceLength >= 0 && kvHeads > 0 && retrievalDim > 0)
        precondition(chunkSize > 0 && chunkCount >= 0 && topK > 0)
        let scale = 1 / Float(retrievalDim).squareRoot()
        return (batch, sequenceLength, kvHeads, retrievalDim, chunkSize, chunkCount, topK, scale)
    }

    /// Traps on sizes the sparse attention kernels cannot run, else the sizes they read,
    /// G = NH / NKV and the logits' scale 1/sqrt(HS).
    func checkedAttentionSizes() -> (
        batch: Int, T: Int, NH: Int, NKV: Int, HS: Int, S: Int, NC: Int, K: Int, G: Int,
        scale: Float
    ) {
        precondition(batch >= 0 && sequenceLength >= 0 && kvHeads > 0 && headDim > 0)
        precondition(heads % kvHeads == 0, "heads \(heads) must be a multiple of \(kvHeads)")
        precondition(chunkSize > 0 && chunkCount >= 0 && topK > 0)
        let scale = 1 / Float(headDim).squareRoot()
        return (
            batch, sequenceLength, heads, kvHeads, headDim, chunkSize, chunkCount, topK, group,
            scale
        )
    }
}
