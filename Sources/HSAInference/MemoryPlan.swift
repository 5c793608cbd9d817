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
