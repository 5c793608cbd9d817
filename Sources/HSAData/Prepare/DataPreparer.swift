import Foundation
import HSACore

/// Turns text files into token shards for training (`hsa data prepare`).
///
/// Each input file is one document, written as `[BOS] + tokens + [EOS]`. Documents are split
/// into training and validation by a hash of their relative path (stable across runs and
/// machines), then written in order to `train-00000.bin, ...` and `val-00000.bin, ...`
/// (``TokenShardHeader`` format, no loss mask), with `tokenizer.json` and `manifest.json`.
public struct DataPreparer: Sendable {
    /// Options of a preparation run.
    public struct Options: Sendable {
        /// Fraction of documents put in validation, in [0, 1]. When it is above 0 and there are
        /// at least 2 documents, at least one goes to validation and one to training.
        public var validationFraction: Double = 0.01
        /// Maximum tokens per shard file (documents may span two shards).
        public var shardTokens: Int = 64 * 1024 * 1024
        /// Extensions read from directories; nil reads every regular file.
        public var extensions: Set<String>? = ["txt", "md", "rst"]

        /// Creates options with the defaults above.
        public init(
            validationFraction: Double = 0.01, shardTokens: Int = 64 * 1024 * 1024,
            extensions: Set<String>? = ["txt", "md", "rst"]
        ) {
            self.validationFraction = validationFraction
            self.shardTokens = shardTokens
            self.extensions = extensions
        }
    }

    /// The tokenizer that encodes every document.
    public let tokenizer: any Tokenizer
    /// Run options.
    public var options: Options

    /// Creates a preparer.
    public init(tokenizer: any Tokenizer, options: Options = Options()) {
        self.tokenizer = tokenizer
        self.options = options
    }

    // MARK: - Split

    /// The split score of a document in [0, 1): a 64-bit FNV-1a hash of its UTF-8 relative
    /// path, mixed by the SplitMix64 output function. Scores below the validation fraction go
    /// to validation.
    public static func splitScore(relativePath: String) -> Double {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in relativePath.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        // The SplitMix64 output function spreads similar paths over the whole range.
        var mixer = SplitMix64(seed: hash)
        return Double(mixer.next() >> 11) * 0x1.0p-53
    }

    /// The split of every document, in order (see ``Options/validationFraction``).
    public static func assignSplits(relativePaths: [String], fraction: Double) -> [DataSplit] {
        let scores = relativePaths.map { splitScore(relativePath: $0) }
        var splits = scores.map { $0 < fraction ? DataSplit.val : DataSplit.train }
        guard fraction > 0, splits.count >= 2 else { return splits }
        if !splits.contains(.val),
            let lowest = scores.indices.min(by: { scores[$0] < scores[$1] })
        {
            splits[lowest] = .val
        }
        if !splits.contains(.train),
            let highest = scores.indices.max(by: { scores[$0] < scores[$1] })
        {
            splits[highest] = .train
        }
        return splits
    }

    // MARK: - Prepare

    /// Encodes the documents under `inputs` and writes shards, `tokenizer.json` and
    /// `manifest.json` into `outputDirectory` (created if needed; earlier `train-*.bin` and
    /// `val-*.bin` files there are removed first so no stale shard is read later).
    /// - Throws: ``DataPrepareError`` for missing inputs, no documents or only empty ones;
    ///   ``TokenShardError`` when writing fails.
    @discardableResult
    public func prepare(inputs: [URL], outputDirectory: URL) throws -> DataManifest {
        guard options.validationFraction >= 0, options.validationFraction <= 1 else {
            throw DataPrepareError.invalidOption(
                name: "validation fraction", value: "\(options.validationFraction)",
                expected: "a number in [0, 1]")
        }
        guard options.shardTokens > 0 else {
            throw DataPrepareError.invalidOption(
                name: "shard tokens", value: "\(options.shardTokens)", expected: "> 0")
        }
        let paths = inputs.map(\.path)
        let found = try DocumentCollector.collect(inputs: inputs, extensions: options.extensions)
        guard !found.isEmpty else { throw DataPrepareError.noDocuments(paths: paths) }
        var documents: [SourceDocument] = []
        var sizes: [Int] = []
        var emptyFiles: [String] = []
        for document in found {
            let size = try fileSize(document.url)
            if size == 0 {
                emptyFiles.append(document.url.path)
            } else {
                documents.append(document)
                sizes.append(size)
            }
        }
        guard !documents.isEmpty else {
            throw DataPrepareError.allDocumentsEmpty(paths: paths, files: found.count)
        }
        let splits = Self.assignSplits(
            relativePaths: documents.map(\.relativePath), fraction: options.validationFraction)

        try prepareOutputDirectory(outputDirectory)
        try tokenizer.save(to: outputDirectory.appendingPathComponent("tokenizer.json"))
        var train = ShardSequenceWriter(
            directory: outputDirectory, split: .train, vocabularySize: tokenizer.vocabularySize,
            shardTokens: options.shardTokens)
        var validation = ShardSequenceWriter(
            directory: outputDirectory, split: .val, vocabularySize: tokenizer.vocabularySize,
            shardTokens: options.shardTokens)
        var records: [DataManifest.Document] = []
        do {
            for (index, document) in documents.enumerated() {
                let tokens = try encodeDocument(document.url)
                if splits[index] == .val {
                    try validation.append(tokens)
                } else {
                    try train.append(tokens)
                }
                records.append(
                    DataManifest.Document(
                        input: document.input, path: document.relativePath, split: splits[index],
                        tokens: tokens.count, bytes: sizes[index]))
            }
            try train.finish()
            try validation.finish()
        } catch {
            train.cancel()
            validation.cancel()
            throw error
        }
        let manifest = DataManifest(
            tokenizer: .init(tokenizer),
            validationFraction: options.validationFraction, shardTokens: options.shardTokens,
            trainTokens: train.totalTokens, validationTokens: validation.totalTokens,
            documents: records, emptyFiles: emptyFiles,
            shards: train.shards + validation.shards)
        try writeManifest(manifest, to: outputDirectory)
        return manifest
    }

    // MARK: - Helpers

    private func encodeDocument(_ url: URL) throws -> [Int32] {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw DataPrepareError.io(path: url.path, reason: "cannot read: \(error)")
        }
        var tokens: [Int32] = [tokenizer.bos]
        tokens.reserveCapacity(data.count + 2)
        tokens.append(contentsOf: tokenizer.encode(bytes: data))
        tokens.append(tokenizer.eos)
        return tokens
    }

    private func fileSize(_ url: URL) throws -> Int {
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            return (attributes[.size] as? NSNumber)?.intValue ?? 0
        } catch {
            throw DataPrepareError.io(path: url.path, reason: "cannot stat: \(error)")
        }
    }

    private func prepareOutputDirectory(_ directory: URL) throws {
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: directory, withIntermediateDirectories: true)
            for name in try manager.contentsOfDirectory(atPath: directory.path)
            where name.hasSuffix(".bin")
                && (name.hasPrefix("train-") || name.hasPrefix("val-"))
            {
                try manager.removeItem(at: directory.appendingPathComponent(name))
            }
        } catch {
            throw DataPrepareError.io(path: directory.path, reason: "\(error)")
        }
    }

    private func writeManifest(_ manifest: DataManifest, to directory: URL) throws {
        let url = directory.appendingPathComponent(DataManifest.fileName)
        do {
            try manifest.encodedJSON().write(to: url, options: .atomic)
        } catch {
            throw DataPrepareError.io(path: url.path, reason: "cannot write manifest: \(error)")
        }
    }
}
