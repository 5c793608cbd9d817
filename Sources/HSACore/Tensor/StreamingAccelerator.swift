// The seam between streaming inference (HSAInference) and a device backend (HSACUDA), next to
// `ComputeBackend`: the two streaming-only pieces a device needs beyond the training ops — a
// chunk key/value store in its own memory, and hierarchical sparse attention of a block of rows
// against every chunk stored so far. A `ComputeBackend` that also conforms to this protocol makes
// `StreamingSession` keep its caches on the device and run every op there.
// Letters: N query rows, NC chunks stored, NH / NKV heads, HS head size, DR retrieval head size,
// S chunk size, K top-k. A chunk record is (2, S, NKV, HS): the chunk's keys, then its values.

/// Append-only chunk key/value records in a device's memory (spilling to host memory when the
/// device budget is spent), read only by the device's `streamingSparseAttentionForward`.
public protocol AcceleratedChunkStore: AnyObject {
    /// Elements per chunk record: 2 * S * NKV * HS.
    var recordElements: Int { get }
    /// Whether elements are stored as bf16 (else fp32).
    var isHalfPrecision: Bool { get }
    /// Chunks stored.
    var chunkCount: Int { get }
    /// Bytes of records in device memory.
    var deviceBytes: Int { get }
    /// Bytes of records spilled to host memory.
    var hostBytes: Int { get }
    /// Appends `chunks` records from `keys` and `values`, each (chunks * S, NKV * HS) fp32 in the
    /// backend's memory (stream-ordered: no wait).
    func append(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, chunks: Int) throws
}

/// A device that runs streaming hierarchical sparse attention over an `AcceleratedChunkStore`.
public protocol StreamingAccelerator: AnyObject {
    /// An empty store of records of `recordElements` elements, bf16 when `halfPrecision`.
    func makeChunkStore(recordElements: Int, halfPrecision: Bool) throws
        -> any AcceleratedChunkStore

    /// Streaming HSA forward for `rows` query rows (the math of
    /// `CPU.streamingSparseAttentionForward`).
    /// - Parameters:
    ///   - out: (N, NH, HS) fused output, overwritten (0 for rows with no eligible chunk).
    ///   - q: (N, NH, HS) attention queries, already q-normed.
    ///   - retrievalQuery: (N, NKV, DR) the query that scores each row's chunks.
    ///   - eligibleChunks: (N) host memory: chunks 0 ..< eligibleChunks[n] may be selected.
    ///   - landmarks: (NC, NKV, DR).
    ///   - store: the chunk records (made by this accelerator).
    ///   - keyNorm: (HS) gain of the layer's key RMSNorm, or nil.
    ///   - selected: (N, NKV, K) host memory, or nil: receives the selected chunks in recency
    ///     order, -1 in empty slots (waits for the device; for checks).
    func streamingSparseAttentionForward(
        out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>,
        retrievalQuery: UnsafePointer<Float>, eligibleChunks: UnsafePointer<Int32>,
        landmarks: UnsafePointer<Float>, store: any AcceleratedChunkStore,
        keyNorm: UnsafePointer<Float>?, rows: Int, heads: Int, kvHeads: Int, headDim: Int,
        retrievalDim: Int, chunkSize: Int, chunkCount: Int, topK: Int, fusion: FusionKind,
        selected: UnsafeMutablePointer<Int32>?) throws
}
