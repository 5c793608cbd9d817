import Foundation

/// Writes one split as a sequence of shards, opening `<split>-00000.bin`, `<split>-00001.bin`,
/// ... as they fill: plain tokens are cut at exactly `shardTokens` a shard; segments with loss
/// masks are never cut, and a shard closes once it holds `shardTokens` or more. Writes nothing
/// for an empty split.
struct ShardSequenceWriter {
    let directory: URL
    let split: DataSplit
    let vocabularySize: Int
    let shardTokens: Int
    /// Whether the shards carry loss masks (appended with `appendSegment`).
    let hasLossMask: Bool
    private(set) var shards: [DataManifest.Shard] = []
    private(set) var totalTokens = 0
    private var current: TokenShardWriter?

    init(
        directory: URL, split: DataSplit, vocabularySize: Int, shardTokens: Int,
        hasLossMask: Bool = false
    ) {
        self.directory = directory
        self.split = split
        self.vocabularySize = vocabularySize
        self.shardTokens = shardTokens
        self.hasLossMask = hasLossMask
    }

    mutating func append(_ tokens: [Int32]) throws {
        var start = 0
        while start < tokens.count {
            let writer = try currentWriter()
            let room = shardTokens - writer.tokenCount
            let end = min(tokens.count, start + room)
            try writer.append(Array(tokens[start..<end]))
            totalTokens += end - start
            start = end
            if writer.tokenCount == shardTokens { try closeCurrent() }
        }
    }

    /// Appends one segment and its loss mask to the open shard, whole.
    mutating func appendSegment(_ tokens: [Int32], mask: [UInt8]) throws {
        let writer = try currentWriter()
        try writer.append(tokens, lossMask: mask)
        totalTokens += tokens.count
        if writer.tokenCount >= shardTokens { try closeCurrent() }
    }

    mutating func finish() throws {
        try closeCurrent()
    }

    mutating func cancel() {
        current?.cancel()
        current = nil
    }

    private mutating func currentWriter() throws -> TokenShardWriter {
        if let current { return current }
        let name = split.shardFileName(index: shards.count)
        let writer = try TokenShardWriter(
            url: directory.appendingPathComponent(name), vocabularySize: vocabularySize,
            hasLossMask: hasLossMask)
        current = writer
        return writer
    }

    private mutating func closeCurrent() throws {
        guard let writer = current else { return }
        try writer.finish()
        shards.append(
            .init(
                file: writer.url.lastPathComponent, split: split, tokens: writer.tokenCount,
                sha256: writer.sha256))
        current = nil
    }
}
