import Foundation

/// Every environment variable hsa reads, in one place; docs/ENVIRONMENT.md is the table of
/// them (a test keeps the two equal). Flags are the interface: these are overrides for
/// machines (libraries, threads), measurements (A/B switches, profiles) and the launcher.
public enum HSAEnvironment: String, CaseIterable, Sendable {
    // Machine
    case numThreads = "HSA_NUM_THREADS"
    case cudaLibrary = "HSA_CUDA_LIBRARY"
    case nvrtcLibrary = "HSA_NVRTC_LIBRARY"
    case cublasLibrary = "HSA_CUBLAS_LIBRARY"
    case ncclLibrary = "HSA_NCCL_LIBRARY"
    case kernelCache = "HSA_KERNEL_CACHE"
    case kvDeviceBytes = "HSA_KV_DEVICE_BYTES"
    // GPU precision and kernel switches
    case matmulPrecision = "HSA_MATMUL_PRECISION"
    case attentionPrecision = "HSA_ATTENTION_PRECISION"
    case attentionV1 = "HSA_ATTENTION_V1"
    case overlapReduce = "HSA_OVERLAP_REDUCE"
    // Debugging and profiling
    case cudaSync = "HSA_CUDA_SYNC"
    case cudaProfile = "HSA_CUDA_PROFILE"
    case cudaKernelProfile = "HSA_CUDA_KERNEL_PROFILE"
    case debug = "HSA_DEBUG"
    // Multi-GPU launcher (set by `hsa train --gpus N` for its ranks)
    case rank = "HSA_RANK"
    case worldSize = "HSA_WORLD_SIZE"
    case deviceOrdinal = "HSA_DEVICE_ORDINAL"
    case ncclIDFile = "HSA_NCCL_ID_FILE"
    case launcherPID = "HSA_LAUNCHER_PID"
    case ncclTimeout = "HSA_NCCL_TIMEOUT"
    // Server
    case apiKey = "HSA_API_KEY"
    // Tests only
    case testKillRank = "HSA_TEST_KILL_RANK"
    case testKillStep = "HSA_TEST_KILL_STEP"

    /// The variable's value in this process, nil when unset.
    public var value: String? { ProcessInfo.processInfo.environment[rawValue] }

    /// Whether the variable is set to `1`.
    public var isOn: Bool { value == "1" }

    /// What it does, as docs/ENVIRONMENT.md's table says.
    public var summary: String {
        switch self {
        case .numThreads:
            return "Worker threads of the CPU loops: 1 … 4 × the processors (default: the "
                + "processors)"
        case .cudaLibrary: return "Path of libcuda, tried before the standard search list"
        case .nvrtcLibrary: return "Path of libnvrtc, tried before the standard search list"
        case .cublasLibrary: return "Path of libcublas, tried before the standard search list"
        case .ncclLibrary: return "Path of libnccl, tried before the standard search list"
        case .kernelCache:
            return "Directory of compiled CUDA kernels (default ~/.cache/hsa/kernels)"
        case .kvDeviceBytes:
            return "GPU bytes for streamed chunk keys/values before they spill to pinned host "
                + "memory (0: spill all)"
        case .matmulPrecision: return "fp32 or bf16 GEMMs on the GPU (`--matmul-precision`)"
        case .attentionPrecision:
            return "fp32 or bf16 attention on the GPU (`--attention-precision`)"
        case .attentionV1: return "1: the untiled attention kernels (A/B measurements)"
        case .overlapReduce:
            return "0: reduce gradients after the backward pass instead of overlapping it"
        case .cudaSync: return "1: wait for the GPU after every op, so a fault names its op"
        case .cudaProfile: return "1: print per-op GPU and host times at exit"
        case .cudaKernelProfile: return "1: time every kernel launch"
        case .debug: return "Set: print NVRTC compile logs"
        case .rank: return "Set by the launcher: the rank of this process"
        case .worldSize: return "Set by the launcher: the number of ranks"
        case .deviceOrdinal: return "Set by the launcher: the GPU of this rank"
        case .ncclIDFile: return "Set by the launcher: the file that hands rank 0's NCCL id on"
        case .launcherPID: return "Set by the launcher: its process id (a rank stops without it)"
        case .ncclTimeout: return "Seconds a rank waits for the NCCL id (default 300)"
        case .apiKey:
            return "hsa-serve: the API key clients must send, unless `--api-key-file` names one"
        case .testKillRank: return "Tests: the rank that fault injection stops"
        case .testKillStep: return "Tests: the step at which it stops"
        }
    }
}
