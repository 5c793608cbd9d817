import Foundation
import HSA
import HSATestSupport

/// A saved model, documents of random bytes and the streaming reference for the document
/// memory tests.
struct MemoryFixture {
    let directory: TemporaryDirectory
    let model: LanguageModel
    let identity: ModelIdentity
    /// Bytes per read block and rows per session block: small, so a few hundred bytes make
    /// several blocks and the block splitting is exercised.
    let blockBytes = 256
    let maxBlock = 96
    /// Small checksum segments, so every file has several.
    let segmentBytes = 512

    /// A model of `config` (weights from `seed`), saved as a checkpoint in a fresh directory.
    init(_ config: ModelConfig = StreamingFixtures.config, seed: UInt64 = 7) throws {
        directory = try TemporaryDirectory("memory")
        model = StreamingFixtures.model(config, seed: seed)
        let checkpoint = directory.file("model")
        try model.save(to: checkpoint)
        identity = try ModelIdentity(checkpoint: checkpoint)
    }

    /// A file `name` of `count` random bytes.
    func document(_ name: String, bytes count: Int, seed: UInt64) throws -> URL {
        var rng = SplitMix64(seed: seed)
        let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let url = directory.file(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// Builds a memory at `name` from `documents`.
    @discardableResult
    func build(_ name: String, _ documents: [URL], precision: KVPrecision = .fp32) throws -> URL {
        let url = directory.file(name)
        let writer = try DocumentMemoryWriter(
            creating: url, model: model, identity: identity, precision: precision,
            maxBlock: maxBlock, segmentBytes: segmentBytes)
        try writer.read(documents: documents, blockBytes: blockBytes)
        try writer.commit()
        return url
    }

    /// Appends `documents` to the memory at `url`.
    func append(_ url: URL, _ documents: [URL]) throws {
        let writer = try DocumentMemoryWriter(
            appendingTo: url, model: model, identity: identity, maxBlock: maxBlock)
        try writer.read(documents: documents, blockBytes: blockBytes)
        try writer.commit()
    }

    /// The question session of the memory at `url`.
    func session(_ url: URL) throws -> StreamingSession {
        try DocumentMemory(at: url).session(model: model, identity: identity, maxBlock: maxBlock)
    }

    /// One session that streams BOS and `documents` (in the writer's blocks) and then
    /// `prompt`: what a memory of the documents asked `prompt` must equal.
    func streamed(_ documents: [URL], precision: KVPrecision = .fp32) throws -> StreamingSession {
        let session = try StreamingSession(model: model, precision: precision, maxBlock: maxBlock)
        var bos: [Int32] = [ByteTokenizer().bos]
        for url in documents {
            let bytes = try Data(contentsOf: url)
            for start in stride(from: 0, to: bytes.count, by: blockBytes) {
                let block = bytes[start..<min(start + blockBytes, bytes.count)]
                try session.prefill(tokens: bos + block.map { Int32($0) })
                bos = []
            }
        }
        try session.prefill(tokens: bos)
        return session
    }

    /// Every file of the memory at `url` (but the lock), by name.
    func contents(_ url: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: url.path)
        where name != ".lock" {
            files[name] = try Data(contentsOf: url.appendingPathComponent(name))
        }
        return files
    }
}
