import Foundation
import HSACore

// Linear layers through cublasSgemm (fp32, no TF32), or cublasGemmEx with fp32 storage and a
// reduced-precision tensor-core compute type when `matmulPrecision` asks for it. Letters: N rows, I input channels,
// O output channels; weight (O, I) as in nn.Linear. cuBLAS is column-major: a row-major
// (R, C) matrix is a column-major (C, R) one, so each row-major product is computed transposed.

extension CUDABackend {
    /// Linear forward: `out = input @ weight^T + bias` (same contract as `CPU.matmulForward`).
    /// - Parameters:
    ///   - out: (N, O) overwritten.
    ///   - input: (N, I).
    ///   - weight: (O, I).
    ///   - bias: (O) or nil.
    ///   - rows: N.
    ///   - inputChannels: I.
    ///   - outputChannels: O.
    public func matmulForward(
        out: DeviceBuffer, input: DeviceBuffer, weight: DeviceBuffer, bias: DeviceBuffer?,
        rows: Int, inputChannels: Int, outputChannels: Int
    ) throws {
        try require(out, rows * outputChannels, "out")
        try require(input, rows * inputChannels, "input")
        try require(weight, outputChannels * inputChannels, "weight")
        if rows == 0 || outputChannels == 0 { return }
        var beta: Float = 0
        if let bias {
            try require(bias, outputChannels, "bias")
            let count = rows * outputChannels
            try launch(
                "hsa_bias_broadcast_v1", in: .norm, grid: (gridStrideBlocks(count), 1),
                block: 256,
                [.buffer(out), .buffer(bias), .int(Int32(rows)), .int(Int32(outputChannels))])
            beta = 1
        }
        if inputChannels == 0 {
            if bias == nil { try out.zero() }
            return
        }
        // Column-major out (O×N) = W^T (W read as I×O) · input (I×N).
        try gemm(
            transposeA: true, transposeB: false, m: outputChannels, n: rows, k: inputChannels,
            a: weight, lda: inputChannels, b: input, ldb: inputChannels, beta: beta, c: out,
            ldc: outputChannels)
    }

    /// Linear backward; every output ACCUMULATES (same contract as `CPU.matmulBackward`):
    /// `dInput += dOut @ weight`, `dWeight += dOut^T @ input`, `dBias += Σ_n dOut[n]`
    /// (deterministic column sum).
    /// - Parameters:
    ///   - dInput: (N, I) accumulated into; nil skips it.
    ///   - dWeight: (O, I) accumulated into.
    ///   - dBias: (O) accumulated into; nil skips it.
    ///   - dOut: (N, O).
    ///   - input: (N, I).
    ///   - weight: (O, I).
    ///   - rows: N.
    ///   - inputChannels: I.
    ///   - outputChannels: O.
    public func matmulBackward(
        dInput: DeviceBuffer?, dWeight: DeviceBuffer, dBias: DeviceBuffer?, dOut: DeviceBuffer,
        input: DeviceBuffer, weight: DeviceBuffer, rows: Int, inputChannels: Int,
        outputChannels: Int
    ) throws {
        if rows == 0 || outputChannels == 0 { return }
        try require(dWeight, outputChannels * inputChannels, "dWeight")
        try require(dOut, rows * outputChannels, "dOut")
        if inputChannels > 0 {
            if let dInput {
                try require(dInput, rows * inputChannels, "dInput")
                // Column-major dInput (I×N) += W (I×O) · dOut (O×N).
                try gemm(
                    transposeA: false, transposeB: false, m: inputChannels, n: rows,
                    k: outputChannels, a: weight, lda: inputChannels, b: dOut,
                    ldb: outputChannels, beta: 1, c: dInput, ldc: inputChannels)
            }
            // Column-major dW (I×O) += input (I×N) · dOut^T (N×O).
            try gemm(
                transposeA: false, transposeB: true, m: inputChannels, n: outputChannels,
                k: rows, a: input, lda: inputChannels, b: dOut, ldb: outputChannels, beta: 1,
                c: dWeight, ldc: inputChannels)
        }
        if let dBias {
            try require(dBias, outputChannels, "dBias")
            try columnSum(
                into: dBias, a: dOut, b: nil, rowScale: nil, rows: rows, channels: outputChannels)
        }
    }

    /// Column-major `C = op(A) op(B) + beta C` with alpha 1 through cublasSgemm_v2.
    func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: DeviceBuffer, lda: Int,
        b: DeviceBuffer, ldb: Int, beta: Float, c: DeviceBuffer, ldc: Int
    ) throws {
        for value in [m, n, k, lda, ldb, ldc] where value > Int(Int32.max) {
            throw CUDAError.invalidArgument("GEMM dimension \(value) exceeds Int32")
        }
        try device.makeCurrent()
        var alpha: Float = 1
        var betaValue = beta
        let cublas = device.libraries.cublas
        let aPointer = UnsafeRawPointer(bitPattern: UInt(a.address))
        let bPointer = UnsafeRawPointer(bitPattern: UInt(b.address))
        let cPointer = UnsafeMutableRawPointer(bitPattern: UInt(c.address))
        // CUBLAS_OP_N = 0, CUBLAS_OP_T = 1.
        guard let computeType = matmulPrecision.cublasComputeType else {
            let status = cublas.cublasSgemm(
                cublasHandle, transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(n),
                Int32(k), &alpha, aPointer, Int32(lda), bPointer, Int32(ldb), &betaValue,
                cPointer, Int32(ldc))
            try cublas.check(status, "cublasSgemm_v2(m: \(m), n: \(n), k: \(k))")
            return
        }
        // fp32 in and out (CUDA_R_32F = 0); cuBLAS rounds A and B to the compute type's inputs
        // on the fly and accumulates in fp32. CUBLAS_GEMM_DEFAULT = -1.
        let status = cublas.cublasGemmEx(
            cublasHandle, transposeA ? 1 : 0, transposeB ? 1 : 0, Int32(m), Int32(n), Int32(k),
            &alpha, aPointer, 0, Int32(lda), bPointer, 0, Int32(ldb), &betaValue, cPointer, 0,
            Int32(ldc), computeType, -1)
        try cublas.check(
            status, "cublasGemmEx(\(matmulPrecision.rawValue), m: \(m), n: \(n), k: \(k))")
    }
}

// MARK: - Precision

/// How cuBLAS multiplies: inputs and outputs stay fp32 in memory either way.
public enum MatmulPrecision: String, Sendable, CaseIterable {
    /// True fp32 (cublasSgemm, no TF32): matches the CPU to fp32 rounding. The default.
    case fp32
    /// bf16 tensor cores: A and B rounded to bf16 on the fly, fp32 accumulation and output
    /// (cublasGemmEx, CUBLAS_COMPUTE_32F_FAST_16BF).
    case bf16
    /// TF32 tensor cores (CUBLAS_COMPUTE_32F_FAST_TF32), fp32 accumulation.
    case tf32

    /// The precision named by `HSA_MATMUL_PRECISION` (fp32 when unset).
    /// - Throws: `CUDAError.invalidArgument` for an unknown name.
    public static func fromEnvironment() throws -> MatmulPrecision {
        try precision(fromEnvironment: HSAEnvironment.matmulPrecision.rawValue, fallback: .fp32)
    }

    /// cublasComputeType_t for cublasGemmEx, or nil for the plain Sgemm path.
    var cublasComputeType: Int32? {
        switch self {
        case .fp32: return nil
        case .bf16: return 75  // CUBLAS_COMPUTE_32F_FAST_16BF
        case .tf32: return 77  // CUBLAS_COMPUTE_32F_FAST_TF32
        }
    }
}
