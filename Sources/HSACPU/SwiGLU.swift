import Foundation
import HSACore

// SwiGLU gating: out = silu(gate) * up, silu(g) = g * sigmoid(g). Flat over n elements.

// MARK: - Forward

extension CPU {
    /// SwiGLU forward: `out = silu(gate) * up`, elementwise.
    /// - Parameters:
    ///   - out: (n) result, overwritten.
    ///   - gate: (n) gate pre-activations.
    ///   - up: (n) up projections.
    ///   - count: n.
    public static func swigluForward(
        out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
        count: Int
    ) {
        blockParallel(count: count, blockSize: cheapBlockSize) { range in
            for i in range {
                let g = gate[i]
                out[i] = g * sigmoid(g) * up[i]
            }
        }
    }
}

// MARK: - Backward

extension CPU {
    /// SwiGLU backward: `dGate = dOut * up * s * (1 + g * (1 - s))` with `s = sigmoid(g)`,
    /// `dUp = dOut * silu(g)`. Both outputs are OVERWRITTEN (not accumulated).
    /// - Parameters:
    ///   - dGate: (n) gate gradient, overwritten.
    ///   - dUp: (n) up gradient, overwritten.
    ///   - dOut: (n) output gradient.
    ///   - gate: (n) forward gate input.
    ///   - up: (n) forward up input.
    ///   - count: n.
    public static func swigluBackward(
        dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
        count: Int
    ) {
        blockParallel(count: count, blockSize: cheapBlockSize) { range in
            for i in range {
                let g = gate[i]
                let s = sigmoid(g)
                let d = dOut[i]
                dGate[i] = d * up[i] * s * (1 + g * (1 - s))
                dUp[i] = d * g * s
            }
        }
    }
}

// MARK: - Helpers

extension CPU {
    /// The logistic function; `exp(-g)` overflows to +inf for very negative g, giving 0 exactly.
    @inline(__always)
    static func sigmoid(_ g: Float) -> Float { 1 / (1 + exp(-g)) }
}
