import Foundation
import HSACore

// RMSNorm over the last axis. Dimension letters: N rows, C channels.
// Forward: rstd = 1 / sqrt(mean(x^2) + eps), out = x * rstd * weight.

// MARK: - Forward

extension CPU {
    /// RMSNorm forward: `out[n] = input[n] * rstd[n] * weight`.
    /// - Parameters:
    ///   - out: (N, C) normalized rows, overwritten.
    ///   - rstd: (N) reciprocal RMS of each row, overwritten (kept for the backward pass).
    ///   - input: (N, C) rows to normalize.
    ///   - weight: (C) gain.
    ///   - rows: N.
    ///   - channels: C.
    ///   - eps: added to the mean square before the square root.
    public static func rmsNormForward(
        out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, channels: Int,
        eps: Float = 1e-6
    ) {
        rowParallel(rows, workPerRow: channels) { n in
            let x = input + n * channels
            let y = out + n * channels
            let meanSquare = rowDot(x, x, count: channels) / Float(channels)
            let r = 1 / (meanSquare + eps).squareRoot()
            rstd[n] = r
            for c in 0..<channels { y[c] = x[c] * r * weight[c] }
        }
    }
}

// MARK: - Backward

extension CPU {
    /// RMSNorm backward. With `xhat = x * rstd` and `g = dOut * weight`:
    /// `dInput += rstd * (g - xhat * mean(g * xhat))`, `dWeight += Σ_n dOut * xhat`.
    ///
    /// Both outputs accumulate. `dWeight` is reduced deterministically: threads split the
    /// channels and each channel sums its rows in row order.
    /// - Parameters:
    ///   - dInput: (N, C) input gradient, accumulated into.
    ///   - dWeight: (C) gain gradient, accumulated into.
    ///   - dOut: (N, C) output gradient.
    ///   - input: (N, C) forward input.
    ///   - weight: (C) gain.
    ///   - rstd: (N) saved by `rmsNormForward`.
    ///   - rows: N.
    ///   - channels: C.
    public static func rmsNormBackward(
        dInput: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rstd: UnsafePointer<Float>, rows: Int, channels: Int
    ) {
        // dInput: independent rows.
        rowParallel(rows, workPerRow: 2 * channels) { n in
            let x = input + n * channels
            let dy = dOut + n * channels
            let dx = dInput + n * channels
            let r = rstd[n]
            // Σ_c dy * w * x, then scaled: mean(g * xhat) = r * Σ(dy w x) / C.
            var projection: Float = 0
            for c in 0..<channels { projection += dy[c] * weight[c] * x[c] }
            let correction = projection * r * r / Float(channels)
            for c in 0..<channels {
                dx[c] += r * (dy[c] * weight[c] - x[c] * correction)
            }
        }
        // dWeight: split by channel so each channel's sum over rows has one fixed order.
        let blockSize = rows * channels < parallelThreshold ? max(channels, 1) : channelBlockSize
        blockParallel(count: channels, blockSize: blockSize, minimumCount: 1) { range in
            for n in 0..<rows {
                let x = input + n * channels
                let dy = dOut + n * channels
                let r = rstd[n]
                for c in range { dWeight[c] += dy[c] * x[c] * r }
            }
        }
    }
}
