import Foundation

/// The shards of one split read as one stream of tokens, in file-name order: the stream runs
/// on from the last token of a shard to the first of the next.
struct ShardedTokenStream {
    let shards: [TokenShardReader]
    /// (shards + 1) prefix sums of the shards' token counts.
    private let offsets: [Int]

    init(shards: [TokenShardReader]) {
        self.shards = shards
        offsets = shards.reduce(into: [0]) { $0.append($0[$0.count - 1] + $1.tokenCount) }
    }

    /// Tokens in the stream.
    var tokenCount: Int { offsets[offsets.count - 1] }

    /// Copies stream tokens `start ..< start + count` into `destination`.
    func copyTokens(from start: Int, count: Int, into destination: UnsafeMutablePointer<Int32>) {
        for (shard, range, written) in pieces(of: start..<(start + count)) {
            shard.copyTokens(
                from: range.lowerBound, count: range.count, into: destination + written)
        }
    }

    /// Loss-mask bytes (0 or 1) of stream `range`; 1 where a shard has no mask.
    func lossMask(in range: Range<Int>) -> [UInt8] {
        pieces(of: range).flatMap { shard, range, _ in shard.lossMask(in: range) }
    }

    /// Whether any shard has a loss mask.
    var hasLossMask: Bool { shards.contains(where: \.hasLossMask) }

    /// The shard-local ranges that make up stream `range`, each with the number of stream
    /// tokens before it in `range`.
    private func pieces(of range: Range<Int>) -> [(TokenShardReader, Range<Int>, Int)] {
        precondition(
            range.lowerBound >= 0 && range.upperBound <= tokenCount,
            "token range \(range) outside 0..<\(tokenCount)")
        var pieces: [(TokenShardReader, Range<Int>, Int)] = []
        for (index, shard) in shards.enumerated() {
            let shardRange = offsets[index]..<offsets[index + 1]
            let overlap = range.clamped(to: shardRange)
            guard !overlap.isEmpty else { continue }
            pieces.append(
                (
                    shard,
                    (overlap.lowerBound - shardRange.lowerBound)..<(overlap.upperBound
                        - shardRange.lowerBound),
                    overlap.lowerBound - range.lowerBound
                ))
        }
        return pieces
    }
}
