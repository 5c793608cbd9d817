import Foundation

/// Errors from ``TokenDataLoader``.
public enum DataLoaderError: Error, CustomStringConvertible, Sendable {
    /// The directory holds no shard of the split.
    case noShards(directory: String, split: String)
    /// A shard is too short for one window of `sequenceLength + 1` tokens.
    case shardTooShort(file: String, tokens: Int, needed: Int)
    /// Shards of one split disagree on the vocabulary size.
    case vocabularyMismatch(file: String, expected: Int, actual: Int)
    /// A batch or sequence size is not positive.
    case invalidShape(batchSize: Int, sequenceLength: Int)
    /// A restored state does not fit this loader.
    case invalidState(reason: String)
    /// The directory could not be listed.
    case io(path: String, reason: String)
    /// A shard disagrees with `manifest.json` (missing, unlisted, other token count, ...).
    case manifestMismatch(file: String, reason: String)
    /// A shard holds token ids the model has no embedding for.
    case vocabularyTooLarge(file: String, vocabularySize: Int, modelVocabularySize: Int)
    /// The split is too short to give each of `lanes` lanes one segment of `needed` tokens.
    case tooFewTokensForLanes(directory: String, tokens: Int, lanes: Int, needed: Int)

    /// A message naming the file and the expected vs actual value, with a hint when known.
    public var description: String {
        switch self {
        case .noShards(let directory, let split):
            return "\(directory): no \(split)-NNNNN.bin token shards; "
                + "hint: create them with `hsa data prepare`"
        case .shardTooShort(let file, let tokens, let needed):
            return "\(file): shard has \(tokens) tokens, fewer than one window of \(needed) "
                + "(sequence length + 1); hint: use a shorter sequence length or more data"
        case .vocabularyMismatch(let file, let expected, let actual):
            return "\(file): vocabulary size \(actual) differs from the other shards' \(expected)"
        case .invalidShape(let batchSize, let sequenceLength):
            return "batch size \(batchSize) and sequence length \(sequenceLength) must be > 0"
        case .invalidState(let reason):
            return "cannot restore data loader state: \(reason)"
        case .io(let path, let reason):
            return "\(path): \(reason)"
        case .manifestMismatch(let file, let reason):
            return "\(file): \(reason); hint: prepare the data again with `hsa data prepare`"
        case .vocabularyTooLarge(let file, let vocabularySize, let modelVocabularySize):
            return "\(file): token ids go up to \(vocabularySize - 1) (shard vocabulary "
                + "\(vocabularySize)) but the model's vocab_size is \(modelVocabularySize); "
                + "hint: train with --config of a vocab_size >= \(vocabularySize)"
        case .tooFewTokensForLanes(let directory, let tokens, let lanes, let needed):
            return "\(directory): \(tokens) tokens are too few for \(lanes) lanes of at least "
                + "\(needed) tokens (sequence length + 1) each; hint: use a smaller batch size, "
                + "gradient accumulation or sequence length, or more data"
        }
    }
}
