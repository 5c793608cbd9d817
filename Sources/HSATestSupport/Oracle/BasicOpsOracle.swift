import Foundation

/// Naive, readable Float64 reference implementations of the ops (forward and backward), written
/// for clarity, not speed. Each is checked by central differences and then used to check the
/// fp32 kernels. Other files add their ops in `extension Oracle`.
public enum Oracle {}

// Dimension letters: N rows, C channels, V vocab, I/O input/output channels, H heads,
// HS head size. All arrays are flat and row-major.

// MARK: - Embedding

extension Oracle {
    /// `out[n] = table[tokens[n]]`. tokens (N), table (V, C) → out (N, C).
    public static func embeddingForward(tokens: [Int32], table: [Double], channels: Int)
        -> [Double]
    {
        var out: [Double] = []
        for token in tokens {
            let start = Int(token) * channels
            out.append(contentsOf: table[start..<start + channels])
        }
        return out
    }

    /// `dTable[tokens[n]] += dOut[n]`. dOut (N, C), tokens (N) → dTable (V, C), from zero.
    public static func embeddingBackward(
        dOut: [Double], tokens: [Int32], vocab: Int, channels: Int
    ) -> [Double] {
        var dTable = [Double](repeating: 0, count: vocab * channels)
        for (n, token) in tokens.enumerated() {
            for c in 0..<channels { dTable[Int(token) * channels + c] += dOut[n * channels + c] }
        }
        return dTable
    }
}

// MARK: - RMSNorm

extension Oracle {
    /// RMSNorm: `rstd = 1/sqrt(mean(x^2) + eps)`, `out = x * rstd * weight`.
    /// input (N, C), weight (C) → out (N, C), rstd (N).
    public static func rmsNormForward(
        input: [Double], weight: [Double], rows: Int, channels: Int, eps: Double = 1e-6
    ) -> (out: [Double], rstd: [Double]) {
        var out = [Double](repeating: 0, count: rows * channels)
        var rstd = [Double](repeating: 0, count: rows)
        for n in 0..<rows {
            var meanSquare = 0.0
            for c in 0..<channels {
                let x = input[n * channels + c]
                meanSquare += x * x
            }
            meanSquare /= Double(channels)
            rstd[n] = 1 / (meanSquare + eps).squareRoot()
            for c in 0..<channels {
                out[n * channels + c] = input[n * channels + c] * rstd[n] * weight[c]
            }
        }
        return (out, rstd)
    }

    /// RMSNorm gradients from zero. dOut, input (N, C), weight (C) → dInput (N, C), dWeight (C).
    public static func rmsNormBackward(
        dOut: [Double], input: [Double], weight: [Double], rows: Int, channels: Int,
        eps: Double = 1e-6
    ) -> (dInput: [Double], dWeight: [Double]) {
        let rstd = rmsNormForward(
            input: input, weight: weight, rows: rows, channels: channels, eps: eps
        ).rstd
        var dInput = [Double](repeating: 0, count: rows * channels)
        var dWeight = [Double](repeating: 0, count: channels)
        for n in 0..<rows {
            let r = rstd[n]
            // g = dOut * weight; dx = r * (g - xhat * mean(g * xhat)), xhat = x * r.
            var meanGX = 0.0
            for c in 0..<channels {
                let i = n * channels + c
                meanGX += dOut[i] * weight[c] * input[i] * r
            }
            meanGX /= Double(channels)
            for c in 0..<channels {
                let i = n * channels + c
                let xhat = input[i] * r
                dInput[i] = r * (dOut[i] * weight[c] - xhat * meanGX)
                dWeight[c] += dOut[i] * xhat
            }
        }
        return (dInput, dWeight)
    }
}

// MARK: - Matmul

extension Oracle {
    /// `out = input @ weight^T + bias`. input (N, I), weight (O, I), bias (O)? → out (N, O).
    public static func matmulForward(
        input: [Double], weight: [Double], bias: [Double]?, rows: Int, inputChannels: Int,
        outputChannels: Int
    ) -> [Double] {
        var out = [Double](repeating: 0, count: rows * outputChannels)
        for n in 0..<rows {
            for o in 0..<outputChannels {
                var total = bias?[o] ?? 0
                for i in 0..<inputChannels {
                    total += input[n * inputChannels + i] * weight[o * inputChannels + i]
                }
                out[n * outputChannels + o] = total
            }
        }
        return out
    }

    /// Linear gradients from zero. dOut (N, O) → dInput (N, I), dWeight (O, I), dBias (O).
    public static func matmulBackward(
        dOut: [Double], input: [Double], weight: [Double], rows: Int, inputChannels: Int,
        outputChannels: Int
    ) -> (dInput: [Double], dWeight: [Double], dBias: [Double]) {
        var dInput = [Double](repeating: 0, count: rows * inputChannels)
        var dWeight = [Double](repeating: 0, count: outputChannels * inputChannels)
        var dBias = [Double](repeating: 0, count: outputChannels)
        for n in 0..<rows {
            for o in 0..<outputChannels {
                let d = dOut[n * outputChannels + o]
                dBias[o] += d
                for i in 0..<inputChannels {
                    dInput[n * inputChannels + i] += d * weight[o * inputChannels + i]
                    dWeight[o * inputChannels + i] += d * input[n * inputChannels + i]
                }
            }
        }
        return (dInput, dWeight, dBias)
    }
}

// MARK: - RoPE

extension Oracle {
    /// Rotate-half RoPE by `sign * angle`, angle = pos * theta^(-2i/HS). x (N, H, HS).
    static func rotate(
        _ x: [Double], positions: [Int32], heads: Int, headDim: Int, theta: Double, sign: Double
    ) -> [Double] {
        let half = headDim / 2
        var out = x
        for (n, position) in positions.enumerated() {
            for h in 0..<heads {
                let base = (n * heads + h) * headDim
                for i in 0..<half {
                    let angle = Double(position) * pow(theta, -Double(2 * i) / Double(headDim))
                    let c = cos(angle)
                    let s = sign * sin(angle)
                    let a = x[base + i]
                    let b = x[base + i + half]
                    out[base + i] = a * c - b * s
                    out[base + i + half] = b * c + a * s
                }
            }
        }
        return out
    }

    /// RoPE forward. x (N, H, HS), positions (N) → rotated x (N, H, HS).
    public static func ropeForward(
        _ x: [Double], positions: [Int32], heads: Int, headDim: Int, theta: Double
    ) -> [Double] {
        rotate(x, positions: positions, heads: heads, headDim: headDim, theta: theta, sign: 1)
    }

    /// RoPE backward (rotation by -angle). dOut (N, H, HS) → dX (N, H, HS).
    public static func ropeBackward(
        _ dOut: [Double], positions: [Int32], heads: Int, headDim: Int, theta: Double
    ) -> [Double] {
        rotate(dOut, positions: positions, heads: heads, headDim: headDim, theta: theta, sign: -1)
    }
}

// MARK: - SwiGLU

extension Oracle {
    /// `out = silu(gate) * up`, silu(g) = g / (1 + exp(-g)). gate, up (n) → out (n).
    public static func swigluForward(gate: [Double], up: [Double]) -> [Double] {
        (0..<gate.count).map { i in gate[i] / (1 + exp(-gate[i])) * up[i] }
    }

    /// SwiGLU gradients. dOut, gate, up (n) → dGate, dUp (n).
    public static func swigluBackward(dOut: [Double], gate: [Double], up: [Double])
        -> (dGate: [Double], dUp: [Double])
    {
        var dGate = [Double](repeating: 0, count: gate.count)
        var dUp = [Double](repeating: 0, count: gate.count)
        for i in 0..<gate.count {
            let s = 1 / (1 + exp(-gate[i]))
            // d silu / dg = s + g * s * (1 - s)
            dGate[i] = dOut[i] * up[i] * (s + gate[i] * s * (1 - s))
            dUp[i] = dOut[i] * gate[i] * s
        }
        return (dGate, dUp)
    }
}

// MARK: - Cross-entropy

extension Oracle {
    /// `losses[n] = logsumexp(logits[n]) - logits[n, t]`, 0 where t < 0. logits (N, V) → (N).
    public static func crossEntropyForward(
        logits: [Double], targets: [Int32], rows: Int, vocab: Int
    ) -> [Double] {
        (0..<rows).map { n in
            let target = Int(targets[n])
            if target < 0 { return 0 }
            let row = Array(logits[n * vocab..<(n + 1) * vocab])
            let maximum = row.max() ?? 0
            let logSumExp = maximum + log(row.reduce(0) { $0 + exp($1 - maximum) })
            return logSumExp - row[target]
        }
    }

    /// `dLogits[n] = rowScale[n] * (softmax(logits[n]) - onehot(t))`, zero rows where t < 0.
    public static func crossEntropyBackward(
        logits: [Double], targets: [Int32], rowScale: [Double], rows: Int, vocab: Int
    ) -> [Double] {
        var dLogits = [Double](repeating: 0, count: rows * vocab)
        for n in 0..<rows {
            let target = Int(targets[n])
            if target < 0 { continue }
            let row = Array(logits[n * vocab..<(n + 1) * vocab])
            let maximum = row.max() ?? 0
            let total = row.reduce(0) { $0 + exp($1 - maximum) }
            for v in 0..<vocab {
                let probability = exp(row[v] - maximum) / total
                dLogits[n * vocab + v] = rowScale[n] * (probability - (v == target ? 1 : 0))
            }
        }
        return dLogits
    }
}

// MARK: - AdamW

extension Oracle {
    /// One torch.optim.AdamW step in Double, in place on `parameters`, `m`, `v` (all (n)).
    public static func adamWUpdate(
        parameters: inout [Double], gradients: [Double], m: inout [Double], v: inout [Double],
        learningRate: Double, beta1: Double, beta2: Double, epsilon: Double,
        weightDecay: Double, step: Int
    ) {
        for i in 0..<parameters.count {
            parameters[i] -= learningRate * weightDecay * parameters[i]
            m[i] = beta1 * m[i] + (1 - beta1) * gradients[i]
            v[i] = beta2 * v[i] + (1 - beta2) * gradients[i] * gradients[i]
            let mHat = m[i] / (1 - pow(beta1, Double(step)))
            let vHat = v[i] / (1 - pow(beta2, Double(step)))
            parameters[i] -= learningRate * mHat / (vHat.squareRoot() + epsilon)
        }
    }
}
