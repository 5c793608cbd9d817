// Typed entry points of NVRTC (libnvrtc), the run-time CUDA C++ compiler.

/// The NVRTC functions hsa uses, as `@convention(c)` function pointers.
public struct NVRTCAPI: @unchecked Sendable {
    typealias Program = OpaquePointer
    typealias CreateProgram =
        @convention(c) (
            UnsafeMutablePointer<Program?>, UnsafePointer<CChar>, UnsafePointer<CChar>?, Int32,
            UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?
        ) -> NVRTCResult
    typealias CompileProgram =
        @convention(c) (Program?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> NVRTCResult
    typealias SizeOut = @convention(c) (Program?, UnsafeMutablePointer<Int>) -> NVRTCResult
    typealias BytesOut = @convention(c) (Program?, UnsafeMutablePointer<CChar>) -> NVRTCResult
    typealias DestroyProgram = @convention(c) (UnsafeMutablePointer<Program?>) -> NVRTCResult
    typealias Version =
        @convention(c) (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> NVRTCResult
    typealias ErrorString = @convention(c) (NVRTCResult) -> UnsafePointer<CChar>?

    let nvrtcCreateProgram: CreateProgram
    let nvrtcCompileProgram: CompileProgram
    let nvrtcGetCUBINSize: SizeOut
    let nvrtcGetCUBIN: BytesOut
    let nvrtcGetPTXSize: SizeOut
    let nvrtcGetPTX: BytesOut
    let nvrtcGetProgramLogSize: SizeOut
    let nvrtcGetProgramLog: BytesOut
    let nvrtcDestroyProgram: DestroyProgram
    let nvrtcVersion: Version
    let nvrtcGetErrorString: ErrorString

    /// Resolves every entry point up front.
    /// - Throws: `CUDAError.missingSymbols` listing every symbol the library lacks.
    init(library: DynamicLibrary) throws {
        var missing: [String] = []
        func bind<T>(_ name: String, _ type: T.Type) -> T? {
            library.function(name, as: type, missing: &missing)
        }
        let create = bind("nvrtcCreateProgram", CreateProgram.self)
        let compile = bind("nvrtcCompileProgram", CompileProgram.self)
        let cubinSize = bind("nvrtcGetCUBINSize", SizeOut.self)
        let cubin = bind("nvrtcGetCUBIN", BytesOut.self)
        let ptxSize = bind("nvrtcGetPTXSize", SizeOut.self)
        let ptx = bind("nvrtcGetPTX", BytesOut.self)
        let logSize = bind("nvrtcGetProgramLogSize", SizeOut.self)
        let log = bind("nvrtcGetProgramLog", BytesOut.self)
        let destroy = bind("nvrtcDestroyProgram", DestroyProgram.self)
        let version = bind("nvrtcVersion", Version.self)
        let errorString = bind("nvrtcGetErrorString", ErrorString.self)
        guard missing.isEmpty, let create, let compile, let cubinSize, let cubin, let ptxSize,
            let ptx, let logSize, let log, let destroy, let version, let errorString
        else {
            throw CUDAError.missingSymbols(library: library.path, symbols: missing)
        }
        nvrtcCreateProgram = create
        nvrtcCompileProgram = compile
        nvrtcGetCUBINSize = cubinSize
        nvrtcGetCUBIN = cubin
        nvrtcGetPTXSize = ptxSize
        nvrtcGetPTX = ptx
        nvrtcGetProgramLogSize = logSize
        nvrtcGetProgramLog = log
        nvrtcDestroyProgram = destroy
        nvrtcVersion = version
        nvrtcGetErrorString = errorString
    }

    /// Throws `CUDAError.nvrtc` for a failed status.
    func check(_ status: NVRTCResult, _ function: String, log: String = "") throws {
        if status == 0 { return }
        let text = nvrtcGetErrorString(status).map { String(cString: $0) } ?? "?"
        throw CUDAError.nvrtc(function: function, status: status, message: text, log: log)
    }

    /// NVRTC's (major, minor) version.
    func version() -> (major: Int, minor: Int) {
        var major: Int32 = 0
        var minor: Int32 = 0
        _ = nvrtcVersion(&major, &minor)
        return (Int(major), Int(minor))
    }
}
