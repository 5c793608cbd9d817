import Foundation
import HSACore

// Mamba2's SSD scan backward, chunked like the forward (SSDScan.swift; letters as there). Per
// batch row and head, chunks are visited last to first carrying dS, the loss gradient of the
// state after the chunk (dL/d(final state) for the last chunk). The chunk-start states S0 are
// recomputed first by a forward pass over the states alone (nothing is saved by the forward).
// Per chunk, with M_ij = exp(cum_i - cum_j) dt_j (C_i · B_j) for j <= i and e_i = exp(cum_i):
//
//   dx_i  = D dy_i + Σ_{k>=i} M_ki dy_k + exp(cum_last - cum_i) dt_i dS B_i
//   dC_i  = e_i S0^T dy_i + Σ_{j<=i} (dy_i · x_j) exp(cum_i - cum_j) dt_j B_j
//   dB_j  = Σ_{i>=j} (dy_i · x_j) exp(cum_i - cum_j) dt_j C_i
//           + exp(cum_last - cum_j) dt_j dS^T x_j
//   ddt_j = Σ_{i>=j} (dy_i · x_j) exp(cum_i - cum_j) (C_i · B_j)
//           + exp(cum_last - cum_j) x_j^T dS B_j
//           + A da_j,  da_j = Σ_{i>=j} dcum_i          (a_j = dt_j A, so dA = Σ_j dt_j da_j)
//   dcum_i: + e_i dy_i · (S0 C_i), + Σ_j (dy_i · x_j) M_ij, - Σ_k (dy_k · x_i) M_ki, and for
//           the state: - exp(cum_last - cum_i) dt_i x_i^T dS B_i, plus on the last token
//           e_last <dS, S0> + Σ_j exp(cum_last - cum_j) dt_j x_j^T dS B_j
//   dD   += Σ_i dy_i · x_i
//   dS0   = e_last dS + Σ_i e_i dy_i C_i^T            (the dS of the previous chunk)
//
// Work items are (batch row, head) pairs. dB and dC sum over the heads of a group and dA, dD
// over the batch: each item writes its own partial ((B, T, H, N) for dB and dC, (B, H) for dA
// and dD) and the partials are reduced in index order afterwards, so results are bitwise
// identical for every thread count.

// MARK: - Backward

extension CPU {
    /// Backward of `ssdScanForward` for the same inputs and shape.
    /// - Parameters:
    ///   - gradients: dx, dDt, dA, dB, dC, dD and (when non-nil) dInitialState, all overwritten
    ///     (see `SSDGradients`).
    ///   - dOut: (B, T, H, P) the gradient of y.
    ///   - dFinalState: (B, H, P, N) the gradient of the final state, or nil for zeros (the
    ///     final state is not used).
    ///   - inputs: the forward's inputs.
    ///   - shape: the forward's sizes (the chunk length may differ).
    public static func ssdScanBackward(
        into gradients: SSDGradients, dOut: UnsafePointer<Float>,
        dFinalState: UnsafePointer<Float>?, inputs: SSDInputs, shape: SSDShape
    ) {
        let (batch, T, H, P, G, N, L, HG) = shape.checkedSizes()
        let rows = batch * H
        // Per-(b, h) partials: dB and dC as (B, T, H, N), dA and dD as (B, H).
        let partialB = UnsafeMutablePointer<Float>.allocate(capacity: max(rows * T * N, 1))
        let partialC = UnsafeMutablePointer<Float>.allocate(capacity: max(rows * T * N, 1))
        let partialA = UnsafeMutablePointer<Float>.allocate(capacity: max(rows, 1))
        let partialD = UnsafeMutablePointer<Float>.allocate(capacity: max(rows, 1))
        defer {
            for buffer in [partialB, partialC, partialA, partialD] { buffer.deallocate() }
        }
        let chunks = shape.chunkCount

        rowParallel(rows, workPerRow: T * (2 * L + 4 * N) * P) { row in
            let (b, h) = (row / H, row % H)
            let sequence = SSDHeadSequence(inputs, shape: shape, batchRow: b, head: h)
            let scratch = SSDBackwardScratch(chunks: chunks, L: L, P: P, N: N)
            defer { scratch.deallocate() }
            // S0 of every chunk, from a forward pass over the states alone.
            let states = scratch.states
            if let initial = inputs.initialState {
                states.update(from: initial + row * P * N, count: P * N)
            } else {
                states.update(repeating: 0, count: P * N)
            }
            for c in 0..<max(chunks - 1, 0) {
                let (s, length) = (c * L, min(L, T - c * L))
                let next = states + (c + 1) * P * N
                next.update(from: states + c * P * N, count: P * N)
                sequence.chunkLogDecay(scratch.cum, start: s, length: length)
                sequence.advanceState(next, cum: scratch.cum, start: s, length: length)
            }

            var dS = scratch.dState
            var dPrevious = scratch.dPreviousState
            if let dFinalState {
                dS.update(from: dFinalState + row * P * N, count: P * N)
            } else {
                dS.update(repeating: 0, count: P * N)
            }
            let partial = SSDHeadGradients(
                dx: gradients.dx + (b * T * H + h) * P, dDt: gradients.dDt + b * T * H + h,
                dB: partialB + (b * T * H + h) * N, dC: partialC + (b * T * H + h) * N,
                xStride: H * P, dtStride: H, projectionStride: H * N)
            var dA: Float = 0
            var dD: Float = 0
            for c in stride(from: chunks - 1, through: 0, by: -1) {
                let (s, length) = (c * L, min(L, T - c * L))
                let sums = sequence.chunkBackward(
                    partial, dPreviousState: dPrevious, dOut: dOut + (b * T * H + h) * P,
                    dState: dS, state: states + c * P * N, scratch: scratch, start: s,
                    length: length)
                dA += sums.dA
                dD += sums.dD
                swap(&dS, &dPrevious)
            }
            if let dInitial = gradients.dInitialState {
                (dInitial + row * P * N).update(from: dS, count: P * N)
            }
            partialA[row] = dA
            partialD[row] = dD
        }

        // Reductions in index order: dB, dC over the heads of each group, dA, dD over the batch.
        for h in 0..<H {
            gradients.dA[h] = 0
            gradients.dD[h] = 0
            for b in 0..<batch {
                gradients.dA[h] += partialA[b * H + h]
                gradients.dD[h] += partialD[b * H + h]
            }
        }
        rowParallel(batch * T, workPerRow: H * N) { bt in
            for g in 0..<G {
                let dB = gradients.dB + (bt * G + g) * N
                let dC = gradients.dC + (bt * G + g) * N
                dB.update(repeating: 0, count: N)
                dC.update(repeating: 0, count: N)
                for h in (g * HG)..<((g + 1) * HG) {
                    let pB = partialB + (bt * H + h) * N
                    let pC = partialC + (bt * H + h) * N
                    for n in 0..<N {
                        dB[n] += pB[n]
                        dC[n] += pC[n]
                    }
                }
            }
        }
    }
}

// MARK: - One chunk

/// Where one (batch row, head) sequence's gradients go; token t of each at `base + t * stride`.
struct SSDHeadGradients {
    let dx: UnsafeMutablePointer<Float>
    let dDt: UnsafeMutablePointer<Float>
    /// This head's own dB and dC (summed over the group's heads afterwards).
    let dB: UnsafeMutablePointer<Float>
    let dC: UnsafeMutablePointer<Float>
    let xStride: Int
    let dtStride: Int
    let projectionStride: Int
}

/// The scratch memory of one work item of `ssdScanBackward`.
struct SSDBackwardScratch {
    /// (chunks, P, N) the state before each chunk.
    let states: UnsafeMutablePointer<Float>
    /// (P, N) twice: dS of the current chunk's end and of its start.
    let dState: UnsafeMutablePointer<Float>
    let dPreviousState: UnsafeMutablePointer<Float>
    /// (L) cum, dcum, ddt; (L, L) C·B scores.
    let cum: UnsafeMutablePointer<Float>
    let dCum: UnsafeMutablePointer<Float>
    let dDt: UnsafeMutablePointer<Float>
    let scores: UnsafeMutablePointer<Float>
    /// (P) dS B_j.
    let stateTimesB: UnsafeMutablePointer<Float>

    init(chunks: Int, L: Int, P: Int, N: Int) {
        states = .allocate(capacity: max(chunks, 1) * P * N)
        dState = .allocate(capacity: P * N)
        dPreviousState = .allocate(capacity: P * N)
        cum = .allocate(capacity: L)
        dCum = .allocate(capacity: L)
        dDt = .allocate(capacity: L)
        scores = .allocate(capacity: L * L)
        stateTimesB = .allocate(capacity: P)
    }

    func deallocate() {
        for buffer in [states, dState, dPreviousState, cum, dCum, dDt, scores, stateTimesB] {
            buffer.deallocate()
        }
    }
}

extension SSDHeadSequence {
    /// One chunk of the backward (the formulas at the top of this file): writes dx, ddt, dB,
    /// dC of the chunk's tokens (overwriting) and `dPreviousState` = dS0.
    /// - Parameters:
    ///   - dOut: this sequence's dy, token t at `dOut + t * xStride`.
    ///   - dState: dS, the gradient of the state after the chunk.
    ///   - state: S0, the state before the chunk.
    /// - Returns: the chunk's contributions to dA[h] and dD[h].
    func chunkBackward(
        _ grads: SSDHeadGradients, dPreviousState: UnsafeMutablePointer<Float>,
        dOut: UnsafePointer<Float>, dState: UnsafePointer<Float>, state: UnsafePointer<Float>,
        scratch: SSDBackwardScratch, start s: Int, length: Int
    ) -> (dA: Float, dD: Float) {
        let (P, N) = (headDim, stateDim)
        let (cum, dCum, dDtLocal, scores) = (
            scratch.cum, scratch.dCum, scratch.dDt, scratch.scores
        )
        chunkLogDecay(cum, start: s, length: length)
        chunkScores(scores, start: s, length: length)
        dCum.update(repeating: 0, count: length)
        dDtLocal.update(repeating: 0, count: length)
        func dy(_ i: Int) -> UnsafePointer<Float> { dOut + (s + i) * xStride }
        func dx(_ i: Int) -> UnsafeMutablePointer<Float> { grads.dx + (s + i) * grads.xStride }
        func dB(_ i: Int) -> UnsafeMutablePointer<Float> {
            grads.dB + (s + i) * grads.projectionStride
        }
        func dC(_ i: Int) -> UnsafeMutablePointer<Float> {
            grads.dC + (s + i) * grads.projectionStride
        }

        // Skip: y_i += D x_i.
        var dD: Float = 0
        for i in 0..<length {
            let (dyi, xi, dxi) = (dy(i), x(s + i), dx(i))
            for p in 0..<P {
                dD += dyi[p] * xi[p]
                dxi[p] = d * dyi[p]
            }
            dB(i).update(repeating: 0, count: N)
            dC(i).update(repeating: 0, count: N)
        }

        // Inter-chunk: y_i += e_i S0 C_i, and the state path S1 = e_last S0 + ...
        let last = length - 1
        let decayLast = exp(cum[last])
        for k in 0..<P * N { dPreviousState[k] = decayLast * dState[k] }
        var stateDot: Float = 0
        for k in 0..<P * N { stateDot += dState[k] * state[k] }
        dCum[last] += decayLast * stateDot
        for i in 0..<length {
            let (dyi, ci, dci) = (dy(i), C(s + i), dC(i))
            let decay = exp(cum[i])
            var yDot: Float = 0
            for p in 0..<P {
                let row = state + p * N
                let dRow = dPreviousState + p * N
                let c = decay * dyi[p]
                var z: Float = 0
                for n in 0..<N {
                    z += row[n] * ci[n]
                    dci[n] += c * row[n]
                    dRow[n] += c * ci[n]
                }
                yDot += dyi[p] * z
            }
            dCum[i] += decay * yDot
        }

        // Intra-chunk: y_i += Σ_{j<=i} M_ij x_j.
        for i in 0..<length {
            let (dyi, ci, dci) = (dy(i), C(s + i), dC(i))
            for j in 0...i {
                let xj = x(s + j)
                var g: Float = 0
                for p in 0..<P { g += dyi[p] * xj[p] }
                let decay = exp(cum[i] - cum[j])
                let dtj = dt(s + j)
                let m = decay * dtj * scores[i * length + j]
                let dxj = dx(j)
                for p in 0..<P { dxj[p] += m * dyi[p] }
                let dScore = g * decay * dtj
                let (bj, dbj) = (B(s + j), dB(j))
                for n in 0..<N {
                    dci[n] += dScore * bj[n]
                    dbj[n] += dScore * ci[n]
                }
                dDtLocal[j] += g * decay * scores[i * length + j]
                dCum[i] += g * m
                dCum[j] -= g * m
            }
        }

        // State path: S1 += Σ_j exp(cum_last - cum_j) dt_j x_j B_j^T.
        let v = scratch.stateTimesB
        for j in 0..<length {
            let (xj, bj, dxj, dbj) = (x(s + j), B(s + j), dx(j), dB(j))
            let decay = exp(cum[last] - cum[j])
            let w = decay * dt(s + j)
            var r: Float = 0
            for p in 0..<P {
                let dRow = dState + p * N
                var dot: Float = 0
                for n in 0..<N { dot += dRow[n] * bj[n] }
                v[p] = dot
                r += xj[p] * dot
            }
            for p in 0..<P { dxj[p] += w * v[p] }
            for p in 0..<P {
                let dRow = dState + p * N
                let c = w * xj[p]
                for n in 0..<N { dbj[n] += c * dRow[n] }
            }
            dDtLocal[j] += decay * r
            dCum[last] += w * r
            dCum[j] -= w * r
        }

        // cum_i = Σ_{k<=i} dt_k A: da_k = Σ_{i>=k} dcum_i.
        var dA: Float = 0
        var running: Float = 0
        for k in stride(from: last, through: 0, by: -1) {
            running += dCum[k]
            grads.dDt[(s + k) * grads.dtStride] = dDtLocal[k] + a * running
            dA += dt(s + k) * running
        }
        return (dA, dD)
    }
}
