import Foundation
import HSACore

// NCCL, loaded on first use with the search order of the other CUDA libraries:
// HSA_NCCL_LIBRARY, libnccl.so, libnccl.so.2, $CUDA_PATH/lib64, /usr/local/cuda/lib64.
// PyTorch's pip wheels ship it as site-packages/nvidia/nccl/lib/libnccl.so.2.

// MARK: - Library

/// The loaded NCCL library and its entry points.
public final class NCCLLibrary: @unchecked Sendable {
    /// The file dlopen mapped.
    public let library: DynamicLibrary
    let api: NCCLAPI

    init(environment: [String: String]) throws {
        do {
            library = try DynamicLibrary.open(
                name: "NCCL", environmentKey: .ncclLibrary, baseName: "libnccl.so",
                versions: ["2"], environment: environment)
        } catch CUDAError.libraryNotFound(_, let tried, let lastError) {
            throw NCCLError.libraryNotFound(tried: tried, lastError: lastError)
        }
        api = try NCCLAPI(library: library)
    }

    /// NCCL's version, e.g. "2.21.5".
    public var version: String { api.versionString() }
}

// MARK: - NCCL

/// Namespace of NCCL loading.
public enum NCCL {
    private static let loadResult: Result<NCCLLibrary, any Error> = Result {
        try NCCLLibrary(environment: ProcessInfo.processInfo.environment)
    }

    /// The loaded library.
    /// - Throws: why loading failed (`NCCLError.libraryNotFound`, missing symbols).
    public static func library() throws -> NCCLLibrary { try loadResult.get() }

    /// Why NCCL is unavailable (nil when it loads).
    public static var unavailableReason: String? {
        if case .failure(let error) = loadResult { return "\(error)" }
        return nil
    }
}

// MARK: - Errors

/// What can go wrong with NCCL: loading, calls, the id rendezvous, and collectives that a dead
/// or hung peer never completes.
public enum NCCLError: Error, CustomStringConvertible, Sendable {
    /// No candidate file could be dlopened.
    case libraryNotFound(tried: [String], lastError: String)
    /// An NCCL call failed.
    case call(String)
    /// The unique id file of rank 0 did not appear in time, or is malformed.
    case uniqueId(String)
    /// A collective did not finish within the timeout; the communicator was aborted.
    case timeout(rank: Int, operation: String, seconds: Double)
    /// NCCL reported an asynchronous error (e.g. a peer's connection broke); aborted.
    case asyncError(rank: Int, message: String)
    /// The launcher that started this rank exited; aborted.
    case launcherGone(rank: Int)

    public var description: String {
        switch self {
        case .libraryNotFound(let tried, let lastError):
            return "NCCL: could not load libnccl; tried " + tried.joined(separator: ", ")
                + " (last dlopen error: \(lastError)); hint: install NCCL (e.g. "
                + "`pip install nvidia-nccl-cu12`, or it comes with PyTorch) and point "
                + "HSA_NCCL_LIBRARY at libnccl.so.2"
        case .call(let message): return message
        case .uniqueId(let message): return "NCCL unique id: \(message)"
        case .timeout(let rank, let operation, let seconds):
            return "rank \(rank): NCCL \(operation) did not finish within "
                + String(format: "%.0f", seconds) + " s (a peer rank died or hangs); aborted the "
                + "communicator; hint: resume from the last checkpoint with --resume "
                + "(HSA_NCCL_TIMEOUT sets the limit in seconds)"
        case .asyncError(let rank, let message):
            return "rank \(rank): \(message); aborted the communicator; hint: resume from the "
                + "last checkpoint with --resume"
        case .launcherGone(let rank):
            return "rank \(rank): the launcher exited; aborted the communicator"
        }
    }
}
