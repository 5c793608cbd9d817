import Foundation
import HSACore

/// Reads batches from the token shards of one split of a prepared directory.
///
/// Each shard of N tokens holds `(N - 1) / T` non-overlapping windows of T + 1 tokens starting
/// at multiples of T (inputs are the first T, targets the last T), or, with `documentStart`,
/// one window starting at every occurrence of that token (BOS) that has T + 1 tokens left in
/// its shard, so a task sample is never cut from its own beginning. An epoch visits every window
/// of every shard once, in an order shuffled (Fisher-Yates) by a SplitMix64 seeded from
/// `(seed, epoch)`; batches take B consecutive windows of that order and run on into the next
/// epoch. ``state`` (seed, epoch, cursor) is all a resumed run needs.
public final class TokenDataLoader {
    /// The shards in file-name order.
    public let shards: [TokenShardReader]
    /// B.
    public let batchSize: Int
    /// T.
    public let sequenceLength: Int
    /// Windows per epoch over all shards.
    public let windowCount: Int
    /// Vocabulary size of the shards.
    public let vocabularySize: Int
    /// The position of the next batch.
    public private(set) var state: LoaderState

    private let windowStarts: [[Int]]  // per shard: the first token of each of its windows
    private let windowOffsets: [Int]  // (shards + 1,) prefix sums of windows per shard
    private var order: [Int]  // (windowCount,) this epoch's window order
    private var orderEpoch: Int

    /// Opens every `<split>-NNNNN.bin` in `directory`.
    /// - Parameters:
    ///   - directory: a prepared data directory.
    ///   - split: which shards to read.
    ///   - batchSize: B, windows per batch.
    ///   - sequenceLength: T; each window reads T + 1 tokens.
    ///   - seed: fixes the window order of every epoch.
    ///   - documentStart: when set (the tokenizer's BOS), windows start at its occurrences
    ///     instead of at multiples of T.
    /// - Throws: ``DataLoaderError`` when no shard exists or one is shorter than T + 1 tokens;
    ///   ``TokenShardError`` for invalid shards.
    public init(
        directory: URL, split: DataSplit, batchSize: Int, sequenceLength: Int,
        seed: UInt64 = 0, documentStart: Int32? = nil
    ) throws {
        guard batchSize > 0, sequenceLength > 0 else {
            throw DataLoaderError.invalidShape(batchSize: batchSize, sequenceLength: sequenceLength)
        }
        var shards: [TokenShardReader] = []
        var starts: [[Int]] = []
        var offsets = [0]
        for shard in try TokenShardReader.openSplit(split, in: directory) {
            guard shard.tokenCount >= sequenceLength + 1 else {
                throw DataLoaderError.shardTooShort(
                    file: shard.url.path, tokens: shard.tokenCount, needed: sequenceLength + 1)
            }
            let shardStarts =
                documentStart.map {
                    Self.occurrences(of: $0, in: shard, windowLength: sequenceLength + 1)
                }
                ?? Array(stride(from: 0, to: shard.tokenCount - sequenceLength, by: sequenceLength))
            shards.append(shard)
            starts.append(shardStarts)
            offsets.append(offsets[offsets.count - 1] + shardStarts.count)
        }
        guard offsets[offsets.count - 1] > 0 else {
            throw DataLoaderError.shardTooShort(
                file: shards[0].url.path, tokens: shards[0].tokenCount,
                needed: sequenceLength + 1)
        }
        self.shards = shards
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.windowStarts = starts
        self.windowOffsets = offsets
        self.windowCount = offsets[offsets.count - 1]
        self.vocabularySize = shards[0].vocabularySize
        self.state = LoaderState(seed: seed)
        self.order = Self.shuffledOrder(count: windowCount, seed: seed, epoch: 0)
        self.orderEpoch = 0
    }

    /// Throws ``DataLoaderError/vocabularyTooLarge(file:vocabularySize:modelVocabularySize:)``
    /// naming the first shard whose vocabulary (every token is below it, checked on open)
    /// exceeds the model's: its ids would index past the embedding and the output layer.
    public func requireVocabulary(atMost modelVocabularySize: Int) throws {
        try shards.requireVocabulary(atMost: modelVocabularySize)
    }

    // MARK: - State

    /// Continues from a state saved from `state` (same shards, B and T).
    /// - Throws: ``DataLoaderError/invalidState(reason:)`` for a negative epoch or a cursor
    ///   outside this loader's windows.
    public func restore(_ newState: LoaderState) throws {
        guard newState.epoch >= 0, newState.cursor >= 0, newState.cursor < windowCount else {
            throw DataLoaderError.invalidState(
                reason: "epoch \(newState.epoch), cursor \(newState.cursor) outside "
                    + "0..<\(windowCount) windows")
        }
        state = newState
        order = Self.shuffledOrder(count: windowCount, seed: newState.seed, epoch: newState.epoch)
        orderEpoch = newState.epoch
    }

    // MARK: - Batches

    /// The next B windows of the shuffled order; advances ``state``.
    public func nextBatch() -> TokenBatch {
        var windows: [Int] = []
        windows.reserveCapacity(batchSize)
        for _ in 0..<batchSize {
            if state.cursor == windowCount {
                state.epoch += 1
                state.cursor = 0
            }
            if orderEpoch != state.epoch {
                order = Self.shuffledOrder(count: windowCount, seed: state.seed, epoch: state.epoch)
                orderEpoch = state.epoch
            }
            windows.append(order[state.cursor])
            state.cursor += 1
        }
        // Keep the cursor inside 0..<windowCount so a saved state can always be restored.
        if state.cursor == windowCount {
            state.epoch += 1
            state.cursor = 0
        }
        return makeBatch(windows: windows)
    }

    /// A fixed set of `count` batches: windows 0, 1, 2, ... in file order (wrapping around when
    /// there are fewer than `count * B`), independent of the seed and of ``state``.
    public func validationBatches(count: Int) -> [TokenBatch] {
        (0..<max(0, count)).map { batch in
            makeBatch(windows: (0..<batchSize).map { (batch * batchSize + $0) % windowCount })
        }
    }

    // MARK: - Helpers

    private func makeBatch(windows: [Int]) -> TokenBatch {
        TokenBatch(
            rows: windows.map { index in
                let (shard, start) = locate(window: index)
                return (shard, start)
            }, sequenceLength: sequenceLength)
    }

    /// The shard and first token of global window `index`.
    private func locate(window index: Int) -> (TokenShardReader, Int) {
        // Binary search for the last shard whose first window is <= index.
        var low = 0
        var high = shards.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if windowOffsets[middle] <= index { low = middle } else { high = middle - 1 }
        }
        return (shards[low], windowStarts[low][index - windowOffsets[low]])
    }

    /// Positions of `token` in `shard` from which `windowLength` tokens remain.
    static func occurrences(of token: Int32, in shard: TokenShardReader, windowLength: Int) -> [Int]
    {
        var positions: [Int] = []
        let last = shard.tokenCount - windowLength  // the last start that still fits
        let block = 1 << 20
        var buffer = [Int32](repeating: 0, count: block)
        var from = 0
        while from <= last {
            let count = min(block, last + 1 - from)
            buffer.withUnsafeMutableBufferPointer { pointer in
                guard let base = pointer.baseAddress else { return }
                shard.copyTokens(from: from, count: count, into: base)
            }
            for i in 0..<count where buffer[i] == token { positions.append(from + i) }
            from += count
        }
        return positions
    }

    /// A permutation of `0 ..< count` fixed by `(seed, epoch)`; the bounded draw uses the
    /// high half of a 128-bit product (Lemire) so it does not depend on the stdlib's algorithm.
    static func shuffledOrder(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var generator = SplitMix64(seed: seed ^ (UInt64(epoch) &* 0xD1B5_4A32_D192_ED03))
        return generator.permutation(count: count)
    }
}
