import HSACore

/// The chunk memory shared by every HSA layer: one landmark and S keys/values per complete chunk.
public struct ChunkMemoryTensors: @unchecked Sendable {
    /// NC, complete chunks per sequence.
    public let chunkCount: Int
    public let landmarks: Tensor  // (B, NC, NKV, DR)
    public let keys: Tensor  // (B, NC, S, NKV, HS)
    public let values: Tensor  // (B, NC, S, NKV, HS)

    /// Zero-filled memory (also used for its gradient).
    init(config: ModelConfig, batch: Int, chunkCount: Int) {
        self.chunkCount = chunkCount
        let chunks = batch * chunkCount
        landmarks = Tensor(shape: [chunks, config.resolvedRetrievalDim])
        keys = Tensor(shape: [chunks * config.chunkSize, config.nKvHeads * config.headDim])
        values = Tensor(shape: [chunks * config.chunkSize, config.nKvHeads * config.headDim])
    }
}
