/// The sizes of one hierarchical sparse attention layer's ops (`chunkSelectForward`,
/// `chunkScoresBackward`, `sparseAttentionForward`, `sparseAttentionBackward`; each reads the
/// fields it needs), in the letters of `ComputeBackend`: B `batch`, T `sequenceLength`,
/// NH `heads` (a multiple of NKV `kvHeads`), HS `headDim`, DR `retrievalDim`, S `chunkSize`,
/// NC `chunkCount` complete chunks, K `topK` chunks per token and key/value head.
public struct SparseAttentionShape: Sendable, Equatable {
    public var batch, sequenceLength, heads, kvHeads, headDim, retrievalDim: Int
    public var chunkSize, chunkCount, topK: Int
    /// How the chunk outputs are combined.
    public var fusion: FusionKind
    /// Which query row scores each token's chunks.
    public var granularity: RetrievalGranularity

    /// Creates a shape (checked by the backend that runs it).
    public init(
        batch: Int, sequenceLength: Int, heads: Int, kvHeads: Int, headDim: Int,
        retrievalDim: Int, chunkSize: Int, chunkCount: Int, topK: Int, fusion: FusionKind,
        granularity: RetrievalGranularity
    ) {
        (self.batch, self.sequenceLength, self.heads, self.kvHeads, self.headDim) = (
            batch, sequenceLength, heads, kvHeads, headDim
        )
        (self.retrievalDim, self.chunkSize, self.chunkCount, self.topK) = (
            retrievalDim, chunkSize, chunkCount, topK
        )
        (self.fusion, self.granularity) = (fusion, granularity)
    }

    /// G: query heads per key/value head.
    public var group: Int { heads / kvHeads }
    /// B * T * NKV * K: the entries of `indices` and `scores`.
    public var selectionCount: Int { batch * sequenceLength * kvHeads * topK }
}
