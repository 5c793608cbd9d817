import Foundation
import HSACore

// Mamba2's SSD (state-space duality) scan forward, chunked ("Transformers are SSMs", Dao & Gu
// 2024, section 6). Letters as in `SSDShape`: B batch, T sequence, H heads, P head size,
// G groups, N state size, L chunk length. Per batch row and head (group g = h / (H / G)):
//
//   h_t = exp(dt_t A) h_{t-1} + dt_t x_t B_t^T        state (P, N), h_{-1} = initial state
//   y_t = h_t C_t + D x_t
//
// Chunked form (SSDChunk.swift has the pieces): per chunk of l <= L tokens with state S0 before
// it and log-decay cumsum cum,
//   y_i = exp(cum_i) S0 C_i                                        (inter-chunk: the state)
//       + Σ_{j<=i} exp(cum_i - cum_j) dt_j (C_i · B_j) x_j          (intra-chunk: quadratic)
//       + D x_i
// then S0 advances to the chunk's last state. The intra part is attention with the causal
// decay mask exp(cum_i - cum_j) and no softmax; a CUDA kernel runs the same three steps.
// Work items are (batch row, head) pairs, each sequential over its chunks; results do not
// depend on the thread count.

// MARK: - Forward

extension CPU {
    /// The SSD scan forward over T tokens, continuing from `inputs.initialState`.
    /// - Parameters:
    ///   - out: (B, T, H, P) y, overwritten.
    ///   - finalState: (B, H, P, N) h_{T-1} (the initial state when T = 0), overwritten; the
    ///     next segment's `initialState`.
    ///   - inputs: x, dt, A, B, C, D and the initial state (see `SSDInputs` for layouts).
    ///   - shape: the sizes and the chunk length.
    public static func ssdScanForward(
        out: UnsafeMutablePointer<Float>, finalState: UnsafeMutablePointer<Float>,
        inputs: SSDInputs, shape: SSDShape
    ) {
        let (batch, T, H, P, _, N, L, _) = shape.checkedSizes()
        rowParallel(batch * H, workPerRow: T * (L + 2 * N) * P) { row in
            let (b, h) = (row / H, row % H)
            let sequence = SSDHeadSequence(inputs, shape: shape, batchRow: b, head: h)
            // finalState is the running state: S0 of each chunk in turn.
            let state = finalState + row * P * N
            if let initial = inputs.initialState {
                state.update(from: initial + row * P * N, count: P * N)
            } else {
                state.update(repeating: 0, count: P * N)
            }
            let cum = UnsafeMutablePointer<Float>.allocate(capacity: L)
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: L * L)
            defer {
                cum.deallocate()
                scores.deallocate()
            }
            let y = out + (b * T * H + h) * P
            for s in stride(from: 0, to: T, by: L) {
                let length = min(L, T - s)
                sequence.chunkLogDecay(cum, start: s, length: length)
                sequence.chunkScores(scores, start: s, length: length)
                sequence.chunkOutput(
                    y + s * H * P, state: state, cum: cum, scores: scores, start: s,
                    length: length)
                sequence.advanceState(state, cum: cum, start: s, length: length)
            }
        }
    }
}

// MARK: - Chunk output

extension SSDHeadSequence {
    /// `y_i = exp(cum_i) S0 C_i + Σ_{j<=i} exp(cum_i - cum_j) dt_j scores_ij x_j + D x_i` for
    /// the chunk's tokens, written at `y + i * xStride` (y has x's layout).
    func chunkOutput(
        _ y: UnsafeMutablePointer<Float>, state: UnsafePointer<Float>, cum: UnsafePointer<Float>,
        scores: UnsafePointer<Float>, start s: Int, length: Int
    ) {
        let (P, N) = (headDim, stateDim)
        for i in 0..<length {
            let yi = y + i * xStride
            let xi = x(s + i)
            let ci = C(s + i)
            let decay = exp(cum[i])
            for p in 0..<P {
                let row = state + p * N
                var dot: Float = 0
                for n in 0..<N { dot += row[n] * ci[n] }
                yi[p] = decay * dot + d * xi[p]
            }
            for j in 0...i {
                let w = exp(cum[i] - cum[j]) * dt(s + j) * scores[i * length + j]
                let xj = x(s + j)
                for p in 0..<P { yi[p] += w * xj[p] }
            }
        }
    }
}
