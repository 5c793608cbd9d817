import Foundation
import HSACPU
import HSAModel

/// Where the chunk memory keeps its keys and values.
public enum KVStorage: Sendable, Equatable {
    /// In RAM (`RAMKVStore`).
    case ram
    /// In a temporary, memory-mapped file in `directory` (`DiskKVStore`).
    case disk(directory: URL)
}

/// The streamed chunk memory: every completed chunk's landmark (contiguous in the backend's
/// memory, read by every retrieval) and its keys/values (in a `KVStore`, read only for selected
/// chunks).
public final class ChunkMemory {
    /// The keys and values, one (2, S, NKV, HS) record per chunk.
    public let store: any KVStore
    /// (NC, NKV*DR) landmarks, never trimmed.
    let landmarkRows: RowWindow

    /// An empty memory for `config`, storing keys/values as `storage` says, in `precision`;
    /// with an `accelerator` they go to its memory instead (`DeviceKVStore`) and `storage` is
    /// not used.
    public init(
        config: ModelConfig, storage: KVStorage, precision: KVPrecision = .fp32,
        accelerator: (any StreamingAccelerator)? = nil
    ) throws {
        let recordFloats = Self.recordFloats(config: config)
        if let accelerator {
            store = try DeviceKVStore(
                recordFloats: recordFloats, precision: precision, accelerator: accelerator)
        } else {
            switch storage {
            case .ram: store = RAMKVStore(recordFloats: recordFloats, precision: precision)
            case .disk(let directory):
                store = try DiskKVStore(
                    recordFloats: recordFloats, directory: directory, precision: precision)
            }
        }
        landmarkRows = RowWindow(width: config.resolvedRetrievalDim, capacity: 64)
    }

    /// A memory of the chunks already in `store`, with their `landmarks` (NC, NKV*DR) in host
    /// memory (a restored session's; the caller checks that the counts agree).
    init(config: ModelConfig, store: any KVStore, landmarks: [Float]) {
        self.store = store
        let width = config.resolvedRetrievalDim
        landmarkRows = RowWindow(width: width, capacity: max(64, landmarks.count / width))
        landmarkRows.restore(firstPosition: 0, rows: landmarks)
    }

    /// Elements of one chunk's key/value record: 2 * S * NKV * HS.
    public static func recordFloats(config: ModelConfig) -> Int {
        2 * config.chunkSize * config.nKvHeads * config.headDim
    }

    /// NC, chunks stored.
    public var chunkCount: Int { landmarkRows.count }
    /// (NC, NKV, DR) landmarks in the backend's memory; valid until the next append.
    public var landmarks: UnsafePointer<Float> { UnsafePointer(landmarkRows.rows) }
    /// Bytes of landmarks allocated (RAM, or the device under an accelerator).
    public var landmarkBytes: Int { landmarkRows.allocatedBytes }

    /// Appends the `chunks` chunks of `encoded` (landmarks (chunks, NKV*DR), keys and values
    /// (chunks*S, NKV*HS)).
    public func append(_ encoded: ChunkMemoryTensors, chunks: Int) throws {
        try store.append(keys: encoded.keys.data, values: encoded.values.data, chunks: chunks)
        landmarkRows.append(encoded.landmarks.data, rows: chunks)
    }
}
