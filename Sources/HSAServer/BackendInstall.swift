import HSACPU
import HSACUDA
import HSACore

/// Sets the process-wide compute backend before any model is loaded: `cpu`, or `cuda`
/// (managed memory on GPU 0, falling back to the CPU for what it does not run).
/// - Throws: `ServerSetupError` when CUDA is asked for and not usable.
public func installBackend(_ name: String) throws {
    guard name == "cuda" else {
        ComputeBackends.current = CPUBackend.shared
        return
    }
    guard CUDA.isAvailable else {
        throw ServerSetupError("--backend cuda: no usable CUDA (\(CUDA.unavailableReason ?? "?"))")
    }
    do {
        ComputeBackends.current = try CUDAManagedBackend(
            device: CUDADevice(ordinal: 0), fallback: CPUBackend.shared)
    } catch {
        throw ServerSetupError("--backend cuda: \(error)")
    }
}
