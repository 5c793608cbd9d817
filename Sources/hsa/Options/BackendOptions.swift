import ArgumentParser
import Foundation
import HSA

/// `--backend cpu|cuda|auto`: where tensors live and the model's ops run.
struct BackendOptions: ParsableArguments {
    @Option(help: "cpu, cuda (managed memory on GPU 0) or auto (cuda when usable).")
    var backend: String = "cpu"

    /// The implementation name benchmarks record ("swift-cpu", "swift-cuda").
    var implementation: String {
        ComputeBackends.current is CUDAManagedBackend ? "swift-cuda" : "swift-cpu"
    }

    /// Sets `ComputeBackends.current` (before any tensor exists) and prints the device.
    func install() throws {
        switch backend {
        case "cpu":
            ComputeBackends.current = CPUBackend.shared
            Terminal.printLine("backend: cpu")
        case "cuda", "auto":
            guard CUDA.isAvailable else {
                if backend == "auto" {
                    ComputeBackends.current = CPUBackend.shared
                    Terminal.printLine(
                        "backend: cpu (no usable CUDA: \(CUDA.unavailableReason ?? "?"))")
                    return
                }
                throw UserError(
                    "--backend cuda: no usable CUDA (\(CUDA.unavailableReason ?? "?")); "
                        + "hint: use --backend cpu or auto")
            }
            let device = try CUDADevice()
            ComputeBackends.current = try CUDAManagedBackend(
                device: device, fallback: CPUBackend.shared)
            Terminal.printLine("backend: cuda, \(device.summary)")
        default:
            throw ValidationError("--backend must be cpu, cuda or auto; got \(backend)")
        }
    }
}
