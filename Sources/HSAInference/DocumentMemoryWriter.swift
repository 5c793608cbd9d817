import Foundation
import HSACPU
import HSACore
import HSAData
import HSAModel

/// Builds a document memory or extends one: reads documents as tokens through a streaming
/// session whose chunk keys/values go straight into the memory's keys-values.bin, then
/// `commit` writes the rest of the state and memory.json.
///
/// The writer holds the directory's lock from creation to deinit, so two writers never
/// interleave. A memory is what its last memory.json says: until `commit` renames the new one
/// into place, readers (and a crash) see the previous state, and the bytes appended after the
/// previous records are ignored (and cut off by the next writer).
public final class DocumentMemoryWriter {
    /// The memory's directory.
    public let directory: URL
    /// The session reading the documents.
    public let session: StreamingSession
    /// Held, never read: other writers are refused until this writer goes.
    private let lock: DirectoryLock
    private let store: DiskKVStore
    private let identity: ModelIdentity
    private let precision: KVPrecision
    private let segmentBytes: Int
    /// memory.json as last committed (nil until a new memory's first commit).
    private var committed: DocumentMemoryManifest?
    private var documents: [DocumentMemoryManifest.Document]

    /// A writer of a new memory in `directory` (created if needed; it must be empty), for the
    /// model `model` whose checkpoint is `identity`. `segmentBytes` sets the checksum segments.
    /// - Throws: `DocumentMemoryError`, `DirectoryLockError`, `InferenceError`.
    public convenience init(
        creating directory: URL, model: LanguageModel, identity: ModelIdentity,
        precision: KVPrecision = .fp32, maxBlock: Int = 4096, segmentBytes: Int = 16 << 20
    ) throws {
        try Self.requireCPU()
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true)
        } catch {
            throw DocumentMemoryError.cannotWrite(
                path: directory.path, reason: fileErrorReason(error))
        }
        let lock = try DirectoryLock(directory: directory)
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        guard contents.allSatisfy({ $0 == DirectoryLock.fileName }) else {
            throw DocumentMemoryError.notEmpty(
                directory: directory.path,
                holdsMemory: contents.contains(DocumentMemory.manifestName))
        }
        guard model.config == identity.config else {
            throw DocumentMemoryError.notTheCheckpointsModel(checkpoint: identity.checkpoint)
        }
        try self.init(
            directory: directory, lock: lock, model: model, identity: identity,
            snapshot: .empty(config: model.config), committed: nil, precision: precision,
            maxBlock: maxBlock, segmentBytes: segmentBytes)
    }

    /// A writer that extends the memory in `directory`, built with `identity`'s model.
    /// Every file of the memory is checked first.
    /// - Throws: `DocumentMemoryError`, `DirectoryLockError`, `InferenceError`.
    public convenience init(
        appendingTo directory: URL, model: LanguageModel, identity: ModelIdentity,
        maxBlock: Int = 4096
    ) throws {
        try Self.requireCPU()
        let manifestURL = directory.appendingPathComponent(DocumentMemory.manifestName)
        guard FileManager.default.fileExists(atPath: manifestURL.path) else {
            throw DocumentMemoryError.notAMemory(directory: directory.path)
        }
        // Locked before memory.json is read: no other writer commits while this one reads.
        let lock = try DirectoryLock(directory: directory)
        let memory = try DocumentMemory(at: directory)
        try memory.requireModel(identity, config: model.config)
        try self.init(
            directory: directory, lock: lock, model: model, identity: identity,
            snapshot: memory.verifiedSnapshot(), committed: memory.manifest,
            precision: memory.precision, maxBlock: maxBlock,
            segmentBytes: memory.manifest.keysValues.checksums.segmentBytes)
    }

    private init(
        directory: URL, lock: DirectoryLock, model: LanguageModel, identity: ModelIdentity,
        snapshot: StreamingSnapshot, committed: DocumentMemoryManifest?, precision: KVPrecision,
        maxBlock: Int, segmentBytes: Int
    ) throws {
        self.directory = directory
        self.lock = lock
        self.identity = identity
        self.precision = precision
        self.segmentBytes = segmentBytes
        self.committed = committed
        documents = committed?.documents ?? []
        // The file exists even for a model without chunk memory: every memory has the same
        // files.
        store = try DiskKVStore(
            recordFloats: ChunkMemory.recordFloats(config: model.config),
            file: directory.appendingPathComponent(DocumentMemory.keysValuesName),
            precision: precision, keepingRecords: committed?.chunks ?? 0)
        session = try StreamingSession(
            model: model, restoring: snapshot, store: model.config.usesHSA ? store : nil,
            maxBlock: maxBlock)
    }

    // MARK: - Reading

    /// Reads `documents` (files, in this order, back to back; BOS first when the memory is
    /// new) as the tokens of `tokenizer` (one ``makeStreamingEncoder(for:addBOS:)`` knows),
    /// each file in blocks of `blockBytes`, calling `progress` with the tokens read so far
    /// after each block. The files are encoded as one text; a BPE piece never spans two calls.
    /// The memory on disk changes only at `commit`.
    /// - Throws: `DocumentMemoryError` (a missing or unreadable file, before anything is read),
    ///   `InferenceError` (no room for the chunk memory; a failed write).
    public func read(
        documents paths: [URL], tokenizer: any Tokenizer = ByteTokenizer(),
        blockBytes: Int = 1 << 16, progress: (Int) -> Void = { _ in }
    ) throws {
        guard var encoder = makeStreamingEncoder(for: tokenizer, addBOS: session.position == 0)
        else { preconditionFailure("no streaming encoder for \(type(of: tokenizer))") }
        let sizes = try paths.map(Self.documentSize)
        // Checked up front, like `hsa complete`. Bytes bound the tokens (a token is at least
        // one byte), so a memory too large for the disk stops now.
        let plan = MemoryPlan(
            config: session.config, tokens: sizes.reduce(1, +), precision: precision)
        try plan.check(storage: .disk(directory: directory))
        for url in paths {
            let handle: FileHandle
            do { handle = try FileHandle(forReadingFrom: url) } catch {
                throw DocumentMemoryError.unreadableDocument(
                    path: url.relativePath, reason: fileErrorReason(error))
            }
            defer { try? handle.close() }
            var bytes = 0
            while true {
                let block: Data
                do { block = try handle.read(upToCount: max(1, blockBytes)) ?? Data() } catch {
                    throw DocumentMemoryError.unreadableDocument(
                        path: url.relativePath, reason: fileErrorReason(error))
                }
                if block.isEmpty { break }
                bytes += block.count
                try session.prefill(tokens: encoder.encode(block))
                progress(session.position)
            }
            documents.append(.init(path: url.relativePath, bytes: bytes))
        }
        try session.prefill(tokens: encoder.finish(addEOS: false))  // BOS if nothing was read
    }

    /// The size of the document at `url`, which must be a readable regular file.
    private static func documentSize(_ url: URL) throws -> Int {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw DocumentMemoryError.unreadableDocument(
                path: url.relativePath, reason: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw DocumentMemoryError.unreadableDocument(
                path: url.relativePath, reason: "is a directory; give files")
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        return (attributes?[.size] as? NSNumber)?.intValue ?? 0
    }

    // MARK: - Commit

    /// Writes everything read so far into the memory: keys/values synced, the new landmarks
    /// appended, a new state file, and last memory.json, renamed into place (the moment the
    /// memory changes). Returns the new memory.json.
    @discardableResult
    public func commit() throws -> DocumentMemoryManifest {
        let config = session.config
        let snapshot = try session.snapshot()
        let generation = (committed?.generation ?? 0) + 1
        try store.synchronize()
        let landmarkBytes = snapshot.landmarks.count * 4
        try appendLandmarks(snapshot.landmarks, after: committed?.landmarks.checksums.bytes ?? 0)
        let (state, layout) = MemoryStateFile.encode(snapshot, config: config)
        let stateName = DocumentMemory.stateName(generation: generation)
        try write(state, to: stateName)

        let manifest = DocumentMemoryManifest(
            model: identity, tokens: session.position, chunks: session.memory?.chunkCount ?? 0,
            kvPrecision: precision.rawValue, documents: documents, generation: generation,
            keysValues: .init(
                name: DocumentMemory.keysValuesName,
                checksums: try checksums(
                    of: DocumentMemory.keysValuesName, bytes: store.storedBytes,
                    extending: committed?.keysValues.checksums)),
            landmarks: .init(
                name: DocumentMemory.landmarksName,
                checksums: try checksums(
                    of: DocumentMemory.landmarksName, bytes: landmarkBytes,
                    extending: committed?.landmarks.checksums)),
            state: .init(
                name: stateName,
                checksums: state.withUnsafeBytes {
                    SegmentChecksums(of: $0, segmentBytes: segmentBytes)
                }),
            stateLayout: layout)
        try write(manifest.encoded(), to: DocumentMemory.manifestName)
        committed = manifest
        removeStateFiles(before: generation - 1)
        return manifest
    }

    /// Appends the landmarks after the first `committedBytes` bytes of landmarks.bin (cutting
    /// off whatever an interrupted writer left after them), then syncs the file.
    private func appendLandmarks(_ landmarks: [Float], after committedBytes: Int) throws {
        let url = directory.appendingPathComponent(DocumentMemory.landmarksName)
        do {
            if !FileManager.default.fileExists(atPath: url.path) {
                _ = FileManager.default.createFile(atPath: url.path, contents: nil)
            }
            let handle = try FileHandle(forUpdating: url)
            defer { try? handle.close() }
            try handle.truncate(atOffset: UInt64(committedBytes))
            try handle.seekToEnd()
            let new = landmarks[(committedBytes / 4)...]
            try new.withUnsafeBytes { try handle.write(contentsOf: Data($0)) }
            try handle.synchronize()
        } catch {
            throw DocumentMemoryError.cannotWrite(path: url.path, reason: fileErrorReason(error))
        }
    }

    /// The checksums of the first `bytes` bytes of the file `name`, rehashing only what
    /// follows the complete segments of `previous`.
    private func checksums(of name: String, bytes: Int, extending previous: SegmentChecksums?)
        throws -> SegmentChecksums
    {
        let url = directory.appendingPathComponent(name)
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw DocumentMemoryError.cannotWrite(path: url.path, reason: fileErrorReason(error))
        }
        guard data.count >= bytes else {
            throw DocumentMemoryError.cannotWrite(
                path: url.path, reason: "holds \(data.count) bytes after \(bytes) were written")
        }
        return data.withUnsafeBytes { raw in
            let written = UnsafeRawBufferPointer(rebasing: raw[..<bytes])
            return previous?.extended(to: written)
                ?? SegmentChecksums(of: written, segmentBytes: segmentBytes)
        }
    }

    /// Writes `data` to the file `name` atomically (synced, then renamed into place).
    private func write(_ data: Data, to name: String) throws {
        let url = directory.appendingPathComponent(name)
        do { try AtomicFile.write(data, to: url) } catch {
            throw DocumentMemoryError.cannotWrite(path: url.path, reason: "\(error)")
        }
    }

    /// Deletes the state files of generations before `generation`. The previous one stays: a
    /// reader that read the previous memory.json an instant before this commit still finds it.
    private func removeStateFiles(before generation: Int) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasPrefix("state-") && name.hasSuffix(".bin") {
            let number = Int(name.dropFirst("state-".count).dropLast(".bin".count))
            if let number, number < generation {
                try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
            }
        }
    }

    private static func requireCPU() throws {
        if ComputeBackends.current is any StreamingAccelerator {
            throw InferenceError.snapshotNeedsCPU
        }
    }
}
