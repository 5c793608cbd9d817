/// Tokens a loader cuts training windows from: one shard, or several read as one stream.
protocol TokenWindowSource {
    /// Copies tokens `start ..< start + count` into `destination`.
    func copyTokens(from start: Int, count: Int, into destination: UnsafeMutablePointer<Int32>)
    /// Loss-mask bytes (0 or 1) of `range`.
    func lossMask(in range: Range<Int>) -> [UInt8]
    /// Whether any token has a loss-mask byte.
    var hasLossMask: Bool { get }
}

extension TokenShardReader: TokenWindowSource {}
extension ShardedTokenStream: TokenWindowSource {}

extension TokenBatch {
    /// The batch whose row b is the window of T + 1 tokens at `rows[b]`: inputs are its
    /// first T tokens, targets the T after them, and the mask of a target is the mask byte of
    /// the token it predicts.
    init(rows: [(source: any TokenWindowSource, start: Int)], sequenceLength length: Int) {
        let batchSize = rows.count
        var inputs = [Int32](repeating: 0, count: batchSize * length)  // (B, T)
        var targets = [Int32](repeating: 0, count: batchSize * length)  // (B, T)
        var mask = [Float](repeating: 1, count: batchSize * length)  // (B, T)
        var window = [Int32](repeating: 0, count: length + 1)  // (T + 1,)
        for (row, (source, start)) in rows.enumerated() {
            window.withUnsafeMutableBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return }
                source.copyTokens(from: start, count: length + 1, into: base)
            }
            let rowStart = row * length
            for t in 0..<length {
                inputs[rowStart + t] = window[t]
                targets[rowStart + t] = window[t + 1]
            }
            if source.hasLossMask {
                let bytes = source.lossMask(in: (start + 1)..<(start + 1 + length))
                for t in 0..<length where bytes[t] == 0 { mask[rowStart + t] = 0 }
            }
        }
        self.init(
            batchSize: batchSize, sequenceLength: length, inputs: inputs, targets: targets,
            mask: mask)
    }
}
