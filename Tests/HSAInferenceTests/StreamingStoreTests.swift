import Foundation
import HSA
import HSATestSupport
import Testing

/// Key/value stores, thread-count invariance and errors of the streaming session.
@Suite(.serialized) struct StreamingStoreTests {
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("hsa-infer-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func ramAndDiskStoresGiveIdenticalResultsAndDiskLeavesNoFile() throws {
        let model = StreamingFixtures.model(StreamingFixtures.config, seed: 21)
        let tokens = StreamingFixtures.tokens(150, seed: 2)
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }

        let ram = try StreamingSession(model: model, storage: .ram, maxBlock: 32)
        try ram.prefill(tokens: tokens)
        var disk: StreamingSession? = try StreamingSession(
            model: model, storage: .disk(directory: directory), maxBlock: 32)
        try disk?.prefill(tokens: tokens)
        #expect(try disk?.logits() == (try ram.logits()))
        #expect(try disk?.decodeNext(token: 5) == (try ram.decodeNext(token: 5)))
        #expect(disk?.memory?.store is DiskKVStore)
        #expect(disk?.memory?.store.storedBytes == ram.memory?.store.storedBytes)
        #expect((ram.memory?.store.storedBytes ?? 0) == 37 * 2 * 4 * 2 * 8 * 4)
        // The file is unlinked as soon as it exists: nothing is left, even on a crash.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        disk = nil
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
    }

    @Test func bf16StoresHalveTheBytesAndStayClose() throws {
        let model = StreamingFixtures.model(StreamingFixtures.config, seed: 23)
        let tokens = StreamingFixtures.tokens(120, seed: 8)
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let exact = try StreamingSession(model: model)
        try exact.prefill(tokens: tokens)
        let ram = try StreamingSession(model: model, precision: .bf16)
        try ram.prefill(tokens: tokens)
        let disk = try StreamingSession(
            model: model, storage: .disk(directory: directory), precision: .bf16)
        try disk.prefill(tokens: tokens)
        #expect(try disk.logits() == (try ram.logits()))
        #expect(ram.memory?.store.storedBytes == (exact.memory?.store.storedBytes ?? 0) / 2)
        // bf16 keeps ~3 significant digits: close to, but not equal to, the exact logits.
        let report = compare(try ram.logits(), try exact.logits(), atol: 0.05, rtol: 0.02)
        #expect(report.passed, "\(report)")
        #expect(report.maxAbsoluteError > 0)
        #expect(CPU.bfloat16Value(CPU.bfloat16Bits(1.00390625)) == 1)  // ties to even
        #expect(CPU.bfloat16Value(CPU.bfloat16Bits(-2.5)) == -2.5)
    }

    @Test func diskStoreRecordsRoundTrip() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try DiskKVStore(recordFloats: 6, directory: directory)
        let keys: [Float] = (0..<30).map(Float.init)  // 10 chunks of 3 floats
        let values: [Float] = (0..<30).map { Float(100 + $0) }
        // Enough appends to grow the map past its first 1 MiB.
        for _ in 0..<5000 { try store.append(keys: keys, values: values, chunks: 10) }
        #expect(store.chunkCount == 50_000)
        #expect(store.storedBytes == 50_000 * 6 * 4)
        let records = store.records.assumingMemoryBound(to: Float.self)
        let last = Array(UnsafeBufferPointer(start: records + 49_999 * 6, count: 6))
        #expect(last == [27, 28, 29, 127, 128, 129])
        #expect(records[12] == 6 && records[15] == 106)
    }

    @Test func threadCountDoesNotChangeResults() throws {
        let model = StreamingFixtures.model(StreamingFixtures.config, seed: 22)
        let tokens = StreamingFixtures.tokens(200, seed: 7)
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            Threads.set(threads)
            let session = try StreamingSession(model: model, maxBlock: 64)
            try session.prefill(tokens: tokens)
            results.append(try session.logits() + (try session.decodeNext(token: 9)))
        }
        Threads.set(nil)
        #expect(results[0] == results[1])
        #expect(results[0] == results[2])
    }

    @Test func errorsNameTheProblem() throws {
        let session = try StreamingSession(model: StreamingFixtures.model(StreamingFixtures.config))
        #expect(throws: InferenceError.emptyContext) { try session.logits() }
        #expect(throws: InferenceError.invalidToken(token: 300, position: 1, vocabularySize: 259)) {
            try session.prefill(tokens: [1, 300])
        }
        #expect(session.position == 0)
        #expect("\(InferenceError.emptyContext)".contains("hint:"))
    }

    @Test func memoryStaysBoundedAsThePromptGrows() throws {
        // Without the chunk memory (swa) the caches must not grow with the prompt at all.
        var config = StreamingFixtures.config
        config.attention = .swa
        let session = try StreamingSession(model: StreamingFixtures.model(config), maxBlock: 16)
        try session.prefill(tokens: StreamingFixtures.tokens(200))
        let early = session.cacheBytes
        try session.prefill(tokens: StreamingFixtures.tokens(600, seed: 2))
        #expect(session.cacheBytes == early)
    }
}

// MARK: - Recorded selections

@Suite struct StreamingSelectionTests {
    /// The CPU path records, per HSA layer, the last row's chunks: recency order, distinct,
    /// all eligible, K per KV head once enough chunks exist.
    @Test func recordedSelectionsAreEligibleAndInRecencyOrder() throws {
        let config = StreamingFixtures.config
        let session = try StreamingSession(
            model: LanguageModel(config: config, seed: 3), maxBlock: 16)
        session.recordsSelections = true
        var rng = SplitMix64(seed: 9)
        let tokens = (0..<61).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }
        try session.prefill(tokens: tokens)
        _ = try session.logits()
        let selections = session.lastSelections
        #expect(selections.count == config.hsaLayers.count)
        let eligible = Int32(60 / config.chunkSize)
        for selection in selections {
            #expect(selection.count == config.nKvHeads * config.topK)
            for g in 0..<config.nKvHeads {
                let slots = Array(selection[(g * config.topK)..<((g + 1) * config.topK)])
                #expect(slots.allSatisfy { $0 >= 0 && $0 < eligible })
                #expect(slots == slots.sorted(by: >))
                #expect(Set(slots).count == slots.count)
            }
        }
    }
}
