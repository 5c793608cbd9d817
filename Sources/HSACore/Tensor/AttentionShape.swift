/// The sizes of one multi-head attention call with grouped-query heads (`attentionForward`,
/// `attentionBackward`), in the letters of `ComputeBackend`: B `batch`, T `sequenceLength`,
/// NH `heads` (a multiple of NKV `kvHeads`), HS `headDim`. Query head h reads key/value head
/// h / G.
public struct AttentionShape: Sendable, Equatable {
    public var batch, sequenceLength, heads, kvHeads, headDim: Int
    /// Which keys each query sees.
    public var mask: AttentionMask

    /// Creates a shape (checked by the backend that runs it).
    public init(
        batch: Int, sequenceLength: Int, heads: Int, kvHeads: Int, headDim: Int,
        mask: AttentionMask
    ) {
        (self.batch, self.sequenceLength, self.heads, self.kvHeads, self.headDim) = (
            batch, sequenceLength, heads, kvHeads, headDim
        )
        self.mask = mask
    }

    /// G: query heads per key/value head.
    public var group: Int { heads / kvHeads }
}
