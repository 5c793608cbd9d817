import Foundation
import HSACPU
import HSAModel

/// Where a streamed prompt's chunk keys/values should live: in RAM, on disk, or chosen by the
/// prompt's size (`auto`).
public enum KVStoreChoice: String, Sendable, CaseIterable {
    case ram, disk, auto

    /// The store for `prompt`, checked against the free RAM and disk before any work. A file's
    /// size plus BOS bounds its token count (exact for byte tokens; a BPE token is at least one
    /// byte, so a BPE prompt needs no more); standard input's is unknown, so `auto` keeps it on
    /// disk and nothing is checked.
    /// - Parameter diskPath: the directory of a disk store (default: the temporary directory),
    ///   checked whichever store is chosen.
    /// - Throws: ``InferenceError/kvPathNotDirectory(path:)``, or
    ///   ``InferenceError/insufficientSpace(resource:neededBytes:availableBytes:tokens:)`` when
    ///   the prompt's chunk memory would not fit.
    public func storage(
        for prompt: PromptFile, diskPath: String?, config: ModelConfig, precision: KVPrecision
    ) throws -> KVStorage {
        let directory = try KVStorage.diskDirectory(path: diskPath)
        guard let bytes = prompt.byteCount else {
            return self == .ram ? .ram : .disk(directory: directory)
        }
        let plan = MemoryPlan(config: config, tokens: bytes + 1, precision: precision)
        let storage: KVStorage
        switch self {
        case .ram: storage = .ram
        case .disk: storage = .disk(directory: directory)
        case .auto: storage = plan.automaticStorage(diskDirectory: directory)
        }
        try plan.check(storage: storage)
        return storage
    }
}

extension KVStorage {
    /// The directory a disk store would use: `path`, or the temporary directory.
    /// - Throws: ``InferenceError/kvPathNotDirectory(path:)`` unless it is an existing directory.
    public static func diskDirectory(path: String?) throws -> URL {
        let directory =
            path.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
            isDirectory.boolValue
        else {
            throw InferenceError.kvPathNotDirectory(path: directory.path)
        }
        return directory
    }
}
