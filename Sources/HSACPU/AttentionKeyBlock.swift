import HSACore

// The key blocks the flash loops of Attention.swift and AttentionBackward.swift walk: blocks of
// `attentionKeyBlock` positions aligned to absolute positions (so a query row's result depends
// only on its own inputs), and the lanes of a block one query sees under the mask.

/// Up to `attentionKeyBlock` consecutive key positions of one key/value head of one batch item.
struct AttentionKeyBlock {
    /// The first key position, a multiple of `attentionKeyBlock`.
    let start: Int
    /// Keys in the block (fewer than `attentionKeyBlock` only at the end of the sequence).
    let count: Int
    /// The block's first key row; row i at `keys + i * shape.keyRowStride`.
    let keys: UnsafePointer<Float>
    /// The block's first value row, strided like `keys`.
    let values: UnsafePointer<Float>

    /// The block at position `start` of key/value head `kvHead` in batch item `batch`.
    @inline(__always)
    init(
        start: Int, shape: AttentionShape, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        batch: Int, kvHead: Int
    ) {
        let offset = shape.keyOffset(batch: batch, position: start, kvHead: kvHead)
        self.start = start
        self.count = min(attentionKeyBlock, shape.sequenceLength - start)
        self.keys = k + offset
        self.values = v + offset
    }

    /// The lanes `lo...hi` of the block that query position `t` sees, or nil for none.
    @inline(__always)
    func visibleLanes(query t: Int, shape: AttentionShape) -> (lo: Int, hi: Int)? {
        let bounds = shape.mask.keyBounds(query: t, sequenceLength: shape.sequenceLength)
        let lo = max(bounds.first, start) - start
        let hi = min(bounds.last, start + count - 1) - start
        return lo > hi ? nil : (lo, hi)
    }
}

extension AttentionShape {
    /// The key blocks that query positions `queries` see, in ascending order (the order the
    /// flash loops accumulate in).
    func keyBlocks(
        seenBy queries: Range<Int>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, batch: Int,
        kvHead: Int
    ) -> LazyMapSequence<ClosedRange<Int>, AttentionKeyBlock> {
        let first = mask.keyBounds(query: queries.lowerBound, sequenceLength: sequenceLength)
        let last = mask.keyBounds(query: queries.upperBound - 1, sequenceLength: sequenceLength)
        let blocks = (first.first / attentionKeyBlock)...(last.last / attentionKeyBlock)
        return blocks.lazy.map { block in
            AttentionKeyBlock(
                start: block * attentionKeyBlock, shape: self, k: k, v: v, batch: batch,
                kvHead: kvHead)
        }
    }
}
