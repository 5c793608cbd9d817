import Foundation
import HSACore

// Writing `manifest.json`, and the manifest of a directory whose shards were generated rather
// than prepared from documents (`hsa data mix`, the synthetic task sets): train shards only,
// no documents, no validation split.

extension DataManifest {
    /// A train-only manifest: no documents, no validation split.
    /// - Parameters:
    ///   - shards: the train shards, in order.
    ///   - shardTokens: the most tokens a shard holds.
    ///   - trainTokens: the tokens of all shards.
    ///   - version: 2 (the current format) when every shard carries its checksum, 1 when none
    ///     does.
    public init(
        trainShards shards: [Shard], tokenizer: TokenizerSummary, shardTokens: Int,
        trainTokens: Int, version: Int = 2
    ) {
        self.init(
            version: version, tokenizer: tokenizer, validationFraction: 0,
            shardTokens: shardTokens, trainTokens: trainTokens, validationTokens: 0,
            documents: [], emptyFiles: [], shards: shards)
    }

    /// `manifest.json`'s bytes: pretty-printed with sorted keys (stable diffs), slashes in
    /// paths unescaped.
    public func encodedJSON() throws -> Data {
        try JSONEncoder.sortedPretty(escapingSlashes: false).encode(self)
    }

    /// Writes `manifest.json` into `directory` atomically.
    public func write(to directory: URL) throws {
        try AtomicFile.write(encodedJSON(), to: directory.appendingPathComponent(Self.fileName))
    }
}

extension DataManifest.Shard {
    /// A train shard written without a checksum (manifest format 1).
    public init(trainFile file: String, tokens: Int, sha256: String? = nil) {
        self.init(file: file, split: .train, tokens: tokens, sha256: sha256)
    }
}

extension DataManifest.TokenizerSummary {
    /// The entry of `tokenizer`, saved as `file`.
    public init(_ tokenizer: some Tokenizer, file: String = "tokenizer.json") {
        self.init(
            file: file, vocabSize: tokenizer.vocabularySize, bos: tokenizer.bos,
            eos: tokenizer.eos, pad: tokenizer.pad)
    }
}
