// Which kernels attention runs: fp32 on CUDA cores (the CPU's results to fp32 rounding) or
// bf16 tensor cores (Kernels/AttentionTensorCoreKernels.swift for dense and encoder attention,
// Kernels/SparseTensorCoreKernels.swift for HSA's sparse attention).
import HSACore

/// How attention multiplies: dense (sliding-window, full, the chunk encoder's) and sparse
/// (HSA's attention inside the selected chunks).
public enum AttentionPrecision: String, Sendable, CaseIterable {
    /// fp32 on CUDA cores: matches the CPU to fp32 rounding. The default.
    case fp32
    /// bf16 tensor cores where the shape allows (HS a multiple of 16 up to 64, sm_80+): Q, K,
    /// V, dOut and probabilities rounded to bf16 on the fly, fp32 accumulation and softmax
    /// statistics; inputs, outputs and saved tensors stay fp32 in memory.
    case bf16

    /// The precision named by `HSA_ATTENTION_PRECISION` (fp32 when unset).
    /// - Throws: `CUDAError.invalidArgument` for an unknown name.
    public static func fromEnvironment() throws -> AttentionPrecision {
        try precision(fromEnvironment: HSAEnvironment.attentionPrecision.rawValue, fallback: .fp32)
    }
}
