import Foundation
import HSACore
import HSAData
import HSAModel

/// `hsa export`: the model of a checkpoint (config, weights, tokenizer) as a model directory
/// without the optimizer and trainer state, its weights stored as `dtype` (bf16 halves them,
/// int8 quarters them, see `Int8Weights`; loading converts back to fp32).
public enum ModelExport {
    /// Writes the model of `checkpoint` into `directory` (created), weight files of at most
    /// `maxShardBytes` (nil: one file).
    /// - Returns: the number of parameters written.
    /// - Throws: the checkpoint's loading errors, and the writing errors.
    @discardableResult
    public static func write(
        checkpoint: URL, to directory: URL, dtype: SafetensorsDType, maxShardBytes: Int?
    ) throws -> Int {
        let network = try LanguageModel.load(from: checkpoint)
        try network.save(to: directory, maxShardBytes: maxShardBytes, dtype: dtype)
        try TokenizerLoader.load(checkpoint: checkpoint).save(
            to: directory.appendingPathComponent("tokenizer.json"))
        return network.layout.totalCount
    }
}
