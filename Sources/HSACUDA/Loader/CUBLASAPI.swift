// Typed entry points of cuBLAS (libcublas). Matrices are column-major; device pointers are
// passed as raw pointers made from `CUdeviceptr` bit patterns.

/// The cuBLAS functions hsa uses, as `@convention(c)` function pointers.
public struct CUBLASAPI: @unchecked Sendable {
    typealias Handle = OpaquePointer
    typealias Create = @convention(c) (UnsafeMutablePointer<Handle?>) -> CUBLASStatus
    typealias Destroy = @convention(c) (Handle?) -> CUBLASStatus
    typealias SetStream = @convention(c) (Handle?, CUhandle?) -> CUBLASStatus
    typealias SetMathMode = @convention(c) (Handle?, Int32) -> CUBLASStatus
    typealias GetVersion = @convention(c) (Handle?, UnsafeMutablePointer<Int32>) -> CUBLASStatus
    typealias Sgemm =
        @convention(c) (
            Handle?, Int32, Int32, Int32, Int32, Int32, UnsafePointer<Float>,
            UnsafeRawPointer?, Int32, UnsafeRawPointer?, Int32, UnsafePointer<Float>,
            UnsafeMutableRawPointer?, Int32
        ) -> CUBLASStatus
    /// cublasGemmEx: (handle, transa, transb, m, n, k, alpha, A, Atype, lda, B, Btype, ldb,
    /// beta, C, Ctype, ldc, computeType, algo).
    typealias GemmEx =
        @convention(c) (
            Handle?, Int32, Int32, Int32, Int32, Int32, UnsafeRawPointer,
            UnsafeRawPointer?, Int32, Int32, UnsafeRawPointer?, Int32, Int32, UnsafeRawPointer,
            UnsafeMutableRawPointer?, Int32, Int32, Int32, Int32
        ) -> CUBLASStatus

    let cublasCreate: Create
    let cublasDestroy: Destroy
    let cublasSetStream: SetStream
    let cublasSetMathMode: SetMathMode
    let cublasGetVersion: GetVersion
    let cublasSgemm: Sgemm
    let cublasGemmEx: GemmEx

    /// Resolves every entry point up front.
    /// - Throws: `CUDAError.missingSymbols` listing every symbol the library lacks.
    init(library: DynamicLibrary) throws {
        var missing: [String] = []
        func bind<T>(_ name: String, _ type: T.Type) -> T? {
            library.function(name, as: type, missing: &missing)
        }
        let create = bind("cublasCreate_v2", Create.self)
        let destroy = bind("cublasDestroy_v2", Destroy.self)
        let setStream = bind("cublasSetStream_v2", SetStream.self)
        let setMathMode = bind("cublasSetMathMode", SetMathMode.self)
        let getVersion = bind("cublasGetVersion_v2", GetVersion.self)
        let sgemm = bind("cublasSgemm_v2", Sgemm.self)
        let gemmEx = bind("cublasGemmEx", GemmEx.self)
        guard missing.isEmpty, let create, let destroy, let setStream, let setMathMode,
            let getVersion, let sgemm, let gemmEx
        else {
            throw CUDAError.missingSymbols(library: library.path, symbols: missing)
        }
        cublasCreate = create
        cublasDestroy = destroy
        cublasSetStream = setStream
        cublasSetMathMode = setMathMode
        cublasGetVersion = getVersion
        cublasSgemm = sgemm
        cublasGemmEx = gemmEx
    }

    /// Throws `CUDAError.cublas` for a failed status.
    func check(_ status: CUBLASStatus, _ function: String) throws {
        if status == 0 { return }
        throw CUDAError.cublas(function: function, status: status, name: Self.statusName(status))
    }

    /// cublas_api.h's name for a status.
    static func statusName(_ status: CUBLASStatus) -> String {
        switch status {
        case 1: return "CUBLAS_STATUS_NOT_INITIALIZED"
        case 3: return "CUBLAS_STATUS_ALLOC_FAILED"
        case 7: return "CUBLAS_STATUS_INVALID_VALUE"
        case 8: return "CUBLAS_STATUS_ARCH_MISMATCH"
        case 11: return "CUBLAS_STATUS_MAPPING_ERROR"
        case 13: return "CUBLAS_STATUS_EXECUTION_FAILED"
        case 14: return "CUBLAS_STATUS_INTERNAL_ERROR"
        case 15: return "CUBLAS_STATUS_NOT_SUPPORTED"
        case 16: return "CUBLAS_STATUS_LICENSE_ERROR"
        default: return "CUBLAS_STATUS_\(status)"
        }
    }
}
