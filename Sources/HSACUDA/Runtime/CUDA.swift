import Foundation
import HSACore

// The process-wide entry point: loads the three libraries once, initializes the driver, and
// answers `CUDA.isAvailable` without ever crashing on a machine without a GPU.

// MARK: - Libraries

/// The three CUDA libraries of one process, loaded and bound once.
public final class CUDALibraries: @unchecked Sendable {
    /// The driver (libcuda) file and its entry points.
    public let driverLibrary: DynamicLibrary
    /// The NVRTC file.
    public let nvrtcLibrary: DynamicLibrary
    /// The cuBLAS file.
    public let cublasLibrary: DynamicLibrary
    let driver: DriverAPI
    let nvrtc: NVRTCAPI
    let cublas: CUBLASAPI
    /// `cuDriverGetVersion`, e.g. 13000.
    public let driverVersion: Int
    /// Number of visible devices (>= 1).
    public let deviceCount: Int

    init(environment: [String: String]) throws {
        driverLibrary = try DynamicLibrary.open(
            name: "CUDA driver", environmentKey: .cudaLibrary, baseName: "libcuda.so",
            versions: ["1"], environment: environment)
        driver = try DriverAPI(library: driverLibrary)
        try driver.check(driver.cuInit(0), "cuInit")
        var version: Int32 = 0
        try driver.check(driver.cuDriverGetVersion(&version), "cuDriverGetVersion")
        driverVersion = Int(version)
        var count: Int32 = 0
        try driver.check(driver.cuDeviceGetCount(&count), "cuDeviceGetCount")
        guard count > 0 else { throw CUDAError.noDevice }
        deviceCount = Int(count)
        nvrtcLibrary = try DynamicLibrary.open(
            name: "NVRTC", environmentKey: .nvrtcLibrary, baseName: "libnvrtc.so",
            versions: ["13", "12"], environment: environment)
        nvrtc = try NVRTCAPI(library: nvrtcLibrary)
        cublasLibrary = try DynamicLibrary.open(
            name: "cuBLAS", environmentKey: .cublasLibrary, baseName: "libcublas.so",
            versions: ["13", "12"], environment: environment)
        cublas = try CUBLASAPI(library: cublasLibrary)
    }

    /// NVRTC's version as "13.0".
    public var nvrtcVersion: String {
        let version = nvrtc.version()
        return "\(version.major).\(version.minor)"
    }
}

// MARK: - CUDA

/// Namespace of the CUDA backend: availability, the shared libraries and default device.
public enum CUDA {
    /// The outcome of loading the libraries, computed once on first use.
    private static let loadResult: Result<CUDALibraries, CUDAError> = {
        do {
            return .success(try CUDALibraries(environment: ProcessInfo.processInfo.environment))
        } catch let error as CUDAError {
            return .failure(error)
        } catch {
            return .failure(.invalidArgument("\(error)"))
        }
    }()

    /// True when the driver, NVRTC and cuBLAS all load, `cuInit` succeeds and a device exists.
    /// Never crashes: on a machine without CUDA it is simply false.
    public static var isAvailable: Bool {
        if case .success = loadResult { return true }
        return false
    }

    /// Why CUDA is unavailable (nil when it is available).
    public static var unavailableReason: String? {
        if case .failure(let error) = loadResult { return error.description }
        return nil
    }

    /// The loaded libraries.
    /// - Throws: the `CUDAError` that made loading fail.
    public static func libraries() throws -> CUDALibraries {
        try loadResult.get()
    }
}
