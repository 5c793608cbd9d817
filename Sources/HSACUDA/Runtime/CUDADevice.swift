import Foundation

// One GPU through its primary context (shared with any other CUDA user in the process).

/// A CUDA device with its primary context retained; properties are read once.
public final class CUDADevice: @unchecked Sendable {
    /// The loaded libraries.
    public let libraries: CUDALibraries
    /// Device ordinal.
    public let ordinal: Int
    /// Marketing name, e.g. "NVIDIA H100 80GB HBM3".
    public let name: String
    /// Compute capability (major, minor), e.g. (9, 0).
    public let computeCapability: (major: Int, minor: Int)
    /// Number of streaming multiprocessors.
    public let multiprocessorCount: Int
    /// Total device memory in bytes.
    public let totalMemory: Int
    let context: CUhandle?
    var driver: DriverAPI { libraries.driver }

    /// Retains the primary context of device `ordinal` and makes it current on this thread.
    /// - Throws: `CUDAError` when CUDA is unavailable or a driver call fails.
    public init(ordinal: Int = 0) throws {
        let libraries = try CUDA.libraries()
        let driver = libraries.driver
        guard ordinal >= 0, ordinal < libraries.deviceCount else {
            throw CUDAError.invalidArgument(
                "device \(ordinal) does not exist (\(libraries.deviceCount) visible)")
        }
        var device: CUdevice = 0
        try driver.check(driver.cuDeviceGet(&device, Int32(ordinal)), "cuDeviceGet")
        var nameBytes = [CChar](repeating: 0, count: 256)
        try driver.check(driver.cuDeviceGetName(&nameBytes, 255, device), "cuDeviceGetName")
        func attribute(_ attribute: CUDeviceAttribute) throws -> Int {
            var value: Int32 = 0
            try driver.check(
                driver.cuDeviceGetAttribute(&value, attribute.rawValue, device),
                "cuDeviceGetAttribute(\(attribute))")
            return Int(value)
        }
        let major = try attribute(.computeCapabilityMajor)
        let minor = try attribute(.computeCapabilityMinor)
        multiprocessorCount = try attribute(.multiprocessorCount)
        var memory = 0
        try driver.check(driver.cuDeviceTotalMem(&memory, device), "cuDeviceTotalMem_v2")
        var context: CUhandle? = nil
        try driver.check(
            driver.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain")
        try driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")
        self.libraries = libraries
        self.ordinal = ordinal
        self.name = String(
            decoding: nameBytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
            as: UTF8.self)
        self.computeCapability = (major, minor)
        self.totalMemory = memory
        self.context = context
    }

    /// The NVRTC architecture name, e.g. "sm_90".
    public var architecture: String { "sm_\(computeCapability.major)\(computeCapability.minor)" }

    /// Makes the primary context current on the calling thread (contexts are per thread, and
    /// Swift may run callers on any thread).
    public func makeCurrent() throws {
        try driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")
    }

    /// A stream or event handle made by `create` (the driver's `cuStreamCreate`,
    /// `cuEventCreate`, ...) with this device's context current.
    func createHandle(
        _ function: String, _ create: (UnsafeMutablePointer<CUhandle?>) -> CUresult
    ) throws -> CUhandle? {
        try makeCurrent()
        var handle: CUhandle? = nil
        try driver.check(create(&handle), function)
        return handle
    }

    /// Waits for all work on the device.
    public func synchronize() throws {
        try makeCurrent()
        try driver.check(driver.cuCtxSynchronize(), "cuCtxSynchronize")
    }

    /// One line for `hsa doctor` / `hsa selftest`: device, capability, libraries and versions.
    public var summary: String {
        let gib = Double(totalMemory) / Double(1 << 30)
        return "\(name) (\(architecture), \(multiprocessorCount) SMs, "
            + String(format: "%.1f GiB", gib) + "), driver \(libraries.driverVersion) "
            + "[\(libraries.driverLibrary.path)], NVRTC \(libraries.nvrtcVersion) "
            + "[\(libraries.nvrtcLibrary.path)], cuBLAS [\(libraries.cublasLibrary.path)]"
    }
}
