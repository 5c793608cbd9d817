import CBLAS
import HSACore

// Linear layer through OpenBLAS. Dimension letters: N rows, I input channels, O output channels.
// Weights are stored (O, I) as in PyTorch's nn.Linear, so out = input @ weight^T + bias.

// MARK: - Forward

extension CPU {
    /// Linear forward: `out = input @ weight^T + bias` through `cblas_sgemm`.
    /// - Parameters:
    ///   - out: (N, O) result, overwritten.
    ///   - input: (N, I) rows.
    ///   - weight: (O, I) weight matrix.
    ///   - bias: (O) bias, or nil for none.
    ///   - rows: N.
    ///   - inputChannels: I.
    ///   - outputChannels: O.
    public static func matmulForward(
        out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, rows: Int, inputChannels: Int,
        outputChannels: Int
    ) {
        if rows == 0 || outputChannels == 0 { return }
        var beta: Float = 0
        if let bias {
            // Seed every output row with the bias and let the GEMM add onto it.
            for n in 0..<rows {
                (out + n * outputChannels).update(from: bias, count: outputChannels)
            }
            beta = 1
        }
        if inputChannels == 0 {
            if bias == nil { out.update(repeating: 0, count: rows * outputChannels) }
            return
        }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans,
            blasInt(rows), blasInt(outputChannels), blasInt(inputChannels),
            1, input, blasInt(inputChannels), weight, blasInt(inputChannels),
            beta, out, blasInt(outputChannels))
    }
}

// MARK: - Backward

extension CPU {
    /// Linear backward; every output ACCUMULATES (GEMMs run with beta 1):
    /// `dInput += dOut @ weight`, `dWeight += dOut^T @ input`, `dBias += Σ_n dOut[n]`.
    /// - Parameters:
    ///   - dInput: (N, I) input gradient, accumulated into; nil skips it.
    ///   - dWeight: (O, I) weight gradient, accumulated into.
    ///   - dBias: (O) bias gradient, accumulated into; nil skips it.
    ///   - dOut: (N, O) output gradient.
    ///   - input: (N, I) forward input.
    ///   - weight: (O, I) weight matrix.
    ///   - rows: N.
    ///   - inputChannels: I.
    ///   - outputChannels: O.
    public static func matmulBackward(
        dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>,
        dBias: UnsafeMutablePointer<Float>?, dOut: UnsafePointer<Float>,
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, inputChannels: Int,
        outputChannels: Int
    ) {
        if rows == 0 || outputChannels == 0 { return }
        if inputChannels > 0 {
            if let dInput {
                // (N, I) += (N, O) @ (O, I)
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasNoTrans,
                    blasInt(rows), blasInt(inputChannels), blasInt(outputChannels),
                    1, dOut, blasInt(outputChannels), weight, blasInt(inputChannels),
                    1, dInput, blasInt(inputChannels))
            }
            // (O, I) += (N, O)^T @ (N, I)
            cblas_sgemm(
                CblasRowMajor, CblasTrans, CblasNoTrans,
                blasInt(outputChannels), blasInt(inputChannels), blasInt(rows),
                1, dOut, blasInt(outputChannels), input, blasInt(inputChannels),
                1, dWeight, blasInt(inputChannels))
        }
        if let dBias {
            // Column sums split by column block; each column adds its rows in row order.
            let blockSize =
                rows * outputChannels < parallelThreshold ? outputChannels : channelBlockSize
            blockParallel(count: outputChannels, blockSize: blockSize, minimumCount: 1) { range in
                for n in 0..<rows {
                    let row = dOut + n * outputChannels
                    for o in range { dBias[o] += row[o] }
                }
            }
        }
    }
}

// MARK: - Helpers

extension CPU {
    /// Converts a dimension to OpenBLAS's 32-bit integer, trapping on overflow.
    @inline(__always)
    static func blasInt(_ value: Int) -> Int32 {
        precondition(value >= 0 && value <= Int(Int32.max), "BLAS dimension out of range: \(value)")
        return Int32(value)
    }
}
