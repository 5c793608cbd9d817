/// The sizes of one Landmark Attention call (Mohtashami & Jaggi 2023, arXiv 2305.16300),
/// `landmarkAttentionForward` / `landmarkAttentionBackward`, in the letters of
/// `LandmarkAttentionOperands.swift`: B `batch`, T `sequenceLength`, H `heads` (a multiple of
/// HKV `kvHeads`), D `headDim`, S `blockSize`.
///
/// Layout of the token stream (it already contains the landmarks, as in the original's data
/// pipeline, which appends one after every S ordinary tokens): block c holds positions
/// c (S + 1) ..< (c + 1)(S + 1); its S ordinary tokens come first and its landmark token sits
/// at c (S + 1) + S, the block's last position. A sequence whose length is not a multiple of
/// S + 1 ends in an incomplete block without a landmark.
public struct LandmarkAttentionShape: Sendable, Equatable, CustomStringConvertible {
    public var batch, sequenceLength, heads, kvHeads, headDim: Int
    /// S: ordinary tokens per block (the landmark that closes the block is not counted).
    public var blockSize: Int

    /// Creates a shape (checked by the backend that runs it).
    public init(
        batch: Int, sequenceLength: Int, heads: Int, kvHeads: Int, headDim: Int, blockSize: Int
    ) {
        (self.batch, self.sequenceLength, self.heads, self.kvHeads, self.headDim) = (
            batch, sequenceLength, heads, kvHeads, headDim
        )
        self.blockSize = blockSize
    }

    /// G: query heads per key/value head (query head h reads key/value head h / G).
    public var group: Int { heads / kvHeads }
    /// S + 1: positions per block, its landmark included.
    public var blockStride: Int { blockSize + 1 }
    /// ceil(T / (S + 1)): blocks the sequence touches, the last one possibly incomplete.
    public var blockCount: Int { (sequenceLength + blockSize) / (blockSize + 1) }
    /// Whether position t holds a landmark token: t % (S + 1) == S.
    public func isLandmark(_ t: Int) -> Bool { t % (blockSize + 1) == blockSize }
    /// The block of position t (a landmark belongs to the block it closes).
    public func block(of t: Int) -> Int { t / (blockSize + 1) }
    /// B * T * H * D: the entries of q and out.
    public var queryCount: Int { batch * sequenceLength * heads * headDim }
    /// B * T * HKV * D: the entries of k and v.
    public var keyCount: Int { batch * sequenceLength * kvHeads * headDim }
    /// B * T * H: the entries of logSumExp.
    public var rowCount: Int { batch * sequenceLength * heads }

    public var description: String {
        "B=\(batch) T=\(sequenceLength) H=\(heads) HKV=\(kvHeads) D=\(headDim) S=\(blockSize)"
    }
}

/// The sizes of one inference retrieval step of Landmark Attention, `landmarkRetrieval`: one
/// token's queries against the landmark keys of NB complete cached blocks, keeping the K best
/// blocks per query head. Letters: H `heads` (a multiple of HKV `kvHeads`), D `headDim`,
/// NB `blockCount`, K `topK`.
public struct LandmarkRetrievalShape: Sendable, Equatable {
    public var heads, kvHeads, headDim, blockCount, topK: Int

    /// Creates a shape (checked by the backend that runs it).
    public init(heads: Int, kvHeads: Int, headDim: Int, blockCount: Int, topK: Int) {
        (self.heads, self.kvHeads, self.headDim, self.blockCount, self.topK) = (
            heads, kvHeads, headDim, blockCount, topK
        )
    }

    /// G: query heads per key/value head.
    public var group: Int { heads / kvHeads }
}
