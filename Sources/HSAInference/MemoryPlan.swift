import Foundation
import HSACPU
import HSAModel

/// What the chunk memory of a prompt needs, decided before the prefill starts so that a prompt
/// too large for the machine fails at once with the numbers instead of hours later.
public struct MemoryPlan: Sendable, Equatable {
    /// Prompt tokens planned for.
    public let tokens: Int
    /// Keys and values of every complete chunk, in bytes (RAM or disk, by the store).
    public let keyValueBytes: Int
    /// Landmarks of every chunk, in bytes (always RAM).
    public let landmarkBytes: Int

    /// The plan for `tokens` prompt tokens of a model with `config`.
    public init(config: ModelConfig, tokens: Int, precision: KVPrecision) {
        let chunks = config.usesHSA ? tokens / config.chunkSize : 0
        self.tokens = tokens
        keyValueBytes =
            chunks * 2 * config.chunkSize * config.nKvHeads * config.headDim
            * precision.bytes
        landmarkBytes = chunks * config.resolvedRetrievalDim * MemoryLayout<Float>.stride
    }

    /// RAM while keys and values take under a quarter of the available memory, else a
    /// temporary file in `diskDirectory`.
    public func automaticStorage(diskDirectory: URL, availableMemory: Int? = nil) -> KVStorage {
        let memory = availableMemory ?? Self.availableMemoryBytes()
        return keyValueBytes + landmarkBytes < memory / 4 ? .ram : .disk(directory: diskDirectory)
    }

    /// Throws `InferenceError.insufficientSpace` when `storage` (or RAM, for the landmarks)
    /// cannot hold the plan. `available` overrides the measured free bytes (tests).
    public func check(storage: KVStorage, availableMemory: Int? = nil, availableDisk: Int? = nil)
        throws
    {
        let memory = availableMemory ?? Self.availableMemoryBytes()
        switch storage {
        case .ram:
            let needed = keyValueBytes + landmarkBytes
            if needed > memory {
                throw InferenceError.insufficientSpace(
                    resource: "RAM", neededBytes: needed, availableBytes: memory, tokens: tokens)
            }
        case .disk(let directory):
            if landmarkBytes > memory {
                throw InferenceError.insufficientSpace(
                    resource: "RAM (landmarks)", neededBytes: landmarkBytes,
                    availableBytes: memory, tokens: tokens)
            }
            let disk = availableDisk ?? Self.freeDiskBytes(at: directory)
            if keyValueBytes > disk {
                throw InferenceError.insufficientSpace(
                    resource: "disk at \(directory.path)", neededBytes: keyValueBytes,
                    availableBytes: disk, tokens: tokens)
            }
        }
    }

    /// The longest prompt whose chunk memory fits `storage` with the RAM and disk free now
    /// (keys/values in the store, landmarks in RAM), at most `cap` tokens: the default limit
    /// of a streamed prompt, so an endless stream stops with an error instead of filling the
    /// machine. A model without chunk memory needs none, and gets `cap`.
    public static func largestPrompt(
        config: ModelConfig, precision: KVPrecision, storage: KVStorage, cap: Int = 1 << 32,
        availableMemory: Int? = nil, availableDisk: Int? = nil
    ) -> Int {
        let perChunk = MemoryPlan(config: config, tokens: config.chunkSize, precision: precision)
        guard perChunk.keyValueBytes + perChunk.landmarkBytes > 0 else { return cap }
        let memory = availableMemory ?? availableMemoryBytes()
        let chunks: Int
        switch storage {
        case .ram:
            chunks = memory / (perChunk.keyValueBytes + perChunk.landmarkBytes)
        case .disk(let directory):
            let disk = availableDisk ?? freeDiskBytes(at: directory)
            chunks = min(
                memory / max(perChunk.landmarkBytes, 1), disk / max(perChunk.keyValueBytes, 1))
        }
        // The tokens after the last complete chunk are kept in the window cache, not here.
        // No overflow: a chunk needs at least one byte per token, so this is at most the
        // free bytes.
        return min(cap, max(2, chunks * config.chunkSize + config.chunkSize - 1))
    }

    /// MemAvailable from /proc/meminfo, else the physical memory.
    public static func availableMemoryBytes() -> Int {
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
                if let kilobytes = line.split(separator: " ").compactMap({ Int($0) }).first {
                    return kilobytes * 1024
                }
            }
        }
        return Int(ProcessInfo.processInfo.physicalMemory)
    }

    /// Free bytes of the file system holding `directory` (0 when it cannot be read).
    public static func freeDiskBytes(at directory: URL) -> Int {
        let attributes = try? FileManager.default.attributesOfFileSystem(forPath: directory.path)
        return (attributes?[.systemFreeSize] as? NSNumber)?.intValue ?? 0
    }
}
