import Foundation

extension DataManifest {
    /// A short fingerprint of the prepared data, for `--resume` to tell other data from the
    /// same: token totals, shard and document counts, and a 64-bit FNV-1a digest of the
    /// tokenizer, the shard list and every document's relative path, split, tokens and bytes.
    ///
    /// The input paths the documents were found under are left out, so the same text
    /// prepared from another directory keeps its identity. Shard contents are not read: the
    /// manifest describes them, and hashing every token of a large corpus would be slow.
    public var identity: String {
        var canonical =
            "v\(version) vocab \(tokenizer.vocabSize) bos \(tokenizer.bos) "
            + "eos \(tokenizer.eos) pad \(tokenizer.pad) shard_tokens \(shardTokens)\n"
        for shard in shards {
            canonical += "shard \(shard.file) \(shard.split.rawValue) \(shard.tokens)\n"
        }
        for document in documents {
            canonical +=
                "doc \(document.path) \(document.split.rawValue) \(document.tokens) "
                + "\(document.bytes)\n"
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in canonical.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        let digest = String(repeating: "0", count: 16 - hex.count) + hex
        return "\(trainTokens) train + \(validationTokens) val tokens in \(shards.count) shards, "
            + "\(documents.count) documents, fnv1a \(digest)"
    }
}
