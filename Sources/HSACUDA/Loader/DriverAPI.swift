// Typed entry points of the CUDA driver API (libcuda), resolved once with dlsym. Each field
// binds exactly the versioned symbol that CUDA 12/13's cuda.h maps the plain name to.

/// The CUDA driver functions hsa uses, as `@convention(c)` function pointers.
public struct DriverAPI: @unchecked Sendable {
    typealias Handle = UnsafeMutablePointer<CUhandle?>

    let cuInit: @convention(c) (UInt32) -> CUresult
    let cuDriverGetVersion: @convention(c) (UnsafeMutablePointer<Int32>) -> CUresult
    let cuDeviceGetCount: @convention(c) (UnsafeMutablePointer<Int32>) -> CUresult
    let cuDeviceGet: @convention(c) (UnsafeMutablePointer<CUdevice>, Int32) -> CUresult
    let cuDeviceGetAttribute:
        @convention(c) (UnsafeMutablePointer<Int32>, Int32, CUdevice) -> CUresult
    let cuDeviceGetName: @convention(c) (UnsafeMutablePointer<CChar>, Int32, CUdevice) -> CUresult
    let cuDeviceTotalMem: @convention(c) (UnsafeMutablePointer<Int>, CUdevice) -> CUresult
    let cuDevicePrimaryCtxRetain: @convention(c) (Handle, CUdevice) -> CUresult
    let cuCtxSetCurrent: @convention(c) (CUhandle?) -> CUresult
    let cuCtxSynchronize: @convention(c) () -> CUresult
    let cuMemAlloc: @convention(c) (UnsafeMutablePointer<CUdeviceptr>, Int) -> CUresult
    let cuMemFree: @convention(c) (CUdeviceptr) -> CUresult
    let cuMemcpyHtoD: @convention(c) (CUdeviceptr, UnsafeRawPointer, Int) -> CUresult
    let cuMemcpyDtoH: @convention(c) (UnsafeMutableRawPointer, CUdeviceptr, Int) -> CUresult
    let cuMemcpyDtoD: @convention(c) (CUdeviceptr, CUdeviceptr, Int) -> CUresult
    let cuMemsetD8: @convention(c) (CUdeviceptr, UInt8, Int) -> CUresult
    let cuMemsetD32: @convention(c) (CUdeviceptr, UInt32, Int) -> CUresult
    let cuModuleLoadData: @convention(c) (Handle, UnsafeRawPointer) -> CUresult
    let cuModuleGetFunction: @convention(c) (Handle, CUhandle?, UnsafePointer<CChar>) -> CUresult
    let cuLaunchKernel:
        @convention(c) (
            CUhandle?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, CUhandle?,
            UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
            UnsafeMutablePointer<UnsafeMutableRawPointer?>?
        ) -> CUresult
    let cuStreamCreate: @convention(c) (Handle, UInt32) -> CUresult
    let cuStreamSynchronize: @convention(c) (CUhandle?) -> CUresult
    let cuEventCreate: @convention(c) (Handle, UInt32) -> CUresult
    let cuEventRecord: @convention(c) (CUhandle?, CUhandle?) -> CUresult
    let cuEventSynchronize: @convention(c) (CUhandle?) -> CUresult
    let cuEventElapsedTime:
        @convention(c) (UnsafeMutablePointer<Float>, CUhandle?, CUhandle?) -> CUresult
    let cuEventDestroy: @convention(c) (CUhandle?) -> CUresult
    let cuGetErrorName:
        @convention(c) (CUresult, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> CUresult
    let cuGetErrorString:
        @convention(c) (CUresult, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> CUresult
    /// Unified memory: one address valid on the host and the device (flags 1 = attach global).
    let cuMemAllocManaged: MemAllocManaged
    /// Free and total device memory in bytes.
    let cuMemGetInfo: MemGetInfo
    let cuMemsetD8Async: Memset8Async
    let cuMemcpyDtoDAsync: CopyDtoDAsync

    /// Resolves every entry point up front.
    /// - Throws: `CUDAError.missingSymbols` listing every symbol the library lacks.
    init(library: DynamicLibrary) throws {
        var missing: [String] = []
        func bind<T>(_ name: String, _ type: T.Type) -> T? {
            library.function(name, as: type, missing: &missing)
        }
        func bind<T>(_ name: String, _ alternatives: [String], _ type: T.Type) -> T? {
            library.function(name, alternatives: alternatives, as: type, missing: &missing)
        }
        let cuInit = bind("cuInit", Self.InitFlags.self)
        let cuDriverGetVersion = bind("cuDriverGetVersion", Self.IntOut.self)
        let cuDeviceGetCount = bind("cuDeviceGetCount", Self.IntOut.self)
        let cuDeviceGet = bind("cuDeviceGet", Self.DeviceGet.self)
        let cuDeviceGetAttribute = bind("cuDeviceGetAttribute", Self.DeviceAttribute.self)
        let cuDeviceGetName = bind("cuDeviceGetName", Self.DeviceName.self)
        let cuDeviceTotalMem = bind("cuDeviceTotalMem_v2", Self.TotalMem.self)
        let retain = bind("cuDevicePrimaryCtxRetain", Self.HandleDevice.self)
        let cuCtxSetCurrent = bind("cuCtxSetCurrent", Self.HandleIn.self)
        let cuCtxSynchronize = bind("cuCtxSynchronize", Self.NoArguments.self)
        let cuMemAlloc = bind("cuMemAlloc_v2", Self.MemAlloc.self)
        let cuMemFree = bind("cuMemFree_v2", Self.MemFree.self)
        let cuMemcpyHtoD = bind("cuMemcpyHtoD_v2", Self.CopyHtoD.self)
        let cuMemcpyDtoH = bind("cuMemcpyDtoH_v2", Self.CopyDtoH.self)
        let cuMemcpyDtoD = bind("cuMemcpyDtoD_v2", Self.CopyDtoD.self)
        let cuMemsetD8 = bind("cuMemsetD8_v2", Self.Memset8.self)
        let cuMemsetD32 = bind("cuMemsetD32_v2", Self.Memset32.self)
        let cuModuleLoadData = bind("cuModuleLoadData", Self.ModuleLoad.self)
        let cuModuleGetFunction = bind("cuModuleGetFunction", Self.GetFunction.self)
        let cuLaunchKernel = bind("cuLaunchKernel", Self.Launch.self)
        let cuStreamCreate = bind("cuStreamCreate", Self.HandleFlags.self)
        let cuStreamSynchronize = bind("cuStreamSynchronize", Self.HandleIn.self)
        let cuEventCreate = bind("cuEventCreate", Self.HandleFlags.self)
        let cuEventRecord = bind("cuEventRecord", Self.HandlePair.self)
        let cuEventSynchronize = bind("cuEventSynchronize", Self.HandleIn.self)
        // CUDA 12.8+ headers map cuEventElapsedTime to _v2 (same signature).
        let elapsed = bind("cuEventElapsedTime_v2", ["cuEventElapsedTime"], Self.Elapsed.self)
        let cuEventDestroy = bind("cuEventDestroy_v2", Self.HandleIn.self)
        let cuGetErrorName = bind("cuGetErrorName", Self.ErrorText.self)
        let cuGetErrorString = bind("cuGetErrorString", Self.ErrorText.self)
        let allocManaged = bind("cuMemAllocManaged", Self.MemAllocManaged.self)
        let memGetInfo = bind("cuMemGetInfo_v2", Self.MemGetInfo.self)
        let memsetAsync = bind("cuMemsetD8Async", Self.Memset8Async.self)
        let copyAsync = bind("cuMemcpyDtoDAsync_v2", Self.CopyDtoDAsync.self)
        guard missing.isEmpty, let cuInit, let cuDriverGetVersion, let cuDeviceGetCount,
            let cuDeviceGet, let cuDeviceGetAttribute, let cuDeviceGetName, let cuDeviceTotalMem,
            let retain, let cuCtxSetCurrent, let cuCtxSynchronize, let cuMemAlloc, let cuMemFree,
            let cuMemcpyHtoD, let cuMemcpyDtoH, let cuMemcpyDtoD, let cuMemsetD8, let cuMemsetD32,
            let cuModuleLoadData, let cuModuleGetFunction, let cuLaunchKernel, let cuStreamCreate,
            let cuStreamSynchronize, let cuEventCreate, let cuEventRecord, let cuEventSynchronize,
            let elapsed, let cuEventDestroy, let cuGetErrorName, let cuGetErrorString,
            let allocManaged, let memGetInfo, let memsetAsync, let copyAsync
        else {
            throw CUDAError.missingSymbols(library: library.path, symbols: missing)
        }
        self.cuInit = cuInit
        self.cuDriverGetVersion = cuDriverGetVersion
        self.cuDeviceGetCount = cuDeviceGetCount
        self.cuDeviceGet = cuDeviceGet
        self.cuDeviceGetAttribute = cuDeviceGetAttribute
        self.cuDeviceGetName = cuDeviceGetName
        self.cuDeviceTotalMem = cuDeviceTotalMem
        self.cuDevicePrimaryCtxRetain = retain
        self.cuCtxSetCurrent = cuCtxSetCurrent
        self.cuCtxSynchronize = cuCtxSynchronize
        self.cuMemAlloc = cuMemAlloc
        self.cuMemFree = cuMemFree
        self.cuMemcpyHtoD = cuMemcpyHtoD
        self.cuMemcpyDtoH = cuMemcpyDtoH
        self.cuMemcpyDtoD = cuMemcpyDtoD
        self.cuMemsetD8 = cuMemsetD8
        self.cuMemsetD32 = cuMemsetD32
        self.cuModuleLoadData = cuModuleLoadData
        self.cuModuleGetFunction = cuModuleGetFunction
        self.cuLaunchKernel = cuLaunchKernel
        self.cuStreamCreate = cuStreamCreate
        self.cuStreamSynchronize = cuStreamSynchronize
        self.cuEventCreate = cuEventCreate
        self.cuEventRecord = cuEventRecord
        self.cuEventSynchronize = cuEventSynchronize
        self.cuEventElapsedTime = elapsed
        self.cuEventDestroy = cuEventDestroy
        self.cuGetErrorName = cuGetErrorName
        self.cuGetErrorString = cuGetErrorString
        self.cuMemAllocManaged = allocManaged
        self.cuMemGetInfo = memGetInfo
        self.cuMemsetD8Async = memsetAsync
        self.cuMemcpyDtoDAsync = copyAsync
    }

    // MARK: - Helpers

    /// Turns a status into a `CUDAError` naming the function, status name and description.
    func check(_ status: CUresult, _ function: String) throws {
        if status == 0 { return }
        var name: UnsafePointer<CChar>? = nil
        var text: UnsafePointer<CChar>? = nil
        _ = cuGetErrorName(status, &name)
        _ = cuGetErrorString(status, &text)
        throw CUDAError.driver(
            function: function, status: status, name: name.map { String(cString: $0) } ?? "?",
            message: text.map { String(cString: $0) } ?? "unknown error")
    }

    typealias InitFlags = @convention(c) (UInt32) -> CUresult
    typealias IntOut = @convention(c) (UnsafeMutablePointer<Int32>) -> CUresult
    typealias DeviceGet = @convention(c) (UnsafeMutablePointer<CUdevice>, Int32) -> CUresult
    typealias DeviceAttribute =
        @convention(c) (UnsafeMutablePointer<Int32>, Int32, CUdevice) -> CUresult
    typealias DeviceName = @convention(c) (UnsafeMutablePointer<CChar>, Int32, CUdevice) -> CUresult
    typealias TotalMem = @convention(c) (UnsafeMutablePointer<Int>, CUdevice) -> CUresult
    typealias HandleDevice = @convention(c) (Handle, CUdevice) -> CUresult
    typealias HandleIn = @convention(c) (CUhandle?) -> CUresult
    typealias HandlePair = @convention(c) (CUhandle?, CUhandle?) -> CUresult
    typealias HandleFlags = @convention(c) (Handle, UInt32) -> CUresult
    typealias NoArguments = @convention(c) () -> CUresult
    typealias MemAlloc = @convention(c) (UnsafeMutablePointer<CUdeviceptr>, Int) -> CUresult
    typealias MemFree = @convention(c) (CUdeviceptr) -> CUresult
    typealias CopyHtoD = @convention(c) (CUdeviceptr, UnsafeRawPointer, Int) -> CUresult
    typealias CopyDtoH = @convention(c) (UnsafeMutableRawPointer, CUdeviceptr, Int) -> CUresult
    typealias CopyDtoD = @convention(c) (CUdeviceptr, CUdeviceptr, Int) -> CUresult
    typealias Memset8 = @convention(c) (CUdeviceptr, UInt8, Int) -> CUresult
    typealias Memset32 = @convention(c) (CUdeviceptr, UInt32, Int) -> CUresult
    typealias ModuleLoad = @convention(c) (Handle, UnsafeRawPointer) -> CUresult
    typealias GetFunction = @convention(c) (Handle, CUhandle?, UnsafePointer<CChar>) -> CUresult
    typealias Launch =
        @convention(c) (
            CUhandle?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, CUhandle?,
            UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
            UnsafeMutablePointer<UnsafeMutableRawPointer?>?
        ) -> CUresult
    typealias Elapsed =
        @convention(c) (UnsafeMutablePointer<Float>, CUhandle?, CUhandle?) -> CUresult
    typealias MemAllocManaged =
        @convention(c) (UnsafeMutablePointer<CUdeviceptr>, Int, UInt32) -> CUresult
    typealias MemGetInfo =
        @convention(c) (UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>) -> CUresult
    typealias Memset8Async = @convention(c) (CUdeviceptr, UInt8, Int, CUhandle?) -> CUresult
    typealias CopyDtoDAsync = @convention(c) (CUdeviceptr, CUdeviceptr, Int, CUhandle?) -> CUresult
    typealias ErrorText =
        @convention(c) (CUresult, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> CUresult
}
