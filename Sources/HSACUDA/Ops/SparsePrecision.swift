// Which kernels sparse attention runs: the fp32 v1 kernels (CUDA cores, the CPU's results to
// fp32 rounding) or the bf16 tensor-core v2 kernels (Kernels/SparseTensorCoreKernels.swift).

import Foundation

/// How sparse attention (HSA's attention inside the selected chunks) multiplies.
public enum SparsePrecision: String, Sendable, CaseIterable {
    /// fp32 on CUDA cores (v1): matches the CPU to fp32 rounding. The default.
    case fp32
    /// bf16 tensor cores (v2): Q, K, V, dOut and probabilities rounded to bf16 on the fly,
    /// fp32 accumulation; inputs, outputs and saved tensors stay fp32 in memory.
    case bf16

    /// The precision named by `HSA_SPARSE_PRECISION` (fp32 when unset).
    /// - Throws: `CUDAError.invalidArgument` for an unknown name.
    public static func fromEnvironment() throws -> SparsePrecision {
        guard let name = ProcessInfo.processInfo.environment["HSA_SPARSE_PRECISION"],
            !name.isEmpty
        else { return .fp32 }
        guard let precision = SparsePrecision(rawValue: name.lowercased()) else {
            throw CUDAError.invalidArgument(
                "HSA_SPARSE_PRECISION is '\(name)', expected fp32 or bf16")
        }
        return precision
    }
}
