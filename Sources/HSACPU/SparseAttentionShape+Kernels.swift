import HSACore

// What the CPU kernels of ChunkSelection.swift, SparseAttention.swift and
// SparseAttentionBackward.swift need of their shape: the checks before any work, and the sizes
// in the one-letter names those kernels are written in.

extension SparseAttentionShape {
    /// Traps on sizes the selection kernels cannot run.
    func requireValidForSelection() {
        precondition(batch >= 0 && sequenceLength >= 0 && kvHeads > 0 && retrievalDim > 0)
        precondition(chunkSize > 0 && chunkCount >= 0 && topK > 0)
    }

    /// Traps on sizes the sparse attention kernels cannot run.
    func requireValidForAttention() {
        precondition(batch >= 0 && sequenceLength >= 0 && kvHeads > 0 && headDim > 0)
        precondition(heads % kvHeads == 0, "heads \(heads) must be a multiple of \(kvHeads)")
        precondition(chunkSize > 0 && chunkCount >= 0 && topK > 0)
    }

    /// The sizes sparse attention reads: T, NH, NKV, HS, S, NC, K and G = NH / NKV.
    var attentionLetters: (T: Int, NH: Int, NKV: Int, HS: Int, S: Int, NC: Int, K: Int, G: Int) {
        (sequenceLength, heads, kvHeads, headDim, chunkSize, chunkCount, topK, group)
    }

    /// The sizes chunk selection reads: T, NKV, DR, S, NC and K.
    var selectionLetters: (T: Int, NKV: Int, DR: Int, S: Int, NC: Int, K: Int) {
        (sequenceLength, kvHeads, retrievalDim, chunkSize, chunkCount, topK)
    }
}
