import Foundation
import HSATestSupport
import Testing

@testable import HSACore

@Suite struct SafetensorsShardsTests {
    /// Five F32 tensors of 16, 16, 40, 8 and 8 bytes.
    private let entries = [
        SafetensorsEntry(name: "a", shape: [4], floats: [1, 2, 3, 4]),
        SafetensorsEntry(name: "b", shape: [2, 2], floats: [5, 6, 7, 8]),
        SafetensorsEntry(name: "big", shape: [10], floats: (0..<10).map(Float.init)),
        SafetensorsEntry(name: "c", shape: [2], floats: [9, 10]),
        SafetensorsEntry(name: "d", shape: [2], floats: [11, 12]),
    ]

    @Test func shardedRoundTripWithIndex() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let written = try SafetensorsShards.write(
            entries, metadata: ["format": "pt"], directory: directory.url, maxShardBytes: 32)
        // Greedy packing: [a, b] = 32 bytes, [big] = 40 bytes alone (over the limit), [c, d].
        let shardNames = (1...3).map {
            SafetensorsShards.shardFileName(baseName: "model", number: $0, count: 3)
        }
        #expect(shardNames[0] == "model-00001-of-00003.safetensors")
        #expect(written.map(\.lastPathComponent) == shardNames + ["model.safetensors.index.json"])
        #expect(
            try directory.contents() == (shardNames + ["model.safetensors.index.json"]).sorted())

        let index = try JSONSerialization.jsonObject(
            with: Data(contentsOf: directory.file("model.safetensors.index.json")))
        let root = try #require(index as? [String: Any])
        #expect((root["metadata"] as? [String: Any])?["total_size"] as? Int == 88)
        let weightMap = try #require(root["weight_map"] as? [String: String])
        #expect(weightMap["big"] == shardNames[1])
        #expect(weightMap["d"] == shardNames[2])

        let collection = try SafetensorsShards.read(directory: directory.url)
        #expect(collection.files.count == 3)
        #expect(Set(collection.names) == Set(entries.map(\.name)))
        #expect(collection.metadata["format"] == "pt")
        #expect(try collection.floats("big") == (0..<10).map(Float.init))
        #expect(try collection.floats("d") == [11, 12])
        #expect(try collection.tensor("b").shape == [2, 2])
    }

    @Test func unlimitedWritesSingleFileAndRemovesStaleIndex() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try SafetensorsShards.write(entries, directory: directory.url, maxShardBytes: 32)
        try SafetensorsShards.write(entries, directory: directory.url, baseName: "model")
        let collection = try SafetensorsShards.read(directory: directory.url)
        #expect(collection.files.map(\.fileName) == ["model.safetensors"])
        #expect(try collection.floats("a") == [1, 2, 3, 4])
    }

    @Test func missingShardIsNamed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try SafetensorsShards.write(entries, directory: directory.url, maxShardBytes: 32)
        let missing = "model-00002-of-00003.safetensors"
        try FileManager.default.removeItem(at: directory.file(missing))
        #expect(
            throws: SafetensorsError.missingShard(
                index: "model.safetensors.index.json", shard: missing)
        ) {
            try SafetensorsShards.read(directory: directory.url)
        }
    }

    @Test func tensorInTwoShardsIsRejected() throws {
        let first = try SafetensorsFile(data: SafetensorsWriter.encode([entries[0]]), fileName: "1")
        let second = try SafetensorsFile(
            data: SafetensorsWriter.encode([entries[0], entries[1]]), fileName: "2")
        #expect(
            throws: SafetensorsError.duplicateTensor(
                tensor: "a", firstFile: "1", secondFile: "2")
        ) {
            try SafetensorsCollection(files: [first, second])
        }
    }

    @Test func missingCheckpointIsNamed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(
            throws: SafetensorsError.checkpointNotFound(
                directory: directory.url.path, baseName: "model")
        ) {
            try SafetensorsShards.read(directory: directory.url)
        }
    }
}
