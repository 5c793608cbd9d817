import Foundation
import HSACore

// Float64 oracle of Mamba2's SSD scan: the plain sequential recurrence, token by token, and its
// reverse-mode backward, independent of the chunked kernels (SSDScan.swift). Letters as in
// `SSDShape` (its chunk length is ignored here). Per batch row b and head h, g = h / (H / G):
//   h_t = exp(dt_t A) h_{t-1} + dt_t x_t B_t^T    (P, N),   y_t = h_t C_t + D x_t.
// Layouts: x, y (B, T, H, P); dt (B, T, H); A, D (H); B, C (B, T, G, N); states (B, H, P, N).

extension Oracle {
    /// The inputs of one SSD scan, or (as the backward's result) their gradients.
    public struct SSDValues: Sendable {
        public var x, dt, A, B, C, D, initialState: [Double]

        /// Groups the values.
        public init(
            x: [Double], dt: [Double], A: [Double], B: [Double], C: [Double], D: [Double],
            initialState: [Double]
        ) {
            (self.x, self.dt, self.A, self.B, self.C, self.D) = (x, dt, A, B, C, D)
            self.initialState = initialState
        }
    }

    /// The sequential recurrence: y (B, T, H, P) and the final state (B, H, P, N); with
    /// `keepStates`, also every h_t as (B, H, T, P, N) (for the backward), else no states.
    public static func ssdScanForward(_ v: SSDValues, shape: SSDShape, keepStates: Bool = false)
        -> (out: [Double], finalState: [Double], states: [Double])
    {
        let (batch, T, H, P, G, N) = (
            shape.batch, shape.sequenceLength, shape.heads, shape.headDim, shape.groups,
            shape.stateDim
        )
        let HG = H / G
        var out = [Double](repeating: 0, count: batch * T * H * P)
        var final = v.initialState
        var states = [Double](repeating: 0, count: keepStates ? batch * H * T * P * N : 0)
        for b in 0..<batch {
            for h in 0..<H {
                let g = h / HG
                var state = Array(v.initialState[((b * H + h) * P * N)..<((b * H + h + 1) * P * N)])
                for t in 0..<T {
                    let dt = v.dt[(b * T + t) * H + h]
                    let alpha = exp(dt * v.A[h])
                    let xt = ((b * T + t) * H + h) * P
                    let bc = ((b * T + t) * G + g) * N
                    for p in 0..<P {
                        for n in 0..<N {
                            state[p * N + n] =
                                alpha * state[p * N + n] + dt * v.x[xt + p] * v.B[bc + n]
                        }
                    }
                    for p in 0..<P {
                        var y = v.D[h] * v.x[xt + p]
                        for n in 0..<N { y += state[p * N + n] * v.C[bc + n] }
                        out[xt + p] = y
                    }
                    if keepStates {
                        let base = ((b * H + h) * T + t) * P * N
                        states.replaceSubrange(base..<(base + P * N), with: state)
                    }
                }
                final.replaceSubrange(
                    ((b * H + h) * P * N)..<((b * H + h + 1) * P * N), with: state)
            }
        }
        return (out, final, states)
    }

    /// Reverse mode through the recurrence, last token first, carrying dh = dL/dh_t (from
    /// dFinalState), with α_t = exp(dt_t A): dh += dy_t C_t^T; dC_t = h_t^T dy_t;
    /// dD += dy_t · x_t; dx_t = D dy_t + dt_t dh B_t; dB_t = dt_t dh^T x_t;
    /// ddt_t = x_t^T dh B_t + A α_t <dh, h_{t-1}>; dA += dt_t α_t <dh, h_{t-1}>; dh = α_t dh.
    /// - Returns: the gradient of every input (dInitialState = the final dh).
    public static func ssdScanBackward(
        dOut: [Double], dFinalState: [Double], _ v: SSDValues, shape: SSDShape
    ) -> SSDValues {
        let (batch, T, H, P, G, N) = (
            shape.batch, shape.sequenceLength, shape.heads, shape.headDim, shape.groups,
            shape.stateDim
        )
        let HG = H / G
        let states = ssdScanForward(v, shape: shape, keepStates: true).states
        var grads = SSDValues(
            x: v.x.map { _ in 0 }, dt: v.dt.map { _ in 0 }, A: v.A.map { _ in 0 },
            B: v.B.map { _ in 0 }, C: v.C.map { _ in 0 }, D: v.D.map { _ in 0 },
            initialState: v.initialState.map { _ in 0 })
        for b in 0..<batch {
            for h in 0..<H {
                let g = h / HG
                let stateBase = (b * H + h) * P * N
                var dh = Array(dFinalState[stateBase..<(stateBase + P * N)])
                for t in stride(from: T - 1, through: 0, by: -1) {
                    let dt = v.dt[(b * T + t) * H + h]
                    let alpha = exp(dt * v.A[h])
                    let xt = ((b * T + t) * H + h) * P
                    let bc = ((b * T + t) * G + g) * N
                    let current = ((b * H + h) * T + t) * P * N
                    func previous(_ k: Int) -> Double {
                        t == 0
                            ? v.initialState[stateBase + k]
                            : states[((b * H + h) * T + t - 1) * P * N + k]
                    }
                    for p in 0..<P {
                        let dy = dOut[xt + p]
                        grads.D[h] += dy * v.x[xt + p]
                        grads.x[xt + p] += v.D[h] * dy
                        for n in 0..<N {
                            dh[p * N + n] += dy * v.C[bc + n]
                            grads.C[bc + n] += states[current + p * N + n] * dy
                        }
                    }
                    var dAlpha = 0.0
                    var dDt = 0.0
                    for p in 0..<P {
                        for n in 0..<N {
                            let k = p * N + n
                            dAlpha += dh[k] * previous(k)
                            dDt += dh[k] * v.x[xt + p] * v.B[bc + n]
                            grads.x[xt + p] += dt * dh[k] * v.B[bc + n]
                            grads.B[bc + n] += dt * dh[k] * v.x[xt + p]
                        }
                    }
                    grads.dt[(b * T + t) * H + h] = dDt + dAlpha * alpha * v.A[h]
                    grads.A[h] += dAlpha * alpha * dt
                    for k in 0..<P * N { dh[k] *= alpha }
                }
                grads.initialState.replaceSubrange(stateBase..<(stateBase + P * N), with: dh)
            }
        }
        return grads
    }
}
