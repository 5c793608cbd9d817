#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Typed entry points of NCCL (libnccl.so.2), resolved once with dlsym. NCCL is optional: the
// CUDA backend works without it; only multi-GPU training loads it (`NCCL.library()`).

/// `ncclResult_t` (0 = ncclSuccess, 7 = ncclInProgress).
public typealias NCCLResult = Int32
/// `ncclComm_t`, an opaque communicator.
typealias NCCLComm = OpaquePointer

#if os(Linux)
    /// `ncclUniqueId` passed BY VALUE to `ncclCommInitRank`: a C struct of 128 bytes. Without a
    /// C header we need some imported C struct of that exact size to make Swift pass it the way
    /// C would; glibc's `sigset_t` (16 unsigned longs) is one. Both are "MEMORY" class on
    /// x86-64 (copied to the stack) and both are passed by reference to a copy on AArch64
    /// (composites over 16 bytes), so the call is ABI-identical. `NCCLAPI.init` checks the size.
    typealias NCCLUniqueIdByValue = sigset_t
#else
    /// Placeholder: NCCL exists only on Linux.
    typealias NCCLUniqueIdByValue = (UInt64, UInt64)
#endif

/// The NCCL functions hsa uses, as `@convention(c)` function pointers.
public struct NCCLAPI: @unchecked Sendable {
    typealias GetVersion = @convention(c) (UnsafeMutablePointer<Int32>) -> NCCLResult
    typealias GetUniqueId = @convention(c) (UnsafeMutableRawPointer) -> NCCLResult
    typealias CommInitRank =
        @convention(c) (UnsafeMutablePointer<NCCLComm?>, Int32, NCCLUniqueIdByValue, Int32) ->
        NCCLResult
    /// (sendbuff, recvbuff, count, datatype, op, comm, stream)
    typealias AllReduce =
        @convention(c) (
            UnsafeRawPointer?, UnsafeMutableRawPointer?, Int, Int32, Int32, NCCLComm?, CUhandle?
        ) -> NCCLResult
    typealias CommGetAsyncError =
        @convention(c) (NCCLComm?, UnsafeMutablePointer<NCCLResult>) -> NCCLResult
    typealias CommHandle = @convention(c) (NCCLComm?) -> NCCLResult
    typealias GetErrorString = @convention(c) (NCCLResult) -> UnsafePointer<CChar>?
    typealias GetLastError = @convention(c) (NCCLComm?) -> UnsafePointer<CChar>?

    /// `ncclDataType_t` values (nccl.h).
    enum DataType: Int32 {
        case float32 = 7
        case float64 = 8
    }

    /// `ncclRedOp_t` ncclSum.
    static let sum: Int32 = 0
    /// The bytes of an `ncclUniqueId`.
    public static let uniqueIdBytes = 128

    let ncclGetVersion: GetVersion
    let ncclGetUniqueId: GetUniqueId
    let ncclCommInitRank: CommInitRank
    let ncclAllReduce: AllReduce
    let ncclCommGetAsyncError: CommGetAsyncError
    let ncclCommAbort: CommHandle
    let ncclCommDestroy: CommHandle
    let ncclGetErrorString: GetErrorString
    /// NCCL 2.13+; nil before.
    let ncclGetLastError: GetLastError?

    /// Resolves every entry point up front.
    /// - Throws: `CUDAError.missingSymbols` listing every symbol the library lacks.
    init(library: DynamicLibrary) throws {
        guard MemoryLayout<NCCLUniqueIdByValue>.size == Self.uniqueIdBytes else {
            throw CUDAError.invalidArgument(
                "NCCL: no 128-byte C struct to pass ncclUniqueId by value on this platform")
        }
        var missing: [String] = []
        func bind<T>(_ name: String, _ type: T.Type) -> T? {
            library.function(name, as: type, missing: &missing)
        }
        let getVersion = bind("ncclGetVersion", GetVersion.self)
        let getUniqueId = bind("ncclGetUniqueId", GetUniqueId.self)
        let initRank = bind("ncclCommInitRank", CommInitRank.self)
        let allReduce = bind("ncclAllReduce", AllReduce.self)
        let asyncError = bind("ncclCommGetAsyncError", CommGetAsyncError.self)
        let abort = bind("ncclCommAbort", CommHandle.self)
        let destroy = bind("ncclCommDestroy", CommHandle.self)
        let errorString = bind("ncclGetErrorString", GetErrorString.self)
        guard missing.isEmpty, let getVersion, let getUniqueId, let initRank, let allReduce,
            let asyncError, let abort, let destroy, let errorString
        else {
            throw CUDAError.missingSymbols(library: library.path, symbols: missing)
        }
        ncclGetVersion = getVersion
        ncclGetUniqueId = getUniqueId
        ncclCommInitRank = initRank
        ncclAllReduce = allReduce
        ncclCommGetAsyncError = asyncError
        ncclCommAbort = abort
        ncclCommDestroy = destroy
        ncclGetErrorString = errorString
        var optional: [String] = []
        ncclGetLastError = library.function(
            "ncclGetLastError", as: GetLastError.self, missing: &optional)
    }

    /// The library version as "2.21.5" (NCCL >= 2.9 encodes it as major·10000 + minor·100 + patch).
    func versionString() -> String {
        var code: Int32 = 0
        guard ncclGetVersion(&code) == 0 else { return "?" }
        if code >= 10000 { return "\(code / 10000).\(code % 10000 / 100).\(code % 100)" }
        return "\(code / 1000).\(code % 1000 / 100).\(code % 100)"
    }

    /// nccl.h's name for a result.
    static func resultName(_ result: NCCLResult) -> String {
        switch result {
        case 0: return "ncclSuccess"
        case 1: return "ncclUnhandledCudaError"
        case 2: return "ncclSystemError"
        case 3: return "ncclInternalError"
        case 4: return "ncclInvalidArgument"
        case 5: return "ncclInvalidUsage"
        case 6: return "ncclRemoteError"
        case 7: return "ncclInProgress"
        default: return "ncclResult \(result)"
        }
    }

    /// A message for a failed `function`: result name, NCCL's text and its last error.
    func message(_ result: NCCLResult, _ function: String, comm: NCCLComm? = nil) -> String {
        let text = ncclGetErrorString(result).map { String(cString: $0) } ?? ""
        let last = ncclGetLastError?(comm).map { String(cString: $0) } ?? ""
        return "NCCL: \(function) failed with \(Self.resultName(result)) (\(result)): \(text)"
            + (last.isEmpty ? "" : " (\(last))")
    }
}
