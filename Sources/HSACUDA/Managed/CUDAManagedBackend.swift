import Foundation
import HSACore

// The CUDA backend behind `ComputeBackend`: tensors live in managed (unified) memory, so one
// pointer is valid on the host and the device, and the model's few host loops stay correct.
// Every op runs on the GPU through `CUDABackend`'s launchers, queued on one stream without
// waiting: the host waits only where it reads results (`synchronize`, `sum`, `sumOfSquares`,
// the chunk indices of `chunkSelectForward`). Host index arrays are copied into pooled blocks
// with cuMemcpyHtoDAsync (pageable source: copied out before the call returns), and pooled
// blocks are reused in stream order, so nothing a queued kernel reads is freed under it.
// Shapes beyond the HSA kernels' tiles run on `fallback` (the CPU) over the same pointers.

/// A `ComputeBackend` on one CUDA device with managed-memory tensors.
public final class CUDAManagedBackend: ComputeBackend, @unchecked Sendable {
    /// The launchers (stream, modules, cuBLAS).
    public let gpu: CUDABackend
    /// Runs the ops that have no kernel yet, on the host, over the managed pointers.
    public let fallback: any ComputeBackend
    /// When true, every op waits for the GPU before returning (for debugging: a kernel fault
    /// is then reported by the op that caused it). Off by default; `HSA_CUDA_SYNC=1` turns it
    /// on. The model synchronizes before its host loops either way.
    public var synchronizesEachOp: Bool
    /// Ops that ran on `fallback`, by name (for reports).
    public private(set) var fallbackCounts: [String: Int] = [:]
    /// Per-op GPU/host times when `HSA_CUDA_PROFILE=1` (printed at exit), else nil.
    public let profiler: CUDAOpProfiler?

    let device: CUDADevice
    private let lock = NSLock()
    /// Freed blocks by element count, reused before asking the driver (shapes repeat per step).
    private var pool: [Int: [CUdeviceptr]] = [:]
    private var liveBytes = 0
    private var pooledBytes = 0
    /// Managed memory is never allowed past this: oversubscribing it can hang the GPU.
    private let byteLimit: Int
    /// `cuMemcpyHtoDAsync_v2`, bound here (the shared `DriverAPI` does not need it).
    private let copyHostToDeviceAsync: CopyHostToDeviceAsync

    typealias CopyHostToDeviceAsync =
        @convention(c) (CUdeviceptr, UnsafeRawPointer, Int, CUhandle?) -> CUresult

    /// Creates the backend on `device`.
    /// - Parameters:
    ///   - device: the GPU.
    ///   - fallback: runs the ops without a kernel (pass the CPU backend).
    ///   - memoryFraction: share of the device's free memory that tensors may use.
    public init(device: CUDADevice, fallback: any ComputeBackend, memoryFraction: Double = 0.9)
        throws
    {
        self.device = device
        self.gpu = try CUDABackend(device: device)
        self.fallback = fallback
        synchronizesEachOp = HSAEnvironment.cudaSync.isOn
        profiler =
            CUDAOpProfiler.isRequested
            ? CUDAOpProfiler(
                device: device, registerForExit: true, title: "per-op time (HSA_CUDA_PROFILE)")
            : nil
        guard let copy = device.libraries.driverLibrary.symbol("cuMemcpyHtoDAsync_v2") else {
            throw CUDAError.missingSymbols(
                library: device.libraries.driverLibrary.path, symbols: ["cuMemcpyHtoDAsync_v2"])
        }
        copyHostToDeviceAsync = unsafeBitCast(copy, to: CopyHostToDeviceAsync.self)
        try device.makeCurrent()
        var free = 0
        var total = 0
        try device.driver.check(device.driver.cuMemGetInfo(&free, &total), "cuMemGetInfo_v2")
        byteLimit = Int(Double(free) * memoryFraction)
        try gpu.warmUp()
    }

    public var name: String { "cuda (\(device.name))" }

    /// Bytes of managed memory held by live tensors.
    public var liveByteCount: Int { lock.withLock { liveBytes } }

    // MARK: - Memory

    public func allocate(count: Int) -> UnsafeMutablePointer<Float> {
        let pointer = block(count: count)
        zero(pointer, count: max(count, 1))
        return pointer
    }

    /// A pooled block of `max(count, 1)` Floats with undefined contents; give it back with
    /// `free` (reuse is stream-ordered, so it may be freed right after queueing its last use).
    func block(count: Int) -> UnsafeMutablePointer<Float> {
        let elements = max(count, 1)
        let address =
            lock.withLock { () -> CUdeviceptr? in
                guard var blocks = pool[elements], let address = blocks.popLast() else {
                    return nil
                }
                pool[elements] = blocks
                pooledBytes -= elements * 4
                liveBytes += elements * 4
                return address
            } ?? allocateManaged(elements: elements)
        guard let pointer = UnsafeMutablePointer<Float>(bitPattern: UInt(address)) else {
            Self.exit(
                CUDAError.driver(
                    function: "cuMemAllocManaged", status: 0, name: "null address",
                    message: "returned a null address"), op: "allocate")
        }
        return pointer
    }

    public func free(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        let elements = max(count, 1)
        let address = CUdeviceptr(UInt(bitPattern: pointer))
        // Reuse is stream-ordered: later ops on this memory queue after earlier ones.
        lock.withLock {
            pool[elements, default: []].append(address)
            pooledBytes += elements * 4
            liveBytes -= elements * 4
        }
    }

    public func synchronize() {
        run("synchronize") { try gpu.synchronize() }
    }

    public func zero(_ x: UnsafeMutablePointer<Float>, count: Int) {
        if count == 0 { return }
        run("zero") {
            try device.makeCurrent()
            try device.driver.check(
                device.driver.cuMemsetD8Async(address(x), 0, count * 4, gpu.stream.handle),
                "cuMemsetD8Async")
        }
    }

    public func copy(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
        if count == 0 { return }
        run("copy") {
            try device.makeCurrent()
            try device.driver.check(
                device.driver.cuMemcpyDtoDAsync(
                    address(dst), address(src), count * 4, gpu.stream.handle),
                "cuMemcpyDtoDAsync_v2")
        }
    }

    private func allocateManaged(elements: Int) -> CUdeviceptr {
        let bytes = elements * 4
        lock.lock()
        defer { lock.unlock() }
        if liveBytes + pooledBytes + bytes > byteLimit { releasePool() }
        guard liveBytes + bytes <= byteLimit else {
            Self.exit(
                CUDAError.outOfMemory(
                    requestedBytes: bytes, liveBytes: liveBytes, limitBytes: byteLimit),
                op: "allocate")
        }
        var address: CUdeviceptr = 0
        do {
            try device.makeCurrent()
            try device.driver.check(
                device.driver.cuMemAllocManaged(&address, bytes, 1), "cuMemAllocManaged")
        } catch {
            Self.exit(error, op: "allocate")
        }
        liveBytes += bytes
        return address
    }

    /// Frees every pooled block (caller holds the lock).
    private func releasePool() {
        _ = device.driver.cuStreamSynchronize(gpu.stream.handle)
        for (_, blocks) in pool {
            for address in blocks { _ = device.driver.cuMemFree(address) }
        }
        pool.removeAll()
        pooledBytes = 0
    }

    // MARK: - Helpers

    /// Runs `body`, then waits for the GPU when `synchronizesEachOp`; a CUDA error ends the
    /// process with one line (`exit(_:op:)`: the model cannot recover from a failed kernel).
    func run(_ op: String, _ body: () throws -> Void) {
        do {
            guard let profiler else {
                try body()
                if synchronizesEachOp && op != "synchronize" { try gpu.synchronize() }
                return
            }
            // Profiled: events around the op's launches; a wait is timed on the host only.
            let hostStart = DispatchTime.now().uptimeNanoseconds
            let start = op == "synchronize" ? nil : profiler.begin(on: gpu.stream)
            try body()
            if synchronizesEachOp && op != "synchronize" { try gpu.synchronize() }
            let hostSeconds = Double(DispatchTime.now().uptimeNanoseconds - hostStart) / 1e9
            profiler.end(op, start: start, on: gpu.stream, hostSeconds: hostSeconds)
            if op == "synchronize" { profiler.collect() }
        } catch {
            Self.exit(error, op: op)
        }
    }

    /// Ends the process with one line `Error: CUDA <op>: <error>` and status 1 — never a
    /// trap. `ComputeBackend` ops cannot throw, and after a failed allocation or kernel the
    /// CUDA context cannot run the model on, so this is where a GPU failure stops the run
    /// (the last checkpoint stays the newest: checkpoints are written whole or not at all).
    static func exit(_ error: any Error, op: String) -> Never {
        FileHandle.standardError.write(Data("Error: CUDA \(op): \(error)\n".utf8))
        Foundation.exit(1)
    }

    /// Runs `op` on the fallback backend after the GPU is idle (it reads and writes managed
    /// memory from the host).
    func onFallback(_ op: String, _ body: (any ComputeBackend) -> Void) {
        run("synchronize") { try gpu.synchronize() }
        lock.withLock { fallbackCounts[op, default: 0] += 1 }
        body(fallback)
    }

    /// The device address of a managed pointer.
    func address(_ pointer: UnsafePointer<Float>) -> CUdeviceptr {
        CUdeviceptr(UInt(bitPattern: pointer))
    }

    /// The device address of a managed pointer.
    func address(_ pointer: UnsafeMutablePointer<Float>) -> CUdeviceptr {
        CUdeviceptr(UInt(bitPattern: pointer))
    }

    /// A borrowed `DeviceBuffer` over managed memory (the launchers' argument type). The size is
    /// a large bound: shapes were checked by the model, and the view is never copied or freed.
    func view(_ pointer: UnsafePointer<Float>) -> DeviceBuffer {
        DeviceBuffer(device: device, borrowing: address(pointer), byteCount: 1 << 40)
    }

    /// A borrowed `DeviceBuffer` over managed memory.
    func view(_ pointer: UnsafeMutablePointer<Float>) -> DeviceBuffer {
        view(UnsafePointer(pointer))
    }

    /// A borrowed view, or nil.
    func view(_ pointer: UnsafePointer<Float>?) -> DeviceBuffer? {
        pointer.map { view($0) }
    }

    /// Runs `body` with a stream-ordered device copy of `count` 4-byte host values (tokens,
    /// targets, positions, chunk indices, row scales) in a pooled block, freed after `body`
    /// queued its kernels. The host array may change as soon as this returns.
    func withStaged<T: BitwiseCopyable>(
        _ values: UnsafePointer<T>, count: Int, _ body: (DeviceBuffer) throws -> Void
    ) throws {
        precondition(MemoryLayout<T>.size == 4, "staged values must be 4 bytes wide")
        let staging = block(count: count)
        defer { free(staging, count: count) }
        if count > 0 {
            try device.makeCurrent()
            try device.driver.check(
                copyHostToDeviceAsync(
                    address(staging), UnsafeRawPointer(values), count * 4, gpu.stream.handle),
                "cuMemcpyHtoDAsync_v2")
        }
        try body(DeviceBuffer(device: device, borrowing: address(staging), byteCount: count * 4))
    }

    /// Runs `body` with a pooled scratch block of at least `bytes` bytes (contents undefined),
    /// returned to the pool after `body` queued its kernels.
    func withWorkspace(bytes: Int, _ body: (DeviceBuffer) throws -> Void) throws {
        let count = (bytes + 3) / 4
        let scratch = block(count: count)
        defer { free(scratch, count: count) }
        try body(DeviceBuffer(device: device, borrowing: address(scratch), byteCount: count * 4))
    }
}
