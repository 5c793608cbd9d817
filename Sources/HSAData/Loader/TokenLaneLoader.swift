import Foundation

/// Reads the token shards of one split as parallel streams (state passing across training
/// segments, `hsa train --state-passing`): each batch row walks its own lane of the data, so
/// the row's next segment starts exactly where its previous one ended.
///
/// The split's shards, read as one stream of N tokens in file-name order, are cut into
/// `lanes = batchSize * laneGroups` equal contiguous lanes of `laneLength = N / lanes` tokens
/// (the last `N % lanes` tokens are never read). Segment k of a lane is the window of T + 1
/// tokens at `k * T` in it (inputs the first T, targets the last T), for
/// `k < segmentsPerLane = (laneLength - 1) / T`; consecutive segments share one token, the last
/// target of one being the first input of the next. Batches take the lane groups in turn:
/// batch n reads segment `(n / laneGroups) % segmentsPerLane` of lanes
/// `g * B ..< (g + 1) * B`, `g = n % laneGroups`, so a trainer that accumulates `laneGroups`
/// micro-batches per step gives every micro-batch its own lanes. After the last segment every
/// lane wraps to its start (`LaneBatch.startsLanes`), where a carried state must start afresh.
///
/// No shuffling: the order of the text is the point. ``state`` is all a resumed run needs.
public final class TokenLaneLoader {
    /// B, rows (lanes) per batch.
    public let batchSize: Int
    /// T.
    public let sequenceLength: Int
    /// Batches that take distinct lanes before the first lanes come again.
    public let laneGroups: Int
    /// Tokens in each lane.
    public let laneLength: Int
    /// Windows of T + 1 tokens each lane holds.
    public let segmentsPerLane: Int
    /// Vocabulary size of the shards.
    public let vocabularySize: Int
    /// The position of the next batch.
    public private(set) var state: LaneState

    private let stream: ShardedTokenStream

    /// Lanes in all: `batchSize * laneGroups`.
    public var laneCount: Int { batchSize * laneGroups }

    /// Opens every `<split>-NNNNN.bin` in `directory`.
    /// - Parameters:
    ///   - batchSize: B, lanes per batch.
    ///   - sequenceLength: T; each segment reads T + 1 tokens.
    ///   - laneGroups: batches in turn that read distinct lanes (a trainer's micro-batches).
    /// - Throws: ``DataLoaderError`` when no shard exists or the split has fewer than T + 1
    ///   tokens per lane; ``TokenShardError`` for invalid shards.
    public init(
        directory: URL, split: DataSplit, batchSize: Int, sequenceLength: Int, laneGroups: Int = 1
    ) throws {
        guard batchSize > 0, sequenceLength > 0, laneGroups > 0 else {
            throw DataLoaderError.invalidShape(batchSize: batchSize, sequenceLength: sequenceLength)
        }
        stream = ShardedTokenStream(shards: try TokenShardReader.openSplit(split, in: directory))
        let lanes = batchSize * laneGroups
        laneLength = stream.tokenCount / lanes
        guard laneLength >= sequenceLength + 1 else {
            throw DataLoaderError.tooFewTokensForLanes(
                directory: directory.path, tokens: stream.tokenCount, lanes: lanes,
                needed: sequenceLength + 1)
        }
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.laneGroups = laneGroups
        segmentsPerLane = (laneLength - 1) / sequenceLength
        vocabularySize = stream.shards[0].vocabularySize
        state = LaneState(lanes: lanes, laneLength: laneLength, sequenceLength: sequenceLength)
    }

    /// Throws ``DataLoaderError/vocabularyTooLarge(file:vocabularySize:modelVocabularySize:)``
    /// when a shard's vocabulary exceeds the model's.
    public func requireVocabulary(atMost modelVocabularySize: Int) throws {
        try stream.shards.requireVocabulary(atMost: modelVocabularySize)
    }

    /// The first stream token of segment `segment` of lane `lane`.
    public func segmentStart(lane: Int, segment: Int) -> Int {
        lane * laneLength + segment * sequenceLength
    }

    // MARK: - State

    /// Continues from a state saved from `state`.
    /// - Throws: ``DataLoaderError/invalidState(reason:)`` for a state of other lanes (batch
    ///   size, lane groups, sequence length or data changed) or a position outside them.
    public func restore(_ newState: LaneState) throws {
        guard
            (newState.lanes, newState.laneLength, newState.sequenceLength)
                == (laneCount, laneLength, sequenceLength)
        else {
            throw DataLoaderError.invalidState(
                reason: "saved for \(newState.lanes) lanes of \(newState.laneLength) tokens and "
                    + "segments of \(newState.sequenceLength); this run has \(laneCount) lanes of "
                    + "\(laneLength) tokens and segments of \(sequenceLength)")
        }
        guard newState.pass >= 0, (0..<(laneGroups * segmentsPerLane)).contains(newState.cursor)
        else {
            throw DataLoaderError.invalidState(
                reason: "pass \(newState.pass), cursor \(newState.cursor) outside "
                    + "0..<\(laneGroups * segmentsPerLane) batches of a pass")
        }
        state = newState
    }

    // MARK: - Batches

    /// The next segment of the next lane group; advances ``state``.
    public func nextBatch() -> LaneBatch {
        let group = state.cursor % laneGroups
        let segment = state.cursor / laneGroups
        let batch = makeBatch(
            starts: (0..<batchSize).map {
                segmentStart(lane: group * batchSize + $0, segment: segment)
            })
        state.cursor += 1
        // Keep the cursor inside one pass so a saved state can always be restored.
        if state.cursor == laneGroups * segmentsPerLane {
            state.pass += 1
            state.cursor = 0
        }
        return LaneBatch(tokens: batch, startsLanes: segment == 0)
    }

    private func makeBatch(starts: [Int]) -> TokenBatch {
        TokenBatch(rows: starts.map { (stream, $0) }, sequenceLength: sequenceLength)
    }
}

/// One batch of ``TokenLaneLoader``: row b is the next segment of its lane.
public struct LaneBatch: Equatable, Sendable {
    public var tokens: TokenBatch
    /// Whether the rows start their lanes (the first segment, or after a wrap): nothing
    /// precedes them, so a state carried from the previous segment does not apply.
    public var startsLanes: Bool
}
