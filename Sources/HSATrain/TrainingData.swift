import Foundation
import HSAData

/// The token shards `hsa train` reads, opened and checked before the model is built: the
/// manifest against the shards (`DataManifest.verifyShards`: counts, headers, checksums),
/// every shard's vocabulary against the model's, and the validation split, which is either
/// absent (validation off, one warning) or must be readable (an error, never a silent
/// `val_loss=nan`).
public struct TrainingData {
    public let manifest: DataManifest
    /// The training batches: a `TokenDataLoader` (shuffled windows), or with
    /// `options.statePassing` a `TokenLaneLoader` (each row the next segment of its lane).
    public let source: any BatchSource
    /// The fixed validation batches; empty when the data has no validation shards.
    public let validation: [TrainingBatch]
    /// Warning lines for the user (checksums missing, validation off).
    public let warnings: [String]

    /// Opens the shards in `path` for batches of `options` and a model of
    /// `modelVocabularySize` tokens.
    public init(directory path: String, options: TrainingOptions, modelVocabularySize: Int) throws {
        let directory = URL(fileURLWithPath: path)
        let manifestURL = directory.appendingPathComponent(DataManifest.fileName)
        guard FileManager.default.fileExists(atPath: manifestURL.path) else {
            throw TrainingDataError.noManifest(directory: path)
        }
        manifest = try DataManifest.load(from: directory)
        guard manifest.tokenizer.vocabSize <= modelVocabularySize else {
            throw TrainingDataError.vocabularyTooLarge(
                directory: path, vocabularySize: manifest.tokenizer.vocabSize,
                modelVocabularySize: modelVocabularySize)
        }
        let checksumWarning = try manifest.verifyShards(in: directory)
        if options.statePassing == true {
            // One lane group per micro-batch: each micro-batch carries the states of its own.
            let lanes = try TokenLaneLoader(
                directory: directory, split: .train, batchSize: options.batchSize,
                sequenceLength: options.sequenceLength, laneGroups: options.gradientAccumulation)
            try lanes.requireVocabulary(atMost: modelVocabularySize)
            source = lanes
        } else {
            let documentStart = options.documentAligned == true ? ByteTokenizer().bos : nil
            let loader = try TokenDataLoader(
                directory: directory, split: .train, batchSize: options.batchSize,
                sequenceLength: options.sequenceLength, seed: options.seed,
                documentStart: documentStart)
            try loader.requireVocabulary(atMost: modelVocabularySize)
            source = loader
        }
        guard manifest.hasShards(of: .val) else {
            validation = []
            let validationOff =
                options.evalEvery > 0
                ? "warning: \(path) has no validation shards; validation is off" : nil
            warnings = [checksumWarning, validationOff].compactMap { $0 }
            return
        }
        let validationLoader = try TokenDataLoader(
            directory: directory, split: .val, batchSize: options.batchSize,
            sequenceLength: options.sequenceLength, seed: options.seed)
        try validationLoader.requireVocabulary(atMost: modelVocabularySize)
        validation = validationLoader.validationBatches(count: options.evalBatches)
            .map(TrainingBatch.init)
        warnings = [checksumWarning].compactMap { $0 }
    }
}

/// Why the token shards of a training run cannot be used.
public enum TrainingDataError: Error, CustomStringConvertible, Equatable {
    /// The directory has no manifest (not made by `hsa data prepare`).
    case noManifest(directory: String)
    /// The data's tokens go beyond the model's vocabulary.
    case vocabularyTooLarge(directory: String, vocabularySize: Int, modelVocabularySize: Int)

    public var description: String {
        switch self {
        case .noManifest(let directory):
            return "\(directory): no \(DataManifest.fileName) here; hint: make token shards with "
                + "`hsa data prepare TEXT... --out \(directory)`"
        case .vocabularyTooLarge(let directory, let vocabularySize, let modelVocabularySize):
            return "\(directory): tokens go up to \(vocabularySize - 1) but vocab_size is "
                + "\(modelVocabularySize)"
        }
    }
}
