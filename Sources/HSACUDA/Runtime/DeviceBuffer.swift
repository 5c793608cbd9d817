// Device memory owned by a Swift object: allocated with cuMemAlloc, freed on deinit.

/// A block of device memory. Copies are synchronous (cuMemcpy*_v2 waits for prior work).
public final class DeviceBuffer: @unchecked Sendable {
    /// The device the memory lives on.
    public let device: CUDADevice
    /// The device address.
    public let address: CUdeviceptr
    /// Size in bytes.
    public let byteCount: Int
    /// False for a borrowed view of memory someone else frees (managed tensor storage).
    private let owns: Bool

    /// Allocates `byteCount` bytes (uninitialized).
    public init(device: CUDADevice, byteCount: Int) throws {
        precondition(byteCount >= 0, "DeviceBuffer: negative size \(byteCount)")
        try device.makeCurrent()
        var address: CUdeviceptr = 0
        // Zero-byte requests still allocate 4 bytes so every buffer has a valid address.
        try device.driver.check(
            device.driver.cuMemAlloc(&address, max(byteCount, 4)), "cuMemAlloc_v2(\(byteCount))")
        self.device = device
        self.address = address
        self.byteCount = byteCount
        self.owns = true
    }

    /// A view of `byteCount` bytes at `address` that this object does not free: lets the
    /// launchers run on memory owned elsewhere (e.g. a managed-memory tensor).
    public init(device: CUDADevice, borrowing address: CUdeviceptr, byteCount: Int) {
        self.device = device
        self.address = address
        self.byteCount = byteCount
        self.owns = false
    }

    /// Allocates a buffer holding a copy of `values`.
    public convenience init(device: CUDADevice, floats values: [Float]) throws {
        try self.init(device: device, byteCount: values.count * 4)
        try upload(values)
    }

    /// Allocates a buffer holding a copy of `values`.
    public convenience init(device: CUDADevice, int32s values: [Int32]) throws {
        try self.init(device: device, byteCount: values.count * 4)
        try upload(values)
    }

    deinit {
        guard owns else { return }
        _ = device.driver.cuCtxSetCurrent(device.context)
        _ = device.driver.cuMemFree(address)
    }

    /// Number of 4-byte elements (Float or Int32) the buffer holds.
    public var count32: Int { byteCount / 4 }

    // MARK: - Copies

    /// Copies `values` to the start of the buffer.
    public func upload<T: BitwiseCopyable>(_ values: [T]) throws {
        let bytes = values.count * MemoryLayout<T>.stride
        guard bytes <= byteCount else {
            throw CUDAError.invalidArgument(
                "upload of \(bytes) bytes into a \(byteCount)-byte buffer")
        }
        if bytes == 0 { return }
        try device.makeCurrent()
        try values.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            try device.driver.check(
                device.driver.cuMemcpyHtoD(address, base, bytes), "cuMemcpyHtoD_v2")
        }
    }

    /// Copies the first `count` Floats back to the host.
    public func downloadFloats(count: Int? = nil) throws -> [Float] {
        try download(Float.self, count: count ?? count32)
    }

    /// Copies the first `count` Int32 values back to the host.
    public func downloadInt32s(count: Int? = nil) throws -> [Int32] {
        try download(Int32.self, count: count ?? count32)
    }

    private func download<T: BitwiseCopyable & Numeric>(_ type: T.Type, count: Int) throws -> [T] {
        let bytes = count * MemoryLayout<T>.stride
        guard bytes <= byteCount else {
            throw CUDAError.invalidArgument(
                "download of \(bytes) bytes from a \(byteCount)-byte buffer")
        }
        var values = [T](repeating: 0, count: count)
        if bytes == 0 { return values }
        try device.makeCurrent()
        try values.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            try device.driver.check(
                device.driver.cuMemcpyDtoH(base, address, bytes), "cuMemcpyDtoH_v2")
        }
        return values
    }

    /// Copies `byteCount` bytes of `source` into this buffer (device to device).
    public func copy(from source: DeviceBuffer) throws {
        guard source.byteCount <= byteCount else {
            throw CUDAError.invalidArgument(
                "copy of \(source.byteCount) bytes into a \(byteCount)-byte buffer")
        }
        if source.byteCount == 0 { return }
        try device.makeCurrent()
        try device.driver.check(
            device.driver.cuMemcpyDtoD(address, source.address, source.byteCount), "cuMemcpyDtoD_v2"
        )
    }

    /// Sets every byte to zero.
    public func zero() throws {
        try device.makeCurrent()
        try device.driver.check(device.driver.cuMemsetD8(address, 0, byteCount), "cuMemsetD8_v2")
    }

    /// Fills the buffer with a 32-bit pattern (e.g. a NaN, to catch unwritten outputs).
    public func fill(bitPattern: UInt32) throws {
        try device.makeCurrent()
        try device.driver.check(
            device.driver.cuMemsetD32(address, bitPattern, count32), "cuMemsetD32_v2")
    }
}
