import Foundation
import HSACore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// A shared library opened with dlopen(RTLD_NOW | RTLD_LOCAL), and the search order of
// DESIGN.md §5d: environment override, unversioned soname, .13, .12, $CUDA_PATH/lib64,
// /usr/local/cuda/lib64. Directories named `stubs` are never searched: the stubs are link-time
// placeholders whose functions all fail at run time.

// MARK: - DynamicLibrary

/// An open shared library; symbols are looked up with `symbol(_:)`. The handle stays open for
/// the life of the process (CUDA libraries must not be unloaded while kernels exist).
public final class DynamicLibrary: @unchecked Sendable {
    /// The path or soname that dlopen accepted.
    public let path: String
    private let handle: UnsafeMutableRawPointer

    private init(path: String, handle: UnsafeMutableRawPointer) {
        self.path = path
        self.handle = handle
    }

    /// Opens the first loadable candidate, in order.
    /// - Parameters:
    ///   - name: human-readable library name for errors (e.g. "CUDA driver").
    ///   - candidates: paths or sonames to try, in order (see `searchList`).
    /// - Throws: `CUDAError.libraryNotFound` listing every candidate and dlerror's last message.
    public static func open(name: String, candidates: [String]) throws -> DynamicLibrary {
        var lastError = "no candidates"
        for candidate in candidates where !isStub(candidate) {
            if let handle = dlopen(candidate, RTLD_NOW | RTLD_LOCAL) {
                return DynamicLibrary(path: resolvedPath(handle) ?? candidate, handle: handle)
            }
            if let message = dlerror() { lastError = String(cString: message) }
        }
        throw CUDAError.libraryNotFound(
            library: name, tried: candidates.filter { !isStub($0) }, lastError: lastError)
    }

    /// Opens library `name` from the first loadable candidate of its `searchList`.
    /// - Throws: `CUDAError.libraryNotFound` as `open(name:candidates:)`.
    static func open(
        name: String, environmentKey: HSAEnvironment, baseName: String, versions: [String],
        environment: [String: String]
    ) throws -> DynamicLibrary {
        try open(
            name: name,
            candidates: searchList(
                environmentKey: environmentKey.rawValue, baseName: baseName, versions: versions,
                environment: environment))
    }

    /// The address of `name`, or nil when the library does not export it.
    public func symbol(_ name: String) -> UnsafeMutableRawPointer? {
        dlsym(handle, name)
    }

    /// Resolves `name` (trying `alternatives` after it) as a C function pointer of type `T`,
    /// recording the name in `missing` when none is exported.
    func function<T>(
        _ name: String, alternatives: [String] = [], as type: T.Type, missing: inout [String]
    ) -> T? {
        for candidate in [name] + alternatives {
            if let address = symbol(candidate) {
                return unsafeBitCast(address, to: type)
            }
        }
        missing.append(name)
        return nil
    }

    // MARK: - Search order

    /// The candidates for one library in the order of DESIGN.md §5d.
    /// - Parameters:
    ///   - environmentKey: e.g. `HSA_CUDA_LIBRARY`; its value, when set, is tried first.
    ///   - baseName: the unversioned soname, e.g. `libnvrtc.so`.
    ///   - versions: soname suffixes tried after the unversioned name, e.g. `["13", "12"]`.
    ///   - environment: the process environment (injectable for tests).
    /// - Returns: the candidate list, never containing a `stubs/` path.
    public static func searchList(
        environmentKey: String, baseName: String, versions: [String],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> [String] {
        var list: [String] = []
        if let override = environment[environmentKey], !override.isEmpty { list.append(override) }
        list.append(baseName)
        for version in versions { list.append("\(baseName).\(version)") }
        var directories: [String] = []
        if let cudaPath = environment["CUDA_PATH"], !cudaPath.isEmpty {
            directories.append("\(cudaPath)/lib64")
        }
        directories.append("/usr/local/cuda/lib64")
        for directory in directories {
            list.append("\(directory)/\(baseName)")
            for version in versions { list.append("\(directory)/\(baseName).\(version)") }
        }
        return list.filter { !isStub($0) }
    }

    /// True for paths inside a `stubs` directory (link-time placeholders, never loaded).
    public static func isStub(_ path: String) -> Bool {
        path.split(separator: "/").contains("stubs")
    }

    /// The file dlopen actually mapped. On glibc a dlopen handle is a `struct link_map *`
    /// (public ABI in <link.h>) whose second field is `char *l_name`, the full path.
    private static func resolvedPath(_ handle: UnsafeMutableRawPointer) -> String? {
        #if os(Linux)
            let fields = handle.assumingMemoryBound(to: UnsafePointer<CChar>?.self)
            guard let name = fields[1], name.pointee != 0 else { return nil }
            return String(cString: name)
        #else
            return nil
        #endif
    }
}
