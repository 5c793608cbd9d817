import Foundation
import HSA
import HSATestSupport
import Testing

/// The stores of a document memory: a named `DiskKVStore` that persists and reopens, and a
/// `CopyOnWriteKVStore` that reads a file's records and appends without writing the file.
@Suite struct FileStoreTests {
    /// `chunks` records of 6 floats: keys 0, 1, 2, ... and values 100 above them.
    static func records(_ chunks: Int, from first: Int = 0) -> (keys: [Float], values: [Float]) {
        let keys = (0..<(3 * chunks)).map { Float(3 * first + $0) }
        return (keys, keys.map { $0 + 100 })
    }

    /// Record `i` of `store` (6 floats).
    static func record(_ store: any HostKVStore, _ i: Int) -> [Float] {
        let floats = store.records.assumingMemoryBound(to: Float.self)
        return Array(UnsafeBufferPointer(start: floats + 6 * i, count: 6))
    }

    @Test func namedDiskStorePersistsAndDropsWhatFollowsItsRecords() throws {
        let directory = try TemporaryDirectory("file-store")
        defer { directory.remove() }
        let file = directory.file("kv.bin")
        do {
            let store = try DiskKVStore(
                recordFloats: 6, file: file, precision: .fp32, keepingRecords: 0)
            let (keys, values) = Self.records(10)
            try store.append(keys: keys, values: values, chunks: 10)
            try store.synchronize()
        }
        #expect(try Data(contentsOf: file).count == 10 * 6 * 4)
        // Bytes an interrupted writer left after the records it vouched for are cut off.
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(repeating: 0xFF, count: 13))
        try handle.close()
        let reopened = try DiskKVStore(
            recordFloats: 6, file: file, precision: .fp32, keepingRecords: 8)
        #expect(reopened.chunkCount == 8)
        #expect(try Data(contentsOf: file).count == 8 * 6 * 4)
        #expect(Self.record(reopened, 7) == [21, 22, 23, 121, 122, 123])
        let (keys, values) = Self.records(1, from: 40)
        try reopened.append(keys: keys, values: values, chunks: 1)
        #expect(Self.record(reopened, 8) == [120, 121, 122, 220, 221, 222])
    }

    @Test(arguments: [KVPrecision.fp32, .bf16])
    func copyOnWriteStoreAppendsWithoutWritingTheFile(precision: KVPrecision) throws {
        let directory = try TemporaryDirectory("file-store")
        defer { directory.remove() }
        let file = directory.file("kv.bin")
        // 7 records: the file's end falls inside a page, so appends share its last page.
        do {
            let store = try DiskKVStore(
                recordFloats: 6, file: file, precision: precision, keepingRecords: 0)
            let (keys, values) = Self.records(7)
            try store.append(keys: keys, values: values, chunks: 7)
        }
        let before = try Data(contentsOf: file)
        let store = try CopyOnWriteKVStore(
            recordFloats: 6, file: file, precision: precision, records: 7)
        #expect(store.chunkCount == 7)
        // Enough appends to move the region several times (it starts at 1 MiB).
        for round in 0..<3000 {
            let (keys, values) = Self.records(10, from: 7 + 10 * round)
            try store.append(keys: keys, values: values, chunks: 10)
            if round % 1000 == 0 { store.releaseResidentPages() }
        }
        #expect(store.chunkCount == 30_007)
        #expect(try Data(contentsOf: file) == before)
        if precision == .fp32 {
            #expect(Self.record(store, 6) == [18, 19, 20, 118, 119, 120])
            #expect(Self.record(store, 7) == [21, 22, 23, 121, 122, 123])
            #expect(Self.record(store, 30_006) == [90018, 90019, 90020, 90118, 90119, 90120])
        } else {
            let halves = store.records.assumingMemoryBound(to: UInt16.self)
            #expect(CPU.bfloat16Value(halves[6 * 7]) == 21)
            #expect(CPU.bfloat16Value(halves[6 * 6 + 3]) == 118)
        }
    }

    @Test func copyOnWriteStoreRefusesAShortFile() throws {
        let directory = try TemporaryDirectory("file-store")
        defer { directory.remove() }
        let file = directory.file("kv.bin")
        try Data(count: 100).write(to: file)
        do {
            _ = try CopyOnWriteKVStore(recordFloats: 6, file: file, precision: .fp32, records: 5)
            Issue.record("a file shorter than its records was mapped")
        } catch let error as InferenceError {
            #expect(error.description.contains("kv.bin: holds 100 bytes, its records need 120"))
        }
    }
}
