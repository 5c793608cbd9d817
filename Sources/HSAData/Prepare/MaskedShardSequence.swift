import Foundation

/// Train shards with loss masks, opened as they fill; a segment is never split.
struct MaskedShardSequence {
    let directory: URL
    let vocabularySize: Int
    let shardTokens: Int
    private var shards: [DataManifest.Shard] = []
    private var current: TokenShardWriter?

    init(directory: URL, vocabularySize: Int, shardTokens: Int) {
        self.directory = directory
        self.vocabularySize = vocabularySize
        self.shardTokens = shardTokens
    }

    mutating func append(_ tokens: [Int32], mask: [UInt8]) throws {
        let writer: TokenShardWriter
        if let current {
            writer = current
        } else {
            writer = try TokenShardWriter(
                url: directory.appendingPathComponent(
                    DataSplit.train.shardFileName(index: shards.count)),
                vocabularySize: vocabularySize, hasLossMask: true)
            current = writer
        }
        try writer.append(tokens, lossMask: mask)
        if writer.tokenCount >= shardTokens { try close() }
    }

    mutating func finish() throws -> [DataManifest.Shard] {
        try close()
        return shards
    }

    private mutating func close() throws {
        guard let writer = current else { return }
        try writer.finish()
        shards.append(
            .init(
                file: writer.url.lastPathComponent, split: .train, tokens: writer.tokenCount,
                sha256: writer.sha256))
        current = nil
    }
}
