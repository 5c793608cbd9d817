import Foundation
import HSACore

/// The training and validation splits of a prepared data directory.
public enum DataSplit: String, Codable, Sendable, CaseIterable {
    /// Training shards `train-NNNNN.bin`.
    case train
    /// Validation shards `val-NNNNN.bin`.
    case val

    /// The file name of shard `index` of this split, e.g. `train-00003.bin`.
    public func shardFileName(index: Int) -> String {
        let digits = String(index)
        return rawValue + "-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
            + ".bin"
    }
}

/// `manifest.json` of a prepared data directory: what went in and what came out.
public struct DataManifest: Codable, Equatable, Sendable {
    /// One input file (one document).
    public struct Document: Codable, Equatable, Sendable {
        /// The input path (file or directory) the document was found under.
        public var input: String
        /// Path relative to `input` (the file name for file inputs); its hash picks the split.
        public var path: String
        /// Split the document went to.
        public var split: DataSplit
        /// Tokens written, BOS and EOS included.
        public var tokens: Int
        /// File size in bytes.
        public var bytes: Int
    }

    /// One written shard.
    public struct Shard: Codable, Equatable, Sendable {
        /// File name inside the output directory.
        public var file: String
        /// Split of the shard.
        public var split: DataSplit
        /// Token count.
        public var tokens: Int
        /// SHA-256 of the whole file as `sha256sum` prints it; nil in manifests of format 1,
        /// written before shards carried checksums.
        public var sha256: String?
    }

    /// The tokenizer the shards were written with.
    public struct TokenizerSummary: Codable, Equatable, Sendable {
        /// File name of the saved tokenizer, `tokenizer.json`.
        public var file: String
        /// Vocabulary size.
        public var vocabSize: Int
        /// Beginning-of-sequence id.
        public var bos: Int32
        /// End-of-sequence id.
        public var eos: Int32
        /// Padding id.
        public var pad: Int32

        enum CodingKeys: String, CodingKey {
            case file, bos, eos, pad
            case vocabSize = "vocab_size"
        }
    }

    /// Manifest format version: 2 adds every shard's SHA-256 (format 1 still loads).
    public var version = 2
    /// The tokenizer.
    public var tokenizer: TokenizerSummary
    /// Fraction of documents requested for validation.
    public var validationFraction: Double
    /// Maximum tokens per shard.
    public var shardTokens: Int
    /// Tokens in all training shards.
    public var trainTokens: Int
    /// Tokens in all validation shards.
    public var validationTokens: Int
    /// Every non-empty document in processing order.
    public var documents: [Document]
    /// Empty input files that were skipped.
    public var emptyFiles: [String]
    /// Every shard written.
    public var shards: [Shard]

    enum CodingKeys: String, CodingKey {
        case version, tokenizer, documents, shards
        case validationFraction = "validation_fraction"
        case shardTokens = "shard_tokens"
        case trainTokens = "train_tokens"
        case validationTokens = "validation_tokens"
        case emptyFiles = "empty_files"
    }

    /// File name of the manifest inside a prepared directory.
    public static let fileName = "manifest.json"

    /// Reads and validates `manifest.json` from a prepared directory.
    /// - Throws: ``DataPrepareError`` naming the file (and the field, when one is wrong).
    public static func load(from directory: URL) throws -> DataManifest {
        let url = directory.appendingPathComponent(fileName)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DataPrepareError.io(
                path: url.path, reason: "cannot read manifest (\(fileErrorReason(error)))")
        }
        let manifest: DataManifest
        do { manifest = try JSONDecoder().decode(DataManifest.self, from: data) } catch {
            let reason = (error as? DecodingError)?.fieldDescription ?? "\(error)"
            throw DataPrepareError.invalidManifest(path: url.path, reason: reason)
        }
        try manifest.validate(path: url.path)
        return manifest
    }
}
