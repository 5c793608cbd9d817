import Foundation
import HSAData
import HSATestSupport
import Testing

@Suite struct TokenDataLoaderTests {
    /// Writes shards whose token at position p is `offset + p` (u32 vocabulary), so every
    /// window can be traced back to its start.
    func writePositionShards(
        _ directory: TemporaryDirectory, split: DataSplit = .train,
        lengths: [Int], masked: Set<Int> = []
    ) throws {
        var offset = 0
        for (index, length) in lengths.enumerated() {
            let url = directory.file(split.shardFileName(index: index))
            let writer = try TokenShardWriter(
                url: url, vocabularySize: 100_000, hasLossMask: !masked.isEmpty)
            let tokens = (0..<length).map { Int32(offset + $0) }
            if masked.isEmpty {
                try writer.append(tokens)
            } else {
                let mask: [UInt8] = (0..<length).map { masked.contains($0) ? 0 : 1 }
                try writer.append(tokens, lossMask: mask)
            }
            try writer.finish()
            offset += 10_000
        }
    }

    func batches(_ loader: TokenDataLoader, _ count: Int) -> [TokenBatch] {
        (0..<count).map { _ in loader.nextBatch() }
    }

    @Test func deterministicPerSeedAndCoversEveryWindowOncePerEpoch() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try writePositionShards(directory, lengths: [41, 33])  // (41-1)/4 + (33-1)/4 = 18
        let open = { (seed: UInt64) in
            try TokenDataLoader(
                directory: directory.url, split: .train, batchSize: 3, sequenceLength: 4,
                seed: seed)
        }
        let loader = try open(7)
        #expect(loader.windowCount == 18)
        let epoch = batches(loader, 6)  // 18 windows
        #expect(epoch == batches(try open(7), 6))
        #expect(epoch != batches(try open(8), 6))
        var starts: [Int32] = []
        for batch in epoch {
            #expect(batch.inputs.count == 12 && batch.targets.count == 12)
            #expect(zip(batch.inputs, batch.targets).allSatisfy { $1 == $0 + 1 })
            starts += stride(from: 0, to: 12, by: 4).map { batch.inputs[$0] }
        }
        let firstShard: [Int32] = (0..<10).map { Int32(4 * $0) }
        let secondShard: [Int32] = (0..<8).map { Int32(10_000 + 4 * $0) }
        let expected = firstShard + secondShard
        #expect(starts.sorted() == expected)
        #expect(loader.state == LoaderState(seed: 7, epoch: 1, cursor: 0))
    }

    @Test func resumeFromSavedStateGivesIdenticalBatches() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try writePositionShards(directory, lengths: [45])  // 11 windows
        let open = {
            try TokenDataLoader(
                directory: directory.url, split: .train, batchSize: 4, sequenceLength: 4,
                seed: 42)
        }
        let original = try open()
        _ = batches(original, 2)
        let saved = try JSONEncoder().encode(original.state)
        let continued = batches(original, 5)  // crosses two epoch boundaries

        let resumed = try open()
        try resumed.restore(try JSONDecoder().decode(LoaderState.self, from: saved))
        #expect(batches(resumed, 5) == continued)
        #expect(resumed.state == original.state)
        #expect(throws: DataLoaderError.self) {
            try resumed.restore(LoaderState(seed: 42, epoch: 0, cursor: 11))
        }
    }

    @Test func documentAlignedWindowsStartAtEveryFittingBOS() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // Documents of uneven lengths: BOS (256) then bytes; a window must fit (T + 1 = 9).
        var tokens: [Int32] = []
        var documentStarts: [Int] = []
        for (document, length) in [5, 12, 3, 20, 2].enumerated() {
            documentStarts.append(tokens.count)
            tokens.append(256)
            tokens += (0..<length).map { Int32((document * 37 + $0) % 200) }
        }
        let writer = try TokenShardWriter(
            url: directory.file(DataSplit.train.shardFileName(index: 0)), vocabularySize: 259)
        try writer.append(tokens)
        try writer.finish()
        let loader = try TokenDataLoader(
            directory: directory.url, split: .train, batchSize: 1, sequenceLength: 8, seed: 3,
            documentStart: 256)
        let fitting = documentStarts.filter { $0 + 9 <= tokens.count }
        #expect(loader.windowCount == fitting.count)
        var seen = Set<Int>()
        for _ in 0..<loader.windowCount {
            let batch = loader.nextBatch()
            #expect(batch.inputs[0] == 256)
            let start = try #require(
                fitting.first { Array(tokens[$0..<($0 + 8)]) == batch.inputs })
            seen.insert(start)
        }
        #expect(seen == Set(fitting))
    }

    @Test func lossMaskZeroesTargetsOfMaskedTokens() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try writePositionShards(directory, split: .val, lengths: [17], masked: [0, 3, 8, 16])
        let loader = try TokenDataLoader(
            directory: directory.url, split: .val, batchSize: 2, sequenceLength: 8)
        let fixed = loader.validationBatches(count: 2)
        #expect(fixed == loader.validationBatches(count: 2))
        let batch = fixed[0]
        #expect(batch.inputs[0] == 0 && batch.inputs[8] == 8)
        // Window 0 targets positions 1...8, window 1 targets 9...16.
        var expected = [Float](repeating: 1, count: 16)
        expected[2] = 0  // target 3
        expected[7] = 0  // target 8
        expected[15] = 0  // target 16
        #expect(batch.mask == expected)
        #expect(fixed[1] == batch)  // two windows only: the fixed set wraps around
    }

    @Test func rejectsShortShardsAndMissingSplits() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try writePositionShards(directory, lengths: [20, 8])
        let short = #expect(throws: DataLoaderError.self) {
            _ = try TokenDataLoader(
                directory: directory.url, split: .train, batchSize: 1, sequenceLength: 8)
        }
        #expect(short?.description.contains("train-00001.bin: shard has 8 tokens") == true)
        let missing = #expect(throws: DataLoaderError.self) {
            _ = try TokenDataLoader(
                directory: directory.url, split: .val, batchSize: 1, sequenceLength: 4)
        }
        #expect(missing?.description.contains("no val-NNNNN.bin token shards") == true)
    }

    @Test func readsPreparedDirectory() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("in/a.txt", String(repeating: "abc ", count: 40))
        try directory.write("in/b.txt", String(repeating: "xyz ", count: 40))
        let out = directory.file("out")
        try DataPreparer(tokenizer: ByteTokenizer())
            .prepare(inputs: [directory.file("in")], outputDirectory: out)
        for split in DataSplit.allCases {
            let loader = try TokenDataLoader(
                directory: out, split: split, batchSize: 2, sequenceLength: 16, seed: 1)
            let batch = loader.nextBatch()
            #expect(batch.inputs.allSatisfy { $0 >= 0 && $0 < 259 })
            #expect(batch.mask.allSatisfy { $0 == 1 })
        }
    }
}
