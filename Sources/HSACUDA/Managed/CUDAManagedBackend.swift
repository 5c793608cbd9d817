import Foundation
import HSACore

// The CUDA backend behind `ComputeBackend`: tensors live in managed (unified) memory, so one
// pointer is valid on the host and the device, and the model's few host loops stay correct.
// Ops with a CUDA kernel run on the GPU through `CUDABackend`'s launchers; the rest (the HSA
// ops in this version) run on `fallback` (the CPU) over the same managed pointers.

/// A `ComputeBackend` on one CUDA device with managed-memory tensors.
public final class CUDAManagedBackend: ComputeBackend, @unchecked Sendable {
    /// The launchers (stream, modules, cuBLAS).
    public let gpu: CUDABackend
    /// Runs the ops that have no kernel yet, on the host, over the managed pointers.
    public let fallback: any ComputeBackend
    /// When true (default), every op waits for the GPU before returning, so host code may read
    /// any tensor at any time. `HSA_CUDA_ASYNC=1` turns it off (the model then synchronizes
    /// only before its host loops).
    public var synchronizesEachOp: Bool
    /// Ops that ran on `fallback`, by name (for reports).
    public private(set) var fallbackCounts: [String: Int] = [:]

    let device: CUDADevice
    private let lock = NSLock()
    /// Freed blocks by element count, reused before asking the driver (shapes repeat per step).
    private var pool: [Int: [CUdeviceptr]] = [:]
    private var liveBytes = 0
    private var pooledBytes = 0
    /// Managed memory is never allowed past this: oversubscribing it can hang the GPU.
    private let byteLimit: Int

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
        synchronizesEachOp = ProcessInfo.processInfo.environment["HSA_CUDA_ASYNC"] != "1"
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
        let elements = max(count, 1)
        let address = lock.withLock { () -> CUdeviceptr? in
            guard var blocks = pool[elements], let address = blocks.popLast() else { return nil }
            pool[elements] = blocks
            pooledBytes -= elements * 4
            liveBytes += elements * 4
            return address
        } ?? allocateManaged(elements: elements)
        guard let pointer = UnsafeMutablePointer<Float>(bitPattern: UInt(address)) else {
            fatalError("CUDAManagedBackend: cuMemAllocManaged returned a null address")
        }
        zero(pointer, count: elements)
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
            fatalError(
                "CUDAManagedBackend: \(liveBytes + bytes) bytes of tensors exceed the limit "
                    + "\(byteLimit) (90% of the free device memory at start); "
                    + "hint: use a smaller --batch-size or --seq-len")
        }
        var address: CUdeviceptr = 0
        do {
            try device.makeCurrent()
            try device.driver.check(
                device.driver.cuMemAllocManaged(&address, bytes, 1), "cuMemAllocManaged")
        } catch {
            fatalError("CUDAManagedBackend: \(error)")
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

    /// Runs `body`, then waits for the GPU when `synchronizesEachOp`; a CUDA error is fatal
    /// (the model has no way to recover from a failed kernel).
    func run(_ op: String, _ body: () throws -> Void) {
        do {
            try body()
            if synchronizesEachOp && op != "synchronize" { try gpu.synchronize() }
        } catch {
            fatalError("CUDAManagedBackend.\(op): \(error)")
        }
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

    /// A device copy of `count` host Int32 values (tokens, targets, positions).
    func staged(_ values: UnsafePointer<Int32>, count: Int) throws -> DeviceBuffer {
        try DeviceBuffer(
            device: device, int32s: Array(UnsafeBufferPointer(start: values, count: count)))
    }

    /// A device copy of `count` host Floats.
    func staged(_ values: UnsafePointer<Float>, count: Int) throws -> DeviceBuffer {
        try DeviceBuffer(
            device: device, floats: Array(UnsafeBufferPointer(start: values, count: count)))
    }
}
