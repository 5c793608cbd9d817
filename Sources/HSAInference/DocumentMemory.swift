import Foundation
import HSACPU
import HSACore
import HSAModel

/// Documents read once by a streaming session and kept on disk, so that every question about
/// them starts where the reading stopped instead of reading them again ("read once, ask many
/// times"). `DocumentMemoryWriter` builds and extends one; docs/MEMORY.md describes the
/// directory.
///
/// What is checked when: `init(at:)` reads memory.json and checks its own checksum and that
/// its numbers agree with each other; `session` and `verifiedSnapshot` check every binary file
/// against its segment checksums (in parallel) before any of it is used.
public struct DocumentMemory: Sendable {
    /// The manifest's name.
    public static let manifestName = "memory.json"
    /// The chunks' keys and values.
    public static let keysValuesName = "keys-values.bin"
    /// The chunks' landmarks.
    public static let landmarksName = "landmarks.bin"

    /// The state file written by commit number `generation`.
    public static func stateName(generation: Int) -> String { "state-\(generation).bin" }

    /// The memory's directory.
    public let directory: URL
    /// Its memory.json.
    public let manifest: DocumentMemoryManifest

    /// Opens the memory in `directory`: reads memory.json and checks it (not yet the binary
    /// files).
    /// - Throws: `DocumentMemoryError`.
    public init(at directory: URL) throws {
        self.directory = directory
        let url = directory.appendingPathComponent(Self.manifestName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DocumentMemoryError.notAMemory(directory: directory.path)
        }
        manifest = try DocumentMemoryManifest.load(from: url)
        try checkManifest()
    }

    /// The file `name` inside the memory.
    public func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// The model's config (read from memory.json).
    public var config: ModelConfig { manifest.model.config }

    // MARK: - The model

    /// Throws unless `identity` is the model that built the memory and `config` its config.
    /// - Throws: `DocumentMemoryError.otherModel`.
    public func requireModel(_ identity: ModelIdentity, config modelConfig: ModelConfig) throws {
        if let difference = manifest.model.difference(from: identity) {
            throw DocumentMemoryError.otherModel(
                manifest: url(Self.manifestName).path, difference: difference,
                builtWith: manifest.model.checkpoint)
        }
        guard modelConfig == config else {
            throw DocumentMemoryError.notTheCheckpointsModel(checkpoint: identity.checkpoint)
        }
    }

    /// The checkpoint to load: `given`, else the one the memory was built with.
    /// - Throws: `DocumentMemoryError.modelGone` when that one is no longer there.
    public func checkpoint(given: URL?) throws -> URL {
        if let given { return given }
        let recorded = URL(fileURLWithPath: manifest.model.checkpoint)
        let config = recorded.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: config.path) else {
            throw DocumentMemoryError.modelGone(
                manifest: url(Self.manifestName).path, checkpoint: recorded.path)
        }
        return recorded
    }

    // MARK: - Reading

    /// A session that continues after the documents, for questions: the chunks it adds stay
    /// in this process's memory, the memory's files are never written. Every file is checked
    /// first; `identity` must be the model that built the memory.
    /// - Throws: `DocumentMemoryError`, or `InferenceError.snapshotNeedsCPU` on an accelerator.
    public func session(model: LanguageModel, identity: ModelIdentity, maxBlock: Int = 4096)
        throws -> StreamingSession
    {
        guard !(ComputeBackends.current is any StreamingAccelerator) else {
            throw InferenceError.snapshotNeedsCPU
        }
        try requireModel(identity, config: model.config)
        return try session(model: model, restoring: verifiedSnapshot(), maxBlock: maxBlock)
    }

    /// A question session like `session(model:identity:maxBlock:)` from a snapshot that
    /// `verifiedSnapshot()` returned earlier, for a caller that checked the files and the
    /// model once and opens many sessions (`hsa-serve`: one per request). Only the keys/values
    /// file is mapped again (copy-on-write, as `manifest` recorded it).
    /// - Throws: `DocumentMemoryError`, `InferenceError`.
    public func session(
        model: LanguageModel, restoring snapshot: StreamingSnapshot, maxBlock: Int = 4096
    ) throws -> StreamingSession {
        guard !(ComputeBackends.current is any StreamingAccelerator) else {
            throw InferenceError.snapshotNeedsCPU
        }
        let store =
            config.usesHSA
            ? try CopyOnWriteKVStore(
                recordFloats: ChunkMemory.recordFloats(config: config),
                file: url(Self.keysValuesName), precision: precision, records: manifest.chunks)
            : nil
        return try StreamingSession(
            model: model, restoring: snapshot, store: store, maxBlock: maxBlock)
    }

    /// The streaming state, once keys-values.bin, landmarks.bin and the state file have passed
    /// their checksums.
    /// - Throws: `DocumentMemoryError.damaged` naming the first file that fails.
    public func verifiedSnapshot() throws -> StreamingSnapshot {
        _ = try verifiedContents(of: manifest.keysValues, appendOnly: true)
        let landmarkData = try verifiedContents(of: manifest.landmarks, appendOnly: true)
        let stateData = try verifiedContents(of: manifest.state, appendOnly: false)
        let landmarks = landmarkData.withUnsafeBytes { raw in
            MemoryStateFile.floats(raw, count: manifest.landmarks.checksums.bytes / 4)
        }
        return try stateData.withUnsafeBytes { raw in
            try MemoryStateFile.decode(
                raw, path: url(manifest.state.name).path, layout: manifest.stateLayout,
                position: manifest.tokens, landmarks: landmarks, config: config)
        }
    }

    /// The element type of keys-values.bin (checked by `init`).
    var precision: KVPrecision { manifest.precision ?? .fp32 }

    /// The contents of `file`, memory-mapped, once every segment matches its checksum. An
    /// append-only file may be longer than recorded (what an interrupted append left behind,
    /// never read); the state file must be exactly as long.
    private func verifiedContents(of file: DocumentMemoryManifest.File, appendOnly: Bool)
        throws -> Data
    {
        let path = url(file.name).path
        let data: Data
        do { data = try Data(contentsOf: url(file.name), options: .alwaysMapped) } catch {
            throw DocumentMemoryError.damaged(
                file: path, reason: "cannot read (\(fileErrorReason(error)))")
        }
        let expected = file.checksums.bytes
        guard appendOnly ? data.count >= expected : data.count == expected else {
            throw DocumentMemoryError.damaged(
                file: path, reason: "holds \(data.count) bytes, memory.json says \(expected)")
        }
        let mismatch = data.withUnsafeBytes { file.checksums.firstMismatch(in: $0) }
        if let segment = mismatch {
            let range = file.checksums.range(ofSegment: segment)
            throw DocumentMemoryError.damaged(
                file: path,
                reason: "segment \(segment) (bytes \(range.lowerBound)..<\(range.upperBound)) "
                    + "fails its SHA-256 check")
        }
        return data
    }

    // MARK: - Consistency

    /// Throws unless memory.json's numbers agree with each other, so that nothing read later
    /// trusts a count it cannot hold (a file that passed its own checksum may still have been
    /// written by hand).
    private func checkManifest() throws {
        let path = url(Self.manifestName).path
        func require(_ condition: Bool, _ reason: @autoclosure () -> String) throws {
            if !condition { throw DocumentMemoryError.damaged(file: path, reason: reason()) }
        }
        try require(
            manifest.precision != nil, "kv_precision '\(manifest.kvPrecision)' is not fp32 or bf16")
        let files = [
            (manifest.keysValues, Self.keysValuesName), (manifest.landmarks, Self.landmarksName),
            (manifest.state, Self.stateName(generation: manifest.generation)),
        ]
        for (file, name) in files {
            try require(file.name == name, "names '\(file.name)' where '\(name)' belongs")
            try require(file.checksums.isConsistent, "\(name)'s checksums do not fit its size")
        }
        // 2^48 tokens is far beyond any disk, and keeps every size below from overflowing.
        let tokens = manifest.tokens
        try require((0..<(1 << 48)).contains(tokens), "\(tokens) tokens")
        let chunks = config.usesHSA ? tokens / config.chunkSize : 0
        try require(
            manifest.chunks == chunks,
            "\(manifest.chunks) chunks for \(tokens) tokens (chunk_size \(config.chunkSize))")
        let recordBytes = ChunkMemory.recordFloats(config: config) * precision.bytes
        try require(
            manifest.keysValues.checksums.bytes == chunks * recordBytes,
            "\(Self.keysValuesName) of \(manifest.keysValues.checksums.bytes) bytes for "
                + "\(chunks) chunks of \(recordBytes)")
        try require(
            manifest.landmarks.checksums.bytes == chunks * config.resolvedRetrievalDim * 4,
            "\(Self.landmarksName) of \(manifest.landmarks.checksums.bytes) bytes for "
                + "\(chunks) landmarks of \(config.resolvedRetrievalDim) floats")
    }
}
