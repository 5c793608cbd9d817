import ArgumentParser
import Foundation
import HSA

/// `--backend cpu|cuda|auto`: where tensors live and the model's ops run.
struct BackendOptions: ParsableArguments {
    @Option(help: "cpu, cuda (managed memory on GPU 0) or auto (cuda when usable).")
    var backend: String = "cpu"
    @Option(
        help: ArgumentHelp(
            "GPU ordinal for --backend cuda (default: HSA_DEVICE_ORDINAL, set by `train --gpus`, "
                + "else 0).", visibility: .hidden))
    var cudaDevice: Int?
    @Option(
        help: """
            GEMM precision on the GPU: fp32 (exact, default), bf16 or tf32 (tensor cores, fp32 \
            accumulation and weights). Default: HSA_MATMUL_PRECISION, else fp32.
            """)
    var matmulPrecision: String?
    @Option(
        help: """
            Attention precision on the GPU (sliding-window, encoder and HSA attention): fp32 \
            (exact, default) or bf16 (tensor cores, fp32 accumulation). Default: \
            HSA_ATTENTION_PRECISION, else fp32.
            """)
    var attentionPrecision: String?

    /// The GPU to use: `--cuda-device`, else `HSA_DEVICE_ORDINAL` (one per launched rank), else 0.
    var deviceOrdinal: Int {
        if let cudaDevice { return cudaDevice }
        let environment = ProcessInfo.processInfo.environment
        return environment[RankEnvironment.deviceOrdinal].flatMap { Int($0) } ?? 0
    }

    /// Sets `ComputeBackends.current` (before any tensor exists) and prints the device unless
    /// `quiet` (the ranks after rank 0 of a multi-GPU run).
    func install(quiet: Bool = false) throws {
        let printLine: (String) -> Void = { if !quiet { Terminal.printLine($0) } }
        switch backend {
        case "cpu":
            ComputeBackends.current = CPUBackend.shared
            printLine("backend: cpu")
        case "cuda", "auto":
            guard CUDA.isAvailable else {
                if backend == "auto" {
                    ComputeBackends.current = CPUBackend.shared
                    printLine("backend: cpu (no usable CUDA: \(CUDA.unavailableReason ?? "?"))")
                    return
                }
                throw UserError(
                    "--backend cuda: no usable CUDA (\(CUDA.unavailableReason ?? "?")); "
                        + "hint: use --backend cpu or auto")
            }
            let device = try CUDADevice(ordinal: deviceOrdinal)
            let managed = try CUDAManagedBackend(device: device, fallback: CPUBackend.shared)
            if let matmulPrecision {
                guard let precision = MatmulPrecision(rawValue: matmulPrecision) else {
                    throw ValidationError(
                        "--matmul-precision must be fp32, bf16 or tf32; got \(matmulPrecision)")
                }
                managed.gpu.matmulPrecision = precision
            }
            if let attentionPrecision {
                guard let precision = AttentionPrecision(rawValue: attentionPrecision) else {
                    throw ValidationError(
                        "--attention-precision must be fp32 or bf16; got \(attentionPrecision)")
                }
                managed.gpu.attentionPrecision = precision
            }
            ComputeBackends.current = managed
            let which = device.ordinal == 0 ? "" : "GPU \(device.ordinal): "
            printLine(
                "backend: cuda, \(which)\(device.summary), matmul "
                    + managed.gpu.matmulPrecision.rawValue + ", attention "
                    + managed.gpu.attentionPrecision.rawValue)
        default:
            throw ValidationError("--backend must be cpu, cuda or auto; got \(backend)")
        }
    }
}
