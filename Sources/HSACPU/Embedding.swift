import HSACore

// Token embedding lookup. Dimension letters: N rows (tokens), C channels, V vocab (table rows).

// MARK: - Forward

extension CPU {
    /// Gathers embedding rows: `out[n] = table[tokens[n]]`.
    /// - Parameters:
    ///   - out: (N, C) gathered rows, overwritten.
    ///   - tokens: (N) Int32 token ids in `0..<V`.
    ///   - table: (V, C) embedding table.
    ///   - rows: N.
    ///   - channels: C.
    public static func embeddingForward(
        out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>,
        table: UnsafePointer<Float>, rows: Int, channels: Int
    ) {
        rowParallel(rows, workPerRow: channels) { n in
            let token = Int(tokens[n])
            precondition(token >= 0, "embeddingForward: negative token id \(token) at row \(n)")
            (out + n * channels).update(from: table + token * channels, count: channels)
        }
    }
}

// MARK: - Backward

extension CPU {
    /// Scatters output gradients into the table: `dTable[tokens[n]] += dOut[n]` (accumulates).
    ///
    /// Deterministic: threads split the channels, and every table entry receives its
    /// contributions in row order, so repeated tokens never race and the thread count does not
    /// change the result.
    /// - Parameters:
    ///   - dTable: (V, C) table gradient, accumulated into.
    ///   - dOut: (N, C) gradient of the gathered rows.
    ///   - tokens: (N) Int32 token ids in `0..<V`.
    ///   - rows: N.
    ///   - channels: C.
    public static func embeddingBackward(
        dTable: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
        tokens: UnsafePointer<Int32>, rows: Int, channels: Int
    ) {
        let work = rows * channels
        let blockSize = work < parallelThreshold ? max(channels, 1) : channelBlockSize
        blockParallel(count: channels, blockSize: blockSize, minimumCount: 1) { range in
            for n in 0..<rows {
                let token = Int(tokens[n])
                precondition(token >= 0, "embeddingBackward: negative token \(token) at row \(n)")
                let source = dOut + n * channels
                let target = dTable + token * channels
                for c in range { target[c] += source[c] }
            }
        }
    }

    /// Channels per block when a reduction over rows is split over threads by channel.
    static let channelBlockSize = 64
}
