import Foundation
import HSACore

// NVRTC compilation of kernel sources to CUBIN for the device's own architecture, with an
// on-disk cache keyed by SHA-256(source, architecture, options, NVRTC version).

// MARK: - Cache key

/// Where compiled kernels are cached and how entries are named.
public enum KernelCache {
    /// `HSA_KERNEL_CACHE` when set, else `~/.cache/hsa/kernels`.
    public static func directory(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> URL {
        if let override = environment[HSAEnvironment.kernelCache.rawValue], !override.isEmpty {
            return URL(fileURLWithPath: override, isDirectory: true)
        }
        let home =
            environment["HOME"].map { URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        return home.appendingPathComponent(".cache/hsa/kernels", isDirectory: true)
    }

    /// The cache key: hex SHA-256 over every input that changes the compiled code.
    /// - Parameters:
    ///   - source: the CUDA C++ source text.
    ///   - architecture: e.g. "sm_90".
    ///   - options: NVRTC options besides the architecture.
    ///   - compilerVersion: NVRTC's version, e.g. "13.0".
    public static func key(
        source: String, architecture: String, options: [String], compilerVersion: String
    ) -> String {
        // Fields joined with NUL so no two different inputs produce the same text.
        let fields = [source, architecture, compilerVersion] + options
        return SHA256.hex(fields.joined(separator: "\u{0}"))
    }
}

// MARK: - Compiler

/// Compiles CUDA C++ with NVRTC to CUBIN for one architecture, caching results on disk.
public struct KernelCompiler: Sendable {
    let nvrtc: NVRTCAPI
    /// NVRTC version, part of the cache key.
    public let compilerVersion: String
    /// Target architecture, e.g. "sm_90".
    public let architecture: String
    /// The cache directory (nil disables the cache).
    public let cacheDirectory: URL?

    /// Options used for every kernel: the device's real architecture (CUBIN, no PTX JIT),
    /// C++17, and exact float division/sqrt so results follow IEEE rounding like the CPU.
    public static let baseOptions = ["--std=c++17", "--fmad=true", "-default-device"]

    /// A compiler for `device`'s architecture with the default cache directory.
    public init(device: CUDADevice, cacheDirectory: URL? = KernelCache.directory()) {
        nvrtc = device.libraries.nvrtc
        compilerVersion = device.libraries.nvrtcVersion
        architecture = device.architecture
        self.cacheDirectory = cacheDirectory
    }

    /// CUBIN for `source`, from the cache or freshly compiled (then stored).
    /// - Parameters:
    ///   - source: CUDA C++ source.
    ///   - name: a file name for NVRTC's messages, e.g. "rmsnorm.cu".
    /// - Throws: `CUDAError.nvrtc` with the program log when compilation fails.
    public func cubin(source: String, name: String) throws -> [UInt8] {
        let options = ["--gpu-architecture=\(architecture)"] + Self.baseOptions
        let key = KernelCache.key(
            source: source, architecture: architecture, options: options,
            compilerVersion: compilerVersion)
        let file = cacheDirectory?.appendingPathComponent("\(key).cubin")
        if let file, let data = try? Data(contentsOf: file), !data.isEmpty {
            return [UInt8](data)
        }
        let binary = try compile(source: source, name: name, options: options)
        if let file, let directory = cacheDirectory {
            // Best effort: a read-only home must not stop the backend. Write, then rename, so
            // a concurrent reader never sees half a file.
            try? FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true)
            let temporary = directory.appendingPathComponent("\(key).\(getpid()).tmp")
            if (try? Data(binary).write(to: temporary)) != nil {
                _ = rename(temporary.path, file.path)
            }
        }
        return binary
    }

    /// Runs NVRTC and returns the CUBIN bytes.
    func compile(source: String, name: String, options: [String]) throws -> [UInt8] {
        var program: OpaquePointer? = nil
        try nvrtc.check(
            nvrtc.nvrtcCreateProgram(&program, source, name, 0, nil, nil), "nvrtcCreateProgram")
        defer { _ = nvrtc.nvrtcDestroyProgram(&program) }
        let cStrings = options.map { strdup($0) }
        defer { for pointer in cStrings { free(pointer) } }
        let status = cStrings.map { UnsafePointer($0) }.withUnsafeBufferPointer { pointers in
            nvrtc.nvrtcCompileProgram(program, Int32(options.count), pointers.baseAddress)
        }
        let log = programLog(program)
        try nvrtc.check(
            status, "nvrtcCompileProgram(\(name), \(options.joined(separator: " ")))",
            log: log)
        var size = 0
        try nvrtc.check(nvrtc.nvrtcGetCUBINSize(program, &size), "nvrtcGetCUBINSize")
        var bytes = [CChar](repeating: 0, count: size)
        try nvrtc.check(nvrtc.nvrtcGetCUBIN(program, &bytes), "nvrtcGetCUBIN")
        if HSAEnvironment.debug.value != nil, !log.isEmpty {
            FileHandle.standardError.write(Data("NVRTC log for \(name):\n\(log)\n".utf8))
        }
        return bytes.map { UInt8(bitPattern: $0) }
    }

    private func programLog(_ program: OpaquePointer?) -> String {
        var size = 0
        guard nvrtc.nvrtcGetProgramLogSize(program, &size) == 0, size > 1 else { return "" }
        var bytes = [CChar](repeating: 0, count: size)
        guard nvrtc.nvrtcGetProgramLog(program, &bytes) == 0 else { return "" }
        return String(
            decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
