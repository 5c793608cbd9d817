import Foundation
import HSA
import HSATestSupport
import Testing

/// A document memory answers exactly as one session that reads the documents and then the
/// question, never changes when asked, and refuses another model or a damaged file.
@Suite struct DocumentMemoryTests {
    static let prompt = StreamingFixtures.tokens(37, seed: 5).map { $0 % 256 }

    @Test(arguments: ["default", "per_chunk", "attention swa", "attention full"])
    func memoryThenPromptEqualsOneSessionBitForBit(variant: String) throws {
        let config = try #require(StreamingFixtures.variants.first { $0.0 == variant }?.1)
        let fixture = try MemoryFixture(config)
        defer { fixture.directory.remove() }
        // Full attention keeps every key (quadratic work): shorter documents.
        let sizes = variant == "attention full" ? [230, 150] : [700, 450]
        let documents = [
            try fixture.document("a.txt", bytes: sizes[0], seed: 1),
            try fixture.document("b.txt", bytes: sizes[1], seed: 2),
        ]
        let memory = try fixture.build("memory", documents)
        let before = try fixture.contents(memory)

        let reference = try fixture.streamed(documents)
        let asked = try fixture.session(memory)
        #expect(asked.position == 1 + sizes[0] + sizes[1])
        try reference.prefill(tokens: Self.prompt)
        try asked.prefill(tokens: Self.prompt)
        #expect(try asked.logits() == reference.logits())
        #expect(try asked.decodeNext(token: 65) == reference.decodeNext(token: 65))
        // The question's chunks stayed in the asking process: the memory is unchanged.
        #expect(try fixture.contents(memory) == before)
    }

    @Test func bf16MemoryEqualsABF16Session() throws {
        let fixture = try MemoryFixture()
        defer { fixture.directory.remove() }
        let documents = [try fixture.document("a.txt", bytes: 900, seed: 3)]
        let memory = try fixture.build("memory", documents, precision: .bf16)
        let manifest = try DocumentMemory(at: memory).manifest
        #expect(manifest.kvPrecision == "bf16")
        #expect(manifest.keysValues.checksums.bytes == 225 * 2 * 4 * 2 * 8 * 2)
        let reference = try fixture.streamed(documents, precision: .bf16)
        let asked = try fixture.session(memory)
        try reference.prefill(tokens: Self.prompt)
        try asked.prefill(tokens: Self.prompt)
        #expect(try asked.logits() == reference.logits())
    }

    @Test func buildThenAppendEqualsOneBuildOfBoth() throws {
        let fixture = try MemoryFixture(StreamingFixtures.variants[3].1)  // per_chunk
        defer { fixture.directory.remove() }
        let first = try fixture.document("a.txt", bytes: 613, seed: 1)
        let second = try fixture.document("b.txt", bytes: 1001, seed: 2)
        let both = try fixture.build("both", [first, second])
        let appended = try fixture.build("appended", [first])
        try fixture.append(appended, [second])

        let (one, two) = (try DocumentMemory(at: both), try DocumentMemory(at: appended))
        #expect(two.manifest.documents == one.manifest.documents)
        #expect(two.manifest.generation == 2)
        #expect(two.manifest.keysValues == one.manifest.keysValues)
        #expect(two.manifest.landmarks == one.manifest.landmarks)
        #expect(two.manifest.state.checksums == one.manifest.state.checksums)
        // What `hsa memory build|append` print: the whole memory, then what this write read.
        let megabytes = String(format: "%.1f", Double(two.manifest.binaryBytes) / 1e6)
        #expect(
            two.manifest.reportLine(directory: appended, readTokens: 1001, seconds: 2)
                == "memory \(appended.path): 1615 tokens (\(two.manifest.chunks) chunks) from 2 "
                + "files, \(megabytes) MB; read 1001 tokens in 2.0 s (500 tok/s)")
        let a = try fixture.session(both)
        let b = try fixture.session(appended)
        try a.prefill(tokens: Self.prompt)
        try b.prefill(tokens: Self.prompt)
        #expect(try b.logits() == a.logits())
    }

    @Test func anotherModelIsRefused() throws {
        let fixture = try MemoryFixture()
        defer { fixture.directory.remove() }
        let memory = try fixture.build(
            "memory", [try fixture.document("a.txt", bytes: 300, seed: 1)])

        // Same config, other weights.
        let retrained = try MemoryFixture(seed: 8)
        defer { retrained.directory.remove() }
        var wider = StreamingFixtures.config
        wider.window = 12
        let reshaped = try MemoryFixture(wider)
        defer { reshaped.directory.remove() }
        for (other, expected) in [
            (retrained, "its weights file model.safetensors is SHA-256 "),
            (reshaped, "its window is 8, the given model's 12"),
        ] {
            for attempt in [
                { _ = try other.session(memory) },
                { try other.append(memory, []) },
            ] {
                do {
                    try attempt()
                    Issue.record("another model was accepted")
                } catch let error as DocumentMemoryError {
                    let message = error.description
                    #expect(message.contains("memory.json: built with another model"), "\(message)")
                    #expect(message.contains(expected), "\(message)")
                }
            }
        }
    }

    @Test func aDamagedByteInEachFileIsRefusedNamingTheFile() throws {
        let fixture = try MemoryFixture()
        defer { fixture.directory.remove() }
        let documents = [try fixture.document("a.txt", bytes: 2000, seed: 1)]
        let memory = try fixture.build("memory", documents)
        let names = try fixture.contents(memory).keys.sorted()
        #expect(names == ["keys-values.bin", "landmarks.bin", "memory.json", "state-1.bin"])
        for name in names {
            for damage in ["flip", "truncate"] {
                let copy = fixture.directory.file("damaged-\(name)-\(damage)")
                try FileManager.default.copyItem(at: memory, to: copy)
                let url = copy.appendingPathComponent(name)
                var bytes = try Data(contentsOf: url)
                if damage == "flip" {
                    bytes[bytes.count * 2 / 3] ^= 0x04
                } else {
                    bytes.removeLast(3)
                }
                try bytes.write(to: url)
                do {
                    _ = try fixture.session(copy)
                    Issue.record("\(damage)d \(name) was accepted")
                } catch let error as DocumentMemoryError {
                    let message = error.description
                    #expect(message.hasPrefix(url.path + ": "), "\(message)")
                    #expect(!message.contains("\n"), "\(message)")
                }
            }
        }
    }

    @Test func aManifestWithAValidChecksumButWrongNumbersIsRefused() throws {
        let fixture = try MemoryFixture()
        defer { fixture.directory.remove() }
        let memory = try fixture.build(
            "memory", [try fixture.document("a.txt", bytes: 90, seed: 1)])
        let original = try DocumentMemory(at: memory).manifest
        let url = memory.appendingPathComponent(DocumentMemory.manifestName)
        func refusal(_ change: (inout DocumentMemoryManifest) -> Void) throws -> String {
            var manifest = original
            change(&manifest)
            try manifest.encoded().write(to: url)  // with its own checksum recomputed
            do {
                _ = try DocumentMemory(at: memory)
                return "accepted"
            } catch let error as DocumentMemoryError {
                return error.description
            }
        }
        #expect(try refusal { $0.chunks += 1 }.contains("23 chunks for 91 tokens"))
        #expect(try refusal { $0.version = 2 }.contains("format version 2; this hsa reads"))
        #expect(try refusal { $0.kvPrecision = "fp8" }.contains("kv_precision 'fp8'"))
        let invalid = try withInvalidConfig(original.model)
        #expect(try refusal { $0.model = invalid }.contains("model.config"))
        #expect(try refusal { _ in } == "accepted")
    }

    /// `identity` with a config that does not validate (top_k 0).
    private func withInvalidConfig(_ identity: ModelIdentity) throws -> ModelIdentity {
        var object =
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(identity))
            as? [String: Any] ?? [:]
        var config = object["config"] as? [String: Any] ?? [:]
        config["top_k"] = 0
        object["config"] = config
        return try JSONDecoder().decode(
            ModelIdentity.self, from: JSONSerialization.data(withJSONObject: object))
    }

    @Test func anInterruptedAppendLeavesTheMemoryAsItWas() throws {
        let fixture = try MemoryFixture()
        defer { fixture.directory.remove() }
        let first = try fixture.document("a.txt", bytes: 500, seed: 1)
        let second = try fixture.document("b.txt", bytes: 333, seed: 2)
        let memory = try fixture.build("memory", [first])
        let expected = try fixture.session(memory).logits()
        // What a writer killed before its commit leaves: records and landmarks after the
        // committed ones, and a state file no memory.json names.
        for name in [DocumentMemory.keysValuesName, DocumentMemory.landmarksName] {
            let handle = try FileHandle(forWritingTo: memory.appendingPathComponent(name))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(repeating: 0xAB, count: 777))
            try handle.close()
        }
        try Data(repeating: 1, count: 64).write(to: memory.appendingPathComponent("state-2.bin"))
        #expect(try fixture.session(memory).logits() == expected)

        try fixture.append(memory, [second])
        let appended = try fixture.contents(memory)
        let built = try fixture.contents(fixture.build("both", [first, second]))
        // The previous state file stays for readers of the previous memory.json.
        #expect(
            appended.keys.sorted() == [
                "keys-values.bin", "landmarks.bin", "memory.json", "state-1.bin", "state-2.bin",
            ])
        for name in [DocumentMemory.keysValuesName, DocumentMemory.landmarksName] {
            #expect(appended[name] == built[name], "\(name)")
        }
        #expect(appended["state-2.bin"] == built["state-1.bin"])
    }

    @Test func writersExcludeEachOtherAndBuildNeedsAnEmptyDirectory() throws {
        let fixture = try MemoryFixture()
        defer { fixture.directory.remove() }
        let document = try fixture.document("a.txt", bytes: 100, seed: 1)
        let memory = try fixture.build("memory", [document])
        do {
            let writer = try DocumentMemoryWriter(
                appendingTo: memory, model: fixture.model, identity: fixture.identity)
            #expect(throws: DirectoryLockError.self) { try fixture.append(memory, [document]) }
            withExtendedLifetime(writer) {}
        }
        #expect(throws: DocumentMemoryError.notEmpty(directory: memory.path, holdsMemory: true)) {
            try fixture.build("memory", [document])
        }
        #expect(throws: DocumentMemoryError.notAMemory(directory: fixture.directory.url.path)) {
            _ = try DocumentMemory(at: fixture.directory.url)
        }
    }
}
