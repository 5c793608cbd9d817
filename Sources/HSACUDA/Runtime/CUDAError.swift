import Foundation

// Errors of the CUDA backend: loading, driver calls, NVRTC compilation, cuBLAS, arguments.

/// Everything that can go wrong in HSACUDA; messages name the library or function, the status
/// name and text, and end with a `hint:` when a fix is known.
public enum CUDAError: Error, CustomStringConvertible, Sendable {
    /// No candidate file of `library` could be dlopened.
    case libraryNotFound(library: String, tried: [String], lastError: String)
    /// The library loaded but lacks these symbols (too old a CUDA version).
    case missingSymbols(library: String, symbols: [String])
    /// A driver API call failed.
    case driver(function: String, status: Int32, name: String, message: String)
    /// No CUDA device is visible.
    case noDevice
    /// NVRTC failed; `log` is the program's compilation log.
    case nvrtc(function: String, status: Int32, message: String, log: String)
    /// A cuBLAS call failed.
    case cublas(function: String, status: Int32, name: String)
    /// An argument does not fit the kernel (shape, size, buffer too small).
    case invalidArgument(String)
    /// An op the CUDA backend does not have yet (the message says which and what to use).
    case notImplemented(String)
    /// A tensor of `requestedBytes` does not fit: `liveBytes` are held by live tensors and
    /// `limitBytes` is what tensors may use on the device.
    case outOfMemory(requestedBytes: Int, liveBytes: Int, limitBytes: Int)

    public var description: String {
        switch self {
        case .libraryNotFound(let library, let tried, let lastError):
            let overrides = "HSA_CUDA_LIBRARY, HSA_NVRTC_LIBRARY, HSA_CUBLAS_LIBRARY"
            return
                "CUDA: could not load the \(library) library; tried "
                + tried.joined(separator: ", ")
                + " (last dlopen error: \(lastError)); hint: install the NVIDIA driver / CUDA "
                + "toolkit, add its lib64 to LD_LIBRARY_PATH, or point \(overrides) at the file"
        case .missingSymbols(let library, let symbols):
            return "CUDA: \(library) lacks \(symbols.joined(separator: ", ")); "
                + "hint: hsa needs CUDA 12 or newer"
        case .driver(let function, let status, let name, let message):
            return "CUDA: \(function) failed with \(name) (\(status)): \(message)"
        case .noDevice:
            return "CUDA: the driver loaded but reports no device; "
                + "hint: check nvidia-smi and CUDA_VISIBLE_DEVICES"
        case .nvrtc(let function, let status, let message, let log):
            let trimmed = log.trimmingCharacters(in: .whitespacesAndNewlines)
            return "NVRTC: \(function) failed with \(message) (\(status))"
                + (trimmed.isEmpty ? "" : "\nprogram log:\n\(trimmed)")
        case .cublas(let function, let status, let name):
            return "cuBLAS: \(function) failed with \(name) (\(status))"
        case .invalidArgument(let message):
            return "CUDA: \(message)"
        case .notImplemented(let message):
            return message
        case .outOfMemory(let requested, let live, let limit):
            func gib(_ bytes: Int) -> String {
                String(format: "%.2f GiB", Double(bytes) / 1_073_741_824)
            }
            return "CUDA: out of memory: a tensor of \(gib(requested)) on top of \(gib(live)) "
                + "held exceeds the \(gib(limit)) tensors may use (90% of the device memory "
                + "free at start); hint: use a smaller --batch-size or --seq-len, or more "
                + "--grad-accum steps"
        }
    }
}
