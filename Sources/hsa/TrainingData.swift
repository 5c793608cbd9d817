import Foundation
import HSA

/// The token shards `hsa train` reads, opened and checked before the model is built: the
/// manifest against the shards (`DataManifest.verifyShards`: counts, headers, checksums),
/// every shard's vocabulary against the model's, and the validation split, which is either absent (validation off, one warning)
/// or must be readable (an error, never a silent `val_loss=nan`).
struct TrainingData {
    let manifest: DataManifest
    let loader: TokenDataLoader
    /// The fixed validation batches; empty when the data has no validation shards.
    let validation: [TrainingBatch]
    /// Warning lines for the user (checksums missing, validation off).
    let warnings: [String]

    init(directory path: String, options: TrainingOptions, modelVocabularySize: Int) throws {
        let directory = URL(fileURLWithPath: path)
        let manifestURL = directory.appendingPathComponent(DataManifest.fileName)
        guard FileManager.default.fileExists(atPath: manifestURL.path) else {
            throw UserError(
                "\(path): no \(DataManifest.fileName) here; hint: make token shards with "
                    + "`hsa data prepare TEXT... --out \(path)`")
        }
        manifest = try DataManifest.load(from: directory)
        guard manifest.tokenizer.vocabSize <= modelVocabularySize else {
            throw UserError(
                "\(path): tokens go up to \(manifest.tokenizer.vocabSize - 1) but vocab_size "
                    + "is \(modelVocabularySize)")
        }
        let checksumWarning = try manifest.verifyShards(in: directory)
        let documentStart = options.documentAligned == true ? ByteTokenizer().bos : nil
        loader = try TokenDataLoader(
            directory: directory, split: .train, batchSize: options.batchSize,
            sequenceLength: options.sequenceLength, seed: options.seed,
            documentStart: documentStart)
        try loader.requireVocabulary(atMost: modelVocabularySize)
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
