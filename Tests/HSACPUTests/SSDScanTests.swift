import Foundation
import HSACPU
import HSACore
import HSATestSupport
import Testing

// Mamba2's SSD scan: the Float64 sequential oracle vs central differences, the chunked fp32
// kernels vs the oracle, state passing across segments, and thread-count invariance.

// MARK: - Fixtures

/// Random inputs of one problem, in Float64 rounded to fp32 values (so the oracle sees exactly
/// what the kernels see): dt in [0.05, 1], A in [-2, -0.3], x, B, C, D, the state normal.
struct SSDProblem {
    var shape: SSDShape
    var values: Oracle.SSDValues

    init(_ shape: SSDShape, seed: UInt64, zeroInitialState: Bool = false) {
        var rng = SplitMix64(seed: seed)
        func normals(_ count: Int, _ scale: Double = 1) -> [Double] {
            (0..<count).map { _ in Double(Float(rng.nextNormal() * scale)) }
        }
        func uniforms(_ count: Int, _ low: Double, _ high: Double) -> [Double] {
            (0..<count).map { _ in Double(Float(low + (high - low) * rng.nextUniform())) }
        }
        let (B, T, H) = (shape.batch, shape.sequenceLength, shape.heads)
        self.shape = shape
        values = Oracle.SSDValues(
            x: normals(shape.tokenCount), dt: uniforms(B * T * H, 0.05, 1),
            A: uniforms(H, -2, -0.3), B: normals(shape.projectionCount, 0.7),
            C: normals(shape.projectionCount, 0.7), D: normals(H),
            initialState: zeroInitialState
                ? [Double](repeating: 0, count: shape.stateCount) : normals(shape.stateCount))
    }

    /// Random cotangents for y and the final state.
    func cotangents(seed: UInt64) -> (dOut: [Double], dFinalState: [Double]) {
        var rng = SplitMix64(seed: seed)
        return (
            (0..<shape.tokenCount).map { _ in Double(Float(rng.nextNormal())) },
            (0..<shape.stateCount).map { _ in Double(Float(rng.nextNormal())) }
        )
    }
}

/// Every output of one fp32 forward + backward.
struct SSDRun: Equatable {
    var out, finalState: [Float]
    var dx, dDt, dA, dB, dC, dD, dInitialState: [Float]
}

/// Runs the fp32 forward and backward on `values` (every output buffer starts as NaN). Without
/// `passInitialState` the initial state pointer is nil (zeros); a nil `dFinalState` passes nil.
func runSSD(
    _ values: Oracle.SSDValues, shape: SSDShape, dOut: [Double], dFinalState: [Double]?,
    passInitialState: Bool = true
) -> SSDRun {
    let (x, dt, A, B, C, D) = (
        KernelBuffer(values.x), KernelBuffer(values.dt), KernelBuffer(values.A),
        KernelBuffer(values.B),
        KernelBuffer(values.C), KernelBuffer(values.D)
    )
    let initial = KernelBuffer(values.initialState)
    let inputs = SSDInputs(
        x: x.readOnly, dt: dt.readOnly, A: A.readOnly, B: B.readOnly, C: C.readOnly,
        D: D.readOnly, initialState: passInitialState ? initial.readOnly : nil)
    let out = KernelBuffer(count: shape.tokenCount)
    let finalState = KernelBuffer(count: shape.stateCount)
    CPU.ssdScanForward(
        out: out.pointer, finalState: finalState.pointer, inputs: inputs, shape: shape)

    let dy = KernelBuffer(dOut)
    let dFinal = dFinalState.map { KernelBuffer($0) }
    let grads = (
        dx: KernelBuffer(count: x.count), dDt: KernelBuffer(count: dt.count),
        dA: KernelBuffer(count: A.count),
        dB: KernelBuffer(count: B.count), dC: KernelBuffer(count: C.count),
        dD: KernelBuffer(count: D.count),
        dInitial: KernelBuffer(count: initial.count)
    )
    CPU.ssdScanBackward(
        into: SSDGradients(
            dx: grads.dx.pointer, dDt: grads.dDt.pointer, dA: grads.dA.pointer,
            dB: grads.dB.pointer, dC: grads.dC.pointer, dD: grads.dD.pointer,
            dInitialState: grads.dInitial.pointer),
        dOut: dy.readOnly, dFinalState: dFinal?.readOnly, inputs: inputs, shape: shape)
    return SSDRun(
        out: out.array, finalState: finalState.array, dx: grads.dx.array,
        dDt: grads.dDt.array, dA: grads.dA.array, dB: grads.dB.array, dC: grads.dC.array,
        dD: grads.dD.array, dInitialState: grads.dInitial.array)
}

/// The inputs of a scan by name, for loops over all of them.
var ssdInputPaths: [(String, WritableKeyPath<Oracle.SSDValues, [Double]>)] {
    [
        ("x", \.x), ("dt", \.dt), ("A", \.A), ("B", \.B), ("C", \.C), ("D", \.D),
        ("initialState", \.initialState),
    ]
}

/// The fp32 gradient of the input at `path`.
func ssdGradient(_ run: SSDRun, _ path: WritableKeyPath<Oracle.SSDValues, [Double]>) -> [Float] {
    switch path {
    case \.x: run.dx
    case \.dt: run.dDt
    case \.A: run.dA
    case \.B: run.dB
    case \.C: run.dC
    case \.D: run.dD
    default: run.dInitialState
    }
}

// MARK: - Oracle

@Suite struct SSDOracleTests {
    @Test func oracleMatchesAHandComputedScan() {
        // Every size 1 but T = 2: h0 = a0 s + dt0 x0 B0, h1 = a1 h0 + dt1 x1 B1, a_t = e^{dt_t A},
        // y_t = C_t h_t + D x_t.
        let shape = SSDShape(
            batch: 1, sequenceLength: 2, heads: 1, headDim: 1, groups: 1, stateDim: 1)
        let v = Oracle.SSDValues(
            x: [2, -1], dt: [0.5, 0.25], A: [-2], B: [3, 4], C: [5, 6], D: [0.5],
            initialState: [7])
        let h0 = exp(-1.0) * 7 + 0.5 * 2 * 3
        let h1 = exp(-0.5) * h0 + 0.25 * -1 * 4
        let result = Oracle.ssdScanForward(v, shape: shape)
        #expect(abs(result.out[0] - (5 * h0 + 0.5 * 2)) < 1e-12)
        #expect(abs(result.out[1] - (6 * h1 + 0.5 * -1)) < 1e-12)
        #expect(abs(result.finalState[0] - h1) < 1e-12)
    }

    @Test func oracleBackwardMatchesCentralDifferences() {
        let shape = SSDShape(
            batch: 2, sequenceLength: 7, heads: 4, headDim: 3, groups: 2, stateDim: 2)
        let p = SSDProblem(shape, seed: 1)
        let (dOut, dFinalState) = p.cotangents(seed: 2)
        func loss(_ v: Oracle.SSDValues) -> Double {
            let result = Oracle.ssdScanForward(v, shape: shape)
            return dot(result.out, dOut) + dot(result.finalState, dFinalState)
        }
        let grads = Oracle.ssdScanBackward(
            dOut: dOut, dFinalState: dFinalState, p.values, shape: shape)
        for (label, path) in ssdInputPaths {
            var x = p.values[keyPath: path]
            let numeric = centralDifferences(at: &x, indices: Array(x.indices)) { perturbed in
                var copy = p.values
                copy[keyPath: path] = perturbed
                return loss(copy)
            }
            expectGradient(grads[keyPath: path], numeric, label)
            #expect(numeric.contains { abs($0) > 1e-2 }, "\(label): the check sees no gradient")
        }
    }
}

// MARK: - fp32 chunked vs oracle

@Suite struct SSDScanKernelTests {
    /// T never a multiple of L (L = 1 and L > T included), G < H and G = H.
    static let shapes: [SSDShape] = [
        .init(
            batch: 1, sequenceLength: 13, heads: 2, headDim: 3, groups: 1, stateDim: 4,
            chunkLength: 4),
        .init(
            batch: 2, sequenceLength: 21, heads: 4, headDim: 5, groups: 2, stateDim: 3,
            chunkLength: 8),
        .init(
            batch: 2, sequenceLength: 30, heads: 6, headDim: 4, groups: 3, stateDim: 6,
            chunkLength: 7),
        .init(
            batch: 1, sequenceLength: 9, heads: 4, headDim: 2, groups: 4, stateDim: 2,
            chunkLength: 1),
        .init(
            batch: 2, sequenceLength: 11, heads: 4, headDim: 3, groups: 2, stateDim: 5,
            chunkLength: 64),
    ]

    /// fp32 (one pass of rounding per term, sums over at most T tokens) vs Float64.
    static let tolerance = (atol: 2e-5, rtol: 2e-4)

    @Test(arguments: shapes)
    func chunkedMatchesSequentialOracle(shape: SSDShape) {
        let p = SSDProblem(shape, seed: UInt64(shape.sequenceLength))
        let (dOut, dFinalState) = p.cotangents(seed: 100 + UInt64(shape.sequenceLength))
        let run = runSSD(p.values, shape: shape, dOut: dOut, dFinalState: dFinalState)
        let forward = Oracle.ssdScanForward(p.values, shape: shape)
        let grads = Oracle.ssdScanBackward(
            dOut: dOut, dFinalState: dFinalState, p.values, shape: shape)
        let (atol, rtol) = Self.tolerance
        expectClose(run.out, forward.out, atol: atol, rtol: rtol, "y \(shape)")
        expectClose(
            run.finalState, forward.finalState, atol: atol, rtol: rtol, "finalState \(shape)")
        for (label, path) in ssdInputPaths {
            expectClose(
                ssdGradient(run, path), grads[keyPath: path], atol: atol, rtol: rtol,
                "d\(label) \(shape)")
        }
        // The initial state reaches the output: a zero one changes y.
        var zeroed = p.values
        zeroed.initialState = zeroed.initialState.map { _ in 0 }
        let fromZero = runSSD(zeroed, shape: shape, dOut: dOut, dFinalState: dFinalState)
        #expect(fromZero.out != run.out)
    }

    @Test func nilInitialStateAndFinalGradientMeanZeros() {
        let shape = Self.shapes[1]
        let p = SSDProblem(shape, seed: 5, zeroInitialState: true)
        let dOut = p.cotangents(seed: 6).dOut
        let zeros = [Double](repeating: 0, count: shape.stateCount)
        let explicit = runSSD(p.values, shape: shape, dOut: dOut, dFinalState: zeros)
        let implicit = runSSD(
            p.values, shape: shape, dOut: dOut, dFinalState: nil, passInitialState: false)
        #expect(explicit == implicit)
    }

    @Test func emptySequencePassesTheStateThrough() {
        var shape = Self.shapes[1]
        shape.sequenceLength = 0
        let p = SSDProblem(shape, seed: 7)
        let dFinalState = p.cotangents(seed: 8).dFinalState
        let run = runSSD(p.values, shape: shape, dOut: [], dFinalState: dFinalState)
        #expect(run.finalState == p.values.initialState.map(Float.init))
        #expect(run.dInitialState == dFinalState.map(Float.init))
        #expect(run.dA == [0, 0, 0, 0] && run.dD == [0, 0, 0, 0])
    }

    @Test(arguments: [5, 16, 23])
    func twoSegmentsWithThePassedStateMatchOneRun(split: Int) {
        // T = 29 in chunks of 8, split inside a chunk (5, 23) and on a chunk boundary (16).
        let shape = SSDShape(
            batch: 2, sequenceLength: 29, heads: 4, headDim: 3, groups: 2, stateDim: 4,
            chunkLength: 8)
        let p = SSDProblem(shape, seed: 9)
        let (dOut, dFinalState) = p.cotangents(seed: 10)
        let whole = runSSD(p.values, shape: shape, dOut: dOut, dFinalState: dFinalState)

        var first = shape
        first.sequenceLength = split
        var second = shape
        second.sequenceLength = shape.sequenceLength - split
        let (head, tail) = (0..<split, split..<shape.sequenceLength)
        var firstValues = p.values
        var secondValues = p.values
        for (token, perToken) in [(\Oracle.SSDValues.x, 12), (\.dt, 4), (\.B, 8), (\.C, 8)] {
            firstValues[keyPath: token] = tokens(p.values[keyPath: token], shape, perToken, head)
            secondValues[keyPath: token] = tokens(
                p.values[keyPath: token], shape, perToken, tail)
        }
        // Forward through the first segment, then the second from its final state; backward
        // through the second, then the first from the second's initial-state gradient.
        let zeros = [Double](repeating: 0, count: shape.stateCount)
        let firstForward = runSSD(
            firstValues, shape: first, dOut: tokens(dOut, shape, 12, head), dFinalState: zeros)
        secondValues.initialState = firstForward.finalState.map(Double.init)
        let secondRun = runSSD(
            secondValues, shape: second, dOut: tokens(dOut, shape, 12, tail),
            dFinalState: dFinalState)
        let firstRun = runSSD(
            firstValues, shape: first, dOut: tokens(dOut, shape, 12, head),
            dFinalState: secondRun.dInitialState.map(Double.init))

        func joined(_ a: [Float], _ b: [Float], _ perToken: Int) -> [Float] {
            var out: [Float] = []
            for row in 0..<shape.batch {
                out += a[(row * split * perToken)..<((row + 1) * split * perToken)]
                let rest = shape.sequenceLength - split
                out += b[(row * rest * perToken)..<((row + 1) * rest * perToken)]
            }
            return out
        }
        func expectSame(_ actual: [Float], _ expected: [Float], _ label: String) {
            let report = compare(actual, expected, atol: 1e-5, rtol: 1e-4, label: label)
            #expect(report.passed, "split \(split): \(report)")
        }
        expectSame(joined(firstRun.out, secondRun.out, 12), whole.out, "y")
        expectSame(secondRun.finalState, whole.finalState, "finalState")
        expectSame(joined(firstRun.dx, secondRun.dx, 12), whole.dx, "dx")
        expectSame(joined(firstRun.dDt, secondRun.dDt, 4), whole.dDt, "dDt")
        expectSame(joined(firstRun.dB, secondRun.dB, 8), whole.dB, "dB")
        expectSame(joined(firstRun.dC, secondRun.dC, 8), whole.dC, "dC")
        expectSame(zip(firstRun.dA, secondRun.dA).map { $0 + $1 }, whole.dA, "dA")
        expectSame(zip(firstRun.dD, secondRun.dD).map { $0 + $1 }, whole.dD, "dD")
        expectSame(firstRun.dInitialState, whole.dInitialState, "dInitialState")
    }

    @Test func resultsDoNotDependOnTheThreadCount() {
        // Big enough for the parallel path of both kernels.
        let shape = SSDShape(
            batch: 2, sequenceLength: 100, heads: 4, headDim: 8, groups: 2, stateDim: 8,
            chunkLength: 16)
        let p = SSDProblem(shape, seed: 11)
        let (dOut, dFinalState) = p.cotangents(seed: 12)
        var runs: [SSDRun] = []
        for threads in [1, 2, 3] {
            Threads.set(threads)
            runs.append(runSSD(p.values, shape: shape, dOut: dOut, dFinalState: dFinalState))
        }
        Threads.set(nil)
        #expect(runs[0] == runs[1])
        #expect(runs[0] == runs[2])
        #expect(runs[0].dB.contains { $0 != 0 })
    }
}

/// Tokens `range` of every batch row of a (B, T, perToken) array.
private func tokens(_ a: [Double], _ shape: SSDShape, _ perToken: Int, _ range: Range<Int>)
    -> [Double]
{
    var out: [Double] = []
    for row in 0..<shape.batch {
        let base = row * shape.sequenceLength * perToken
        out += a[(base + range.lowerBound * perToken)..<(base + range.upperBound * perToken)]
    }
    return out
}
