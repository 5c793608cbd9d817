import Foundation
import HSACore

// The small ops of the Mamba2 mixer block around the SSD scan (Dao & Gu 2024, the Mamba2
// block): the causal depthwise conv1d over (x, B, C), SiLU, dt = softplus(raw + bias) and the
// gated RMSNorm RMSNorm(y · SiLU(z)). Host loops: the tensors are small next to the matmuls.
// Layouts are row-major with rows = batch * length tokens, batch-major.

extension CPU {
    // MARK: - Causal depthwise conv1d

    /// out[b, t, d] = bias[d] + Σ_k weight[d, k] · input[b, t - (K - 1) + k, d] (zero before the
    /// sequence start): PyTorch's depthwise `Conv1d(D, D, K, groups: D, padding: K - 1)` cut to
    /// the first T outputs. With `history`, the K - 1 rows before the sequence start are
    /// `history[b]` instead of zeros (streaming: the previous block's last inputs).
    /// - Parameters: out and input (B, T, D); weight (D, K); bias (D); history (B, K - 1, D).
    public static func causalConv1dForward(
        out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, batch: Int, length: Int,
        channels: Int, kernel: Int, history: UnsafePointer<Float>? = nil
    ) {
        let (T, D, K) = (length, channels, kernel)
        rowParallel(batch * T, workPerRow: D * K) { row in
            let o = out + row * D
            for d in 0..<D { o[d] = bias[d] }
            forEachConvTap(
                ofRow: row, input: input, history: history, length: T, channels: D, kernel: K
            ) { k, x in
                for d in 0..<D { o[d] += weight[d * K + k] * x[d] }
            }
        }
    }

    /// Backward of `causalConv1dForward`: dInput OVERWRITTEN, dWeight and dBias accumulated.
    /// `history` is the forward's; it is a constant here (a carried state: no gradient flows
    /// into the previous segment), but its rows still weigh in dWeight.
    public static func causalConv1dBackward(
        dInput: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
        dBias: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
        input: UnsafePointer<Float>, weight: UnsafePointer<Float>, batch: Int, length: Int,
        channels: Int, kernel: Int, history: UnsafePointer<Float>? = nil
    ) {
        let (T, D, K) = (length, channels, kernel)
        rowParallel(batch * T, workPerRow: D * K) { row in
            let s = row % T
            let dx = dInput + row * D
            for d in 0..<D { dx[d] = 0 }
            // input[s] fed out[t] for t = s + (K - 1) - k.
            for k in 0..<K {
                let t = s + (K - 1) - k
                guard t < T else { continue }
                let dy = dOut + (row - s + t) * D
                for d in 0..<D { dx[d] += weight[d * K + k] * dy[d] }
            }
        }
        // Parameter gradients summed in index order (deterministic).
        for row in 0..<(batch * T) {
            let dy = dOut + row * D
            for d in 0..<D { dBias[d] += dy[d] }
            forEachConvTap(
                ofRow: row, input: input, history: history, length: T, channels: D, kernel: K
            ) { k, x in
                for d in 0..<D { dWeight[d * K + k] += dy[d] * x[d] }
            }
        }
    }

    /// Calls `body(k, x)`, k in order, for each tap of the conv's output row `row` (b * T + t)
    /// with an input row x: input[b, t - (K - 1) + k] (B, T, D), or before the sequence start
    /// one of the K - 1 rows of `history` (B, K - 1, D); without a history those taps are zeros
    /// and skipped.
    private static func forEachConvTap(
        ofRow row: Int, input: UnsafePointer<Float>, history: UnsafePointer<Float>?,
        length T: Int, channels D: Int, kernel K: Int, _ body: (Int, UnsafePointer<Float>) -> Void
    ) {
        let (b, t) = row.quotientAndRemainder(dividingBy: T)
        for k in 0..<K {
            let source = t - (K - 1) + k
            if source >= 0 {
                body(k, input + (b * T + source) * D)
            } else if let history {
                body(k, history + (b * (K - 1) + K - 1 + source) * D)
            }
        }
    }

    // MARK: - SiLU

    /// out = x · sigmoid(x), elementwise (out may be x).
    public static func siluForward(
        out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count: Int
    ) {
        for i in 0..<count {
            let x = input[i]
            out[i] = x / (1 + exp(-x))
        }
    }

    /// dInput = dOut · silu'(x), silu'(x) = s (1 + x (1 - s)), s = sigmoid(x); OVERWRITTEN.
    public static func siluBackward(
        dInput: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
        input: UnsafePointer<Float>, count: Int
    ) {
        for i in 0..<count {
            let x = input[i]
            let s = 1 / (1 + exp(-x))
            dInput[i] = dOut[i] * s * (1 + x * (1 - s))
        }
    }

    // MARK: - Softplus with a bias

    /// out[r, h] = softplus(raw[r, h] + bias[h]) = log(1 + exp(·)), computed stably.
    /// - Parameters: out and raw (rows, H), raw with row stride `rawStride`; bias (H).
    public static func softplusForward(
        out: UnsafeMutablePointer<Float>, raw: UnsafePointer<Float>, rawStride: Int,
        bias: UnsafePointer<Float>, rows: Int, heads: Int
    ) {
        for r in 0..<rows {
            for h in 0..<heads {
                let v = raw[r * rawStride + h] + bias[h]
                out[r * heads + h] = v > 20 ? v : log1p(exp(v))
            }
        }
    }

    /// dRaw[r, h] = dOut[r, h] · sigmoid(raw + bias) (OVERWRITTEN, row stride `rawStride`);
    /// dBias[h] += Σ_r dRaw[r, h].
    public static func softplusBackward(
        dRaw: UnsafeMutablePointer<Float>, rawStride: Int, dBias: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, raw: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        rows: Int, heads: Int
    ) {
        for r in 0..<rows {
            for h in 0..<heads {
                let v = raw[r * rawStride + h] + bias[h]
                let g = dOut[r * heads + h] / (1 + exp(-v))
                dRaw[r * rawStride + h] = g
                dBias[h] += g
            }
        }
    }

    // MARK: - Gated RMSNorm

    /// out = RMSNorm(y · SiLU(z)) · weight, normalised over groups of `groupSize` channels of
    /// each row (Mamba2's `RMSNormGated` with norm_before_gate false).
    /// - Parameters: out, y, z (rows, E); weight (E); rstd (rows, E / groupSize) written.
    public static func gatedRMSNormForward(
        out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        y: UnsafePointer<Float>, z: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rows: Int, channels: Int, groupSize: Int, eps: Float
    ) {
        let groups = channels / groupSize
        rowParallel(rows, workPerRow: channels * 4) { r in
            for g in 0..<groups {
                let base = r * channels + g * groupSize
                var sum: Float = 0
                for i in 0..<groupSize {
                    let zi = z[base + i]
                    let v = y[base + i] * zi / (1 + exp(-zi))
                    out[base + i] = v
                    sum += v * v
                }
                let s = 1 / (sum / Float(groupSize) + eps).squareRoot()
                rstd[r * groups + g] = s
                for i in 0..<groupSize { out[base + i] *= s * weight[g * groupSize + i] }
            }
        }
    }

    /// Backward of `gatedRMSNormForward`: dY and dZ OVERWRITTEN, dWeight accumulated.
    public static func gatedRMSNormBackward(
        dY: UnsafeMutablePointer<Float>, dZ: UnsafeMutablePointer<Float>,
        dWeight: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
        y: UnsafePointer<Float>, z: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        rstd: UnsafePointer<Float>, rows: Int, channels: Int, groupSize: Int
    ) {
        let groups = channels / groupSize
        for r in 0..<rows {
            for g in 0..<groups {
                let base = r * channels + g * groupSize
                let s = rstd[r * groups + g]
                // v = y silu(z); out = v s w; dv = s (w dOut - v s² mean(v w dOut)).
                var dot: Float = 0
                for i in 0..<groupSize {
                    let zi = z[base + i]
                    let v = y[base + i] * zi / (1 + exp(-zi))
                    let wd = weight[g * groupSize + i] * dOut[base + i]
                    dot += v * wd
                    dWeight[g * groupSize + i] += dOut[base + i] * v * s
                }
                let mean = dot / Float(groupSize)
                for i in 0..<groupSize {
                    let zi = z[base + i]
                    let sig = 1 / (1 + exp(-zi))
                    let silu = zi * sig
                    let v = y[base + i] * silu
                    let wd = weight[g * groupSize + i] * dOut[base + i]
                    let dv = s * (wd - v * s * s * mean)
                    dY[base + i] = dv * silu
                    dZ[base + i] = dv * y[base + i] * sig * (1 + zi * (1 - sig))
                }
            }
        }
    }
}
