import Foundation
import HSAData
import HSATestSupport
import Testing

/// The state-passing loader: every batch row reads consecutive segments of its own lane of the
/// token stream, lanes wrap together, and a saved position resumes the same lanes.
@Suite struct TokenLaneLoaderTests {
    /// Writes shards of `lengths` tokens whose token at stream position p (counting on across
    /// shards) is p, so every segment can be traced back to its lane.
    func writeStreamShards(_ directory: TemporaryDirectory, lengths: [Int]) throws {
        var offset = 0
        for (index, length) in lengths.enumerated() {
            let writer = try TokenShardWriter(
                url: directory.file(DataSplit.train.shardFileName(index: index)),
                vocabularySize: 100_000)
            try writer.append((0..<length).map { Int32(offset + $0) })
            try writer.finish()
            offset += length
        }
    }

    /// Row `row`'s inputs (T) of `batch`.
    func inputs(_ batch: LaneBatch, row: Int) -> [Int32] {
        let t = batch.tokens.sequenceLength
        return Array(batch.tokens.inputs[(row * t)..<((row + 1) * t)])
    }

    @Test func rowsReadConsecutiveSegmentsOfTheirLanesAcrossShards() throws {
        let directory = try TemporaryDirectory("lanes")
        defer { directory.remove() }
        try writeStreamShards(directory, lengths: [50, 37])  // 87 tokens: 2 lanes of 43
        let loader = try TokenLaneLoader(
            directory: directory.url, split: .train, batchSize: 2, sequenceLength: 4)
        #expect(loader.laneLength == 43)
        #expect(loader.segmentsPerLane == 10)  // (43 - 1) / 4
        let batches = (0..<11).map { _ in loader.nextBatch() }
        for (n, batch) in batches.prefix(10).enumerated() {
            for row in 0..<2 {
                let start = Int32(43 * row + 4 * n)
                #expect(inputs(batch, row: row) == (0..<4).map { start + $0 }, "batch \(n)")
            }
            #expect(zip(batch.tokens.inputs, batch.tokens.targets).allSatisfy { $1 == $0 + 1 })
            // Only the first segment starts the lanes.
            #expect(batch.startsLanes == (n == 0), "batch \(n)")
        }
        // After the last segment every lane wraps to its start, where states start afresh.
        #expect(batches[10].tokens == batches[0].tokens)
        #expect(batches[10].startsLanes)
        #expect(loader.state.pass == 1 && loader.state.cursor == 1)
    }

    @Test func laneGroupsTakeTurnsSoEachMicroBatchHasItsOwnLanes() throws {
        let directory = try TemporaryDirectory("lane-groups")
        defer { directory.remove() }
        try writeStreamShards(directory, lengths: [87])  // 4 lanes of 21 tokens, 5 segments
        let loader = try TokenLaneLoader(
            directory: directory.url, split: .train, batchSize: 2, sequenceLength: 4,
            laneGroups: 2)
        #expect(loader.laneCount == 4 && loader.segmentsPerLane == 5)
        let firsts = (0..<4).map { _ in
            let batch = loader.nextBatch()
            return [inputs(batch, row: 0)[0], inputs(batch, row: 1)[0]]
        }
        // Batch n: lane group n % 2 (lanes 0, 1 or 2, 3), segment n / 2.
        #expect(firsts == [[0, 21], [42, 63], [4, 25], [46, 67]])
    }

    @Test func aSavedPositionResumesTheSameLanesAndOtherLanesAreRefused() throws {
        let directory = try TemporaryDirectory("lane-state")
        defer { directory.remove() }
        try writeStreamShards(directory, lengths: [60, 40])
        let open = { (batchSize: Int) in
            try TokenLaneLoader(
                directory: directory.url, split: .train, batchSize: batchSize, sequenceLength: 5)
        }
        let straight = try open(2)
        let expected = (0..<12).map { _ in straight.nextBatch() }
        let interrupted = try open(2)
        _ = (0..<7).map { _ in interrupted.nextBatch() }
        let resumed = try open(2)
        try resumed.restore(interrupted.state)
        #expect((0..<5).map { _ in resumed.nextBatch() } == Array(expected[7...]))
        #expect(throws: DataLoaderError.self) { try open(4).restore(interrupted.state) }
    }

    @Test func dataTooShortForTheLanesIsRefused() throws {
        let directory = try TemporaryDirectory("lane-short")
        defer { directory.remove() }
        try writeStreamShards(directory, lengths: [19])  // 4 lanes of 4 tokens
        #expect {
            try TokenLaneLoader(
                directory: directory.url, split: .train, batchSize: 4, sequenceLength: 4)
        } throws: { error in
            "\(error)".contains("too few for 4 lanes of at least 5 tokens")
        }
    }
}
