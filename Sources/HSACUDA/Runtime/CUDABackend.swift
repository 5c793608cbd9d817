import Foundation
import HSACore

// The state every launcher needs: device, stream, compiled modules, cuBLAS handle and a
// scratch workspace. Launchers live in Ops/ as extensions.

// MARK: - Kernel arguments

/// One kernel parameter as passed to cuLaunchKernel.
public enum KernelArgument {
    /// A device buffer's address (`float*`, `int*`).
    case buffer(DeviceBuffer)
    /// A null pointer.
    case null
    /// An `int`.
    case int(Int32)
    /// A `long long`.
    case int64(Int64)
    /// A `float`.
    case float(Float)
    /// A `double`.
    case double(Double)
    /// A by-value struct of `int` fields (e.g. `HsaAttentionShape`).
    case int32Struct([Int32])
}

extension KernelArgument {
    /// A new 8-byte-aligned slot holding the argument as the kernel reads it (the caller
    /// deallocates it after the launch).
    func makeSlot() -> UnsafeMutableRawPointer {
        switch self {
        case .buffer(let buffer): return Self.slot(holding: buffer.address)
        case .null: return Self.slot(holding: UInt64(0))
        case .int(let value): return Self.slot(holding: value)
        case .int64(let value): return Self.slot(holding: value)
        case .float(let value): return Self.slot(holding: value)
        case .double(let value): return Self.slot(holding: value)
        case .int32Struct(let fields):
            let slot = UnsafeMutableRawPointer.allocate(
                byteCount: max(4 * fields.count, 8), alignment: 8)
            for (i, field) in fields.enumerated() {
                slot.storeBytes(of: field, toByteOffset: 4 * i, as: Int32.self)
            }
            return slot
        }
    }

    /// An 8-byte slot holding one scalar of at most 8 bytes.
    private static func slot<Scalar: BitwiseCopyable>(holding value: Scalar)
        -> UnsafeMutableRawPointer
    {
        let slot = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
        slot.storeBytes(of: value, as: Scalar.self)
        return slot
    }
}

// MARK: - Backend

/// The CUDA backend: launches NVRTC-compiled kernels and cuBLAS GEMMs on one stream.
/// Methods are not reentrant; use one backend per thread of work.
public final class CUDABackend: @unchecked Sendable {
    /// The device.
    public let device: CUDADevice
    /// The stream every launch goes to.
    public let stream: CUDAStream
    let compiler: KernelCompiler
    let cublasHandle: OpaquePointer?
    /// How GEMMs multiply (`HSA_MATMUL_PRECISION`, default fp32); settable between launches.
    public var matmulPrecision: MatmulPrecision
    /// How attention multiplies (`HSA_ATTENTION_PRECISION`, default fp32); bf16 selects the
    /// tensor-core kernels (dense and sparse) where the shape allows. Settable between launches.
    public var attentionPrecision: AttentionPrecision
    /// Dense attention uses the tiled v2 kernels for HS <= 64 (default true; `HSA_ATTENTION_V1=1`
    /// selects the one-warp-per-row v1 kernels, for comparison).
    public var attentionTiled: Bool
    /// Times every kernel launch with a pair of events (`HSA_CUDA_KERNEL_PROFILE=1`); the
    /// table goes to stderr at exit.
    public let kernelProfiler: CUDAOpProfiler?
    private let lock = NSLock()
    private var modules: [String: CUhandle?] = [:]
    private var functions: [String: CUhandle?] = [:]
    private var workspace: DeviceBuffer?

    /// Creates a backend on `device` with a fresh stream and cuBLAS handle.
    /// - Parameters:
    ///   - device: the GPU.
    ///   - cacheDirectory: kernel cache (default `KernelCache.directory()`; nil disables it).
    public init(device: CUDADevice, cacheDirectory: URL? = KernelCache.directory()) throws {
        self.device = device
        stream = try CUDAStream(device: device)
        compiler = KernelCompiler(device: device, cacheDirectory: cacheDirectory)
        let cublas = device.libraries.cublas
        var handle: OpaquePointer? = nil
        try cublas.check(cublas.cublasCreate(&handle), "cublasCreate_v2")
        try cublas.check(cublas.cublasSetStream(handle, stream.handle), "cublasSetStream_v2")
        // CUBLAS_DEFAULT_MATH: true fp32 (no TF32), so GEMMs match OpenBLAS to fp32 rounding.
        try cublas.check(cublas.cublasSetMathMode(handle, 0), "cublasSetMathMode")
        cublasHandle = handle
        matmulPrecision = try MatmulPrecision.fromEnvironment()
        attentionPrecision = try AttentionPrecision.fromEnvironment()
        attentionTiled = !HSAEnvironment.attentionV1.isOn
        kernelProfiler =
            CUDAOpProfiler.isKernelProfileRequested
            ? CUDAOpProfiler(
                device: device, registerForExit: true,
                title: "per-kernel time (HSA_CUDA_KERNEL_PROFILE)")
            : nil
    }

    deinit { _ = device.libraries.cublas.cublasDestroy(cublasHandle) }

    /// cuBLAS's version number, e.g. 130100.
    public var cublasVersion: Int {
        var version: Int32 = 0
        _ = device.libraries.cublas.cublasGetVersion(cublasHandle, &version)
        return Int(version)
    }

    /// Compiles (or loads from cache) every kernel module now, so timings exclude NVRTC.
    public func warmUp() throws {
        for source in KernelSource.all {
            _ = try module(source)
        }
    }

    /// Waits until all queued work is done; surfaces asynchronous kernel errors.
    public func synchronize() throws {
        try stream.synchronize()
        kernelProfiler?.collect()
    }

    // MARK: - Launching

    /// Launches `entry` from `source` on the backend's stream.
    /// - Parameters:
    ///   - entry: the `extern "C"` kernel name.
    ///   - source: the module holding it.
    ///   - grid: blocks in x, y.
    ///   - block: threads per block.
    ///   - arguments: the kernel parameters in order.
    func launch(
        _ entry: String, in source: KernelSource, grid: (Int, Int), block: Int,
        _ arguments: [KernelArgument]
    ) throws {
        if grid.0 == 0 || grid.1 == 0 { return }
        guard grid.0 <= Int(Int32.max), grid.1 <= 65_535 else {
            throw CUDAError.invalidArgument("\(entry): grid \(grid) exceeds the device limits")
        }
        let function = try self.function(entry, in: source)
        // Each argument gets its own 8-byte-aligned slot; cuLaunchKernel reads through pointers.
        var slots: [UnsafeMutableRawPointer?] = []
        defer { for slot in slots { slot?.deallocate() } }
        for argument in arguments { slots.append(argument.makeSlot()) }
        try device.makeCurrent()
        let driver = device.driver
        let started = kernelProfiler?.begin(on: stream)
        let status = slots.withUnsafeMutableBufferPointer { pointers in
            driver.cuLaunchKernel(
                function, UInt32(grid.0), UInt32(grid.1), 1, UInt32(block), 1, 1, 0,
                stream.handle, pointers.baseAddress, nil)
        }
        kernelProfiler?.end(entry, start: started, on: stream, hostSeconds: 0)
        try driver.check(status, "cuLaunchKernel(\(entry), grid \(grid), block \(block))")
    }

    /// A scratch buffer of at least `floats` Floats, reused across calls (grown on demand).
    func scratch(floats: Int) throws -> DeviceBuffer {
        lock.lock()
        defer { lock.unlock() }
        if let workspace, workspace.count32 >= floats { return workspace }
        let buffer = try DeviceBuffer(device: device, byteCount: max(floats, 1024) * 4)
        workspace = buffer
        return buffer
    }

    // MARK: - Modules

    private func module(_ source: KernelSource) throws -> CUhandle? {
        lock.lock()
        defer { lock.unlock() }
        if let module = modules[source.name] { return module }
        let cubin = try compiler.cubin(source: source.text, name: source.name)
        try device.makeCurrent()
        var module: CUhandle? = nil
        try cubin.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else {
                throw CUDAError.invalidArgument("NVRTC returned an empty CUBIN for \(source.name)")
            }
            try device.driver.check(
                device.driver.cuModuleLoadData(&module, base), "cuModuleLoadData(\(source.name))")
        }
        modules[source.name] = module
        return module
    }

    private func function(_ entry: String, in source: KernelSource) throws -> CUhandle? {
        let module = try self.module(source)
        lock.lock()
        defer { lock.unlock() }
        if let function = functions[entry] { return function }
        var function: CUhandle? = nil
        try device.driver.check(
            device.driver.cuModuleGetFunction(&function, module, entry),
            "cuModuleGetFunction(\(entry))")
        functions[entry] = function
        return function
    }
}
