import HSACPU
import HSACore

// Accessors for the streaming inference engine (HSAInference): the typed weights and the
// model's own chunk encoder, so streamed chunks are encoded by exactly the training code.

extension LanguageModel {
    /// Typed views of the model's parameters (shared storage, not a copy).
    public var inferenceWeights: ModelWeights { weights }

    /// Encodes `chunkCount` complete chunks whose lower-decoder rows are `hidden`
    /// (chunkCount*S, C), chunk i being rows `i*S ..< (i+1)*S`, with the model's chunk encoder
    /// (MODEL.md "Layout", landmark and chunk_kv variants included).
    /// - Returns: landmarks (chunkCount, NKV*DR), keys and values (chunkCount*S, NKV*HS);
    ///   nil when the model has no chunk memory (`attention` is not `hsa`).
    public func encodeChunks(hidden: Tensor, chunkCount: Int) -> ChunkMemoryTensors? {
        guard let encoderWeights = weights.encoder, chunkCount > 0 else { return nil }
        precondition(
            hidden.count >= chunkCount * config.chunkSize * config.dModel,
            "encodeChunks: \(hidden.count) floats for \(chunkCount) chunks")
        // Each chunk is its own "sequence" of S rows: the encoder never mixes chunks.
        let (memory, _) = encoder.forward(
            hidden: hidden, weights: encoderWeights, batch: chunkCount,
            sequenceLength: config.chunkSize)
        return memory
    }
}
