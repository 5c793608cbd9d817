import Foundation
import HSACPU
import HSACore
import HSATestSupport
import Testing

// Landmark Attention (grouped softmax, training form) and its retrieval step: the fp32 kernels
// vs the Float64 oracle, the gradients vs central differences of the oracle, and properties
// (weights form a causal distribution, one block is causal softmax attention, causality,
// thread-count invariance).

// MARK: - Fixtures

/// Random q, k, v of one problem, normal, in Float64 rounded to fp32 values (so the oracle sees
/// exactly what the kernels see).
struct LandmarkProblem {
    var shape: LandmarkAttentionShape
    var q, k, v: [Double]

    init(_ shape: LandmarkAttentionShape, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        func normals(_ count: Int) -> [Double] {
            (0..<count).map { _ in Double(Float(rng.nextNormal())) }
        }
        self.shape = shape
        (q, k, v) = (normals(shape.queryCount), normals(shape.keyCount), normals(shape.keyCount))
    }

    /// A random cotangent for the output.
    func cotangent(seed: UInt64) -> [Double] {
        var rng = SplitMix64(seed: seed)
        return (0..<shape.queryCount).map { _ in Double(Float(rng.nextNormal())) }
    }

    /// The Float64 oracle's `Σ dOut * out`.
    func oracleLoss(q: [Double], k: [Double], v: [Double], dOut: [Double]) -> Double {
        dot(Oracle.landmarkAttentionForward(q: q, k: k, v: v, shape: shape).out, dOut)
    }
}

/// Every output of one fp32 forward + backward.
struct LandmarkRun: Equatable {
    var out, logSumExp, dq, dk, dv: [Float]
}

/// Runs the fp32 forward and backward (every output buffer starts as NaN).
func runLandmark(
    q: [Double], k: [Double], v: [Double], shape: LandmarkAttentionShape, dOut: [Double]
) -> LandmarkRun {
    let (qb, kb, vb) = (KernelBuffer(q), KernelBuffer(k), KernelBuffer(v))
    let inputs = LandmarkAttentionInputs(q: qb.readOnly, k: kb.readOnly, v: vb.readOnly)
    let out = KernelBuffer(count: shape.queryCount)
    let logSumExp = KernelBuffer(count: shape.rowCount)
    let results = LandmarkAttentionResults(out: out.pointer, logSumExp: logSumExp.pointer)
    CPU.landmarkAttentionForward(into: results, inputs: inputs, shape: shape)
    let dy = KernelBuffer(dOut)
    let (dq, dk, dv) = (
        KernelBuffer(count: shape.queryCount), KernelBuffer(count: shape.keyCount),
        KernelBuffer(count: shape.keyCount)
    )
    CPU.landmarkAttentionBackward(
        into: LandmarkAttentionGradients(dq: dq.pointer, dk: dk.pointer, dv: dv.pointer),
        dOut: dy.readOnly, forward: results, inputs: inputs, shape: shape)
    return LandmarkRun(
        out: out.array, logSumExp: logSumExp.array, dq: dq.array, dk: dk.array, dv: dv.array)
}

func runLandmark(_ p: LandmarkProblem, dOut: [Double]) -> LandmarkRun {
    runLandmark(q: p.q, k: p.k, v: p.v, shape: p.shape, dOut: dOut)
}

// MARK: - Kernels vs oracle

@Suite struct LandmarkAttentionTests {
    /// T a multiple of S + 1 and not, S = 1, G = 1 and G > 1, one incomplete block only.
    static let shapes: [LandmarkAttentionShape] = [
        .init(batch: 1, sequenceLength: 11, heads: 2, kvHeads: 1, headDim: 3, blockSize: 3),
        .init(batch: 2, sequenceLength: 23, heads: 4, kvHeads: 2, headDim: 5, blockSize: 4),
        .init(batch: 1, sequenceLength: 9, heads: 3, kvHeads: 3, headDim: 4, blockSize: 1),
        .init(batch: 2, sequenceLength: 20, heads: 4, kvHeads: 1, headDim: 4, blockSize: 4),
        .init(batch: 1, sequenceLength: 6, heads: 2, kvHeads: 2, headDim: 3, blockSize: 8),
    ]

    /// fp32 (sums over at most T terms of O(1) values) vs Float64.
    static let tolerance = (atol: 2e-5, rtol: 2e-4)

    @Test func handComputedCase() {
        // T = 3, S = 1, D = 1: positions 0 (ordinary, block 0), 1 (landmark of block 0),
        // 2 (ordinary, block 1). Query 2 sees itself and landmark 1, which gates block 0 = {0}:
        // out_2 = (e^{s_2} v_2 + e^{s_1} v_0) / (e^{s_2} + e^{s_1}), s_j = q_2 k_j. Queries 0
        // and 1 (the landmark, blind to its own key) see position 0 only: out = v_0.
        let shape = LandmarkAttentionShape(
            batch: 1, sequenceLength: 3, heads: 1, kvHeads: 1, headDim: 1, blockSize: 1)
        let (q, k, v) = ([0.5, -1.0, 2.0], [1.5, -0.5, 0.25], [3.0, 7.0, -2.0])
        let (s1, s2) = (2.0 * -0.5, 2.0 * 0.25)
        let expected2 = (exp(s2) * -2 + exp(s1) * 3) / (exp(s2) + exp(s1))
        let oracle = Oracle.landmarkAttentionForward(q: q, k: k, v: v, shape: shape)
        #expect(abs(oracle.out[0] - 3) < 1e-12 && abs(oracle.out[1] - 3) < 1e-12)
        #expect(abs(oracle.out[2] - expected2) < 1e-12)
        #expect(abs(oracle.logSumExp[2] - log(exp(s1) + exp(s2))) < 1e-12)
        let run = runLandmark(q: q, k: k, v: v, shape: shape, dOut: [1, 1, 1])
        expectClose(run.out, [3, 3, expected2], "out")
    }

    @Test(arguments: shapes)
    func forwardMatchesOracle(shape: LandmarkAttentionShape) {
        let p = LandmarkProblem(shape, seed: UInt64(shape.sequenceLength))
        let run = runLandmark(p, dOut: p.cotangent(seed: 1))
        let oracle = Oracle.landmarkAttentionForward(q: p.q, k: p.k, v: p.v, shape: shape)
        let (atol, rtol) = Self.tolerance
        expectClose(run.out, oracle.out, atol: atol, rtol: rtol, "out \(shape)")
        expectClose(run.logSumExp, oracle.logSumExp, atol: atol, rtol: rtol, "lse \(shape)")
    }

    @Test(arguments: [shapes[0], shapes[2], shapes[4]])
    func gradientsMatchCentralDifferences(shape: LandmarkAttentionShape) {
        let p = LandmarkProblem(shape, seed: 7 + UInt64(shape.sequenceLength))
        let dOut = p.cotangent(seed: 8)
        let run = runLandmark(p, dOut: dOut)
        var (q, k, v) = (p.q, p.k, p.v)
        let dq = centralDifferences(at: &q, indices: Array(q.indices)) {
            p.oracleLoss(q: $0, k: k, v: v, dOut: dOut)
        }
        let dk = centralDifferences(at: &k, indices: Array(k.indices)) {
            p.oracleLoss(q: q, k: $0, v: v, dOut: dOut)
        }
        let dv = centralDifferences(at: &v, indices: Array(v.indices)) {
            p.oracleLoss(q: q, k: k, v: $0, dOut: dOut)
        }
        let (atol, rtol) = Self.tolerance
        for (label, actual, numeric) in [
            ("dq", run.dq, dq), ("dk", run.dk, dk), ("dv", run.dv, dv),
        ] {
            expectClose(actual, numeric, atol: atol, rtol: rtol, "\(label) \(shape)")
            #expect(numeric.contains { abs($0) > 1e-2 }, "\(label): the check sees no gradient")
        }
        // Landmark keys get a gradient (they gate their block); landmark values never do.
        let (T, HKV, D) = (shape.sequenceLength, shape.kvHeads, shape.headDim)
        let landmarkEntries = (0..<(shape.batch * T * HKV * D)).filter {
            shape.isLandmark($0 / (HKV * D) % T)
        }
        if shape.blockCount > 1 {
            #expect(landmarkEntries.allSatisfy { run.dv[$0] == 0 })
            #expect(landmarkEntries.contains { abs(run.dk[$0]) > 1e-3 })
        }
    }

    // MARK: - Properties

    @Test func weightsFormACausalDistribution() {
        // With D = T and v_j the one-hot vector of position j, out_t is the weight vector of
        // query t: it sums to one, is zero on future keys and on landmark positions (their
        // values are never read), and equals the oracle's weights.
        let (T, S) = (14, 3)
        let shape = LandmarkAttentionShape(
            batch: 1, sequenceLength: T, heads: 2, kvHeads: 1, headDim: T, blockSize: S)
        var p = LandmarkProblem(shape, seed: 3)
        p.v = (0..<T).flatMap { j in (0..<T).map { $0 == j ? 1.0 : 0.0 } }
        let run = runLandmark(p, dOut: p.cotangent(seed: 4))
        for t in 0..<T {
            for h in 0..<2 {
                let row = Array(run.out[((t * 2 + h) * T)..<((t * 2 + h + 1) * T)])
                #expect(
                    abs(row.reduce(0, +) - 1) < 1e-5, "t=\(t) h=\(h) sums to \(row.reduce(0, +))")
                #expect(row.allSatisfy { $0 >= 0 })
                #expect((0..<T).allSatisfy { j in !(j > t || shape.isLandmark(j)) || row[j] == 0 })
                let oracle = Oracle.landmarkWeights(
                    q: p.q, k: p.k, shape: shape, batch: 0, position: t, head: h)
                expectClose(row, oracle.weights, "weights t=\(t) h=\(h)")
            }
        }
    }

    @Test(arguments: [7, 8, 9])
    func oneBlockIsCausalSoftmaxAttention(sequenceLength T: Int) {
        // S = 8: T = 7 and 8 hold one block without a landmark, T = 9 ends with its landmark,
        // whose row differs (it does not see itself); every other row is causal attention.
        let shape = LandmarkAttentionShape(
            batch: 2, sequenceLength: T, heads: 4, kvHeads: 2, headDim: 5, blockSize: 8)
        let p = LandmarkProblem(shape, seed: 5)
        let dOut = p.cotangent(seed: 6)
        let run = runLandmark(p, dOut: dOut)
        let dense = Oracle.attentionForward(
            q: p.q, k: p.k, v: p.v, batch: 2, sequenceLength: T, heads: 4, kvHeads: 2,
            headDim: 5, mask: .causal(window: T))
        let rows = (0..<(2 * T * 4)).filter { !shape.isLandmark($0 / 4 % T) }
        let (atol, rtol) = Self.tolerance
        expectClose(
            rows.flatMap { run.out[($0 * 5)..<($0 * 5 + 5)] },
            rows.flatMap { dense.out[($0 * 5)..<($0 * 5 + 5)] }, atol: atol, rtol: rtol, "out")
        expectClose(
            rows.map { run.logSumExp[$0] }, rows.map { dense.logSumExp[$0] }, atol: atol,
            rtol: rtol, "lse")
        if T <= 8 {
            let grads = Oracle.attentionBackward(
                dOut: dOut, q: p.q, k: p.k, v: p.v, batch: 2, sequenceLength: T, heads: 4,
                kvHeads: 2, headDim: 5, mask: .causal(window: T))
            expectClose(run.dq, grads.dQ, atol: atol, rtol: rtol, "dq")
            expectClose(run.dk, grads.dK, atol: atol, rtol: rtol, "dk")
            expectClose(run.dv, grads.dV, atol: atol, rtol: rtol, "dv")
        }
    }

    @Test(arguments: [6, 9, 10])
    func changingAFutureTokenLeavesEarlierOutputsUnchanged(position: Int) {
        // S = 4: position 9 is the landmark of block 1, 10 opens block 2, 6 is inside block 1.
        let shape = LandmarkAttentionShape(
            batch: 1, sequenceLength: 17, heads: 2, kvHeads: 1, headDim: 4, blockSize: 4)
        let p = LandmarkProblem(shape, seed: 9)
        let dOut = p.cotangent(seed: 10)
        let base = runLandmark(p, dOut: dOut)
        var changed = p
        for d in 0..<4 {
            changed.k[position * 4 + d] += 1.5
            changed.v[position * 4 + d] -= 2
            for h in 0..<2 { changed.q[(position * 2 + h) * 4 + d] *= -1 }
        }
        let run = runLandmark(changed, dOut: dOut)
        let earlier = position * 2 * 4
        #expect(Array(run.out[..<earlier]) == Array(base.out[..<earlier]))
        #expect(Array(run.out[earlier...]) != Array(base.out[earlier...]))
    }

    @Test func resultsDoNotDependOnTheThreadCount() {
        // Big enough for the parallel path of both kernels.
        let shape = LandmarkAttentionShape(
            batch: 2, sequenceLength: 130, heads: 4, kvHeads: 2, headDim: 16, blockSize: 15)
        let p = LandmarkProblem(shape, seed: 11)
        let dOut = p.cotangent(seed: 12)
        var runs: [LandmarkRun] = []
        for threads in [1, 2, 3] {
            Threads.set(threads)
            runs.append(runLandmark(p, dOut: dOut))
        }
        Threads.set(nil)
        #expect(runs[0] == runs[1])
        #expect(runs[0] == runs[2])
        #expect(runs[0].dk.contains { $0 != 0 })
    }
}

// MARK: - Retrieval

/// Runs `CPU.landmarkRetrieval` (outputs start as NaN and 99).
func runLandmarkRetrieval(
    query: [Double], landmarkKeys: [Double], shape: LandmarkRetrievalShape
) -> (scores: [Float], indices: [Int32]) {
    let (q, keys) = (KernelBuffer(query), KernelBuffer(landmarkKeys))
    let scores = KernelBuffer(count: shape.heads * shape.blockCount)
    var indices = [Int32](repeating: 99, count: shape.heads * shape.topK)
    indices.withUnsafeMutableBufferPointer { slots in
        CPU.landmarkRetrieval(
            scores: scores.pointer, indices: slots.baseAddress!, query: q.readOnly,
            landmarkKeys: keys.readOnly, shape: shape)
    }
    return (scores.array, indices)
}

@Suite struct LandmarkRetrievalTests {
    @Test(arguments: [1, 3, 12])
    func matchesOracle(topK: Int) {
        // NB = 9 blocks; K = 12 leaves three trailing -1 slots.
        let shape = LandmarkRetrievalShape(
            heads: 4, kvHeads: 2, headDim: 6, blockCount: 9, topK: topK)
        var rng = SplitMix64(seed: 21)
        let query = (0..<(4 * 6)).map { _ in Double(Float(rng.nextNormal())) }
        let keys = (0..<(9 * 2 * 6)).map { _ in Double(Float(rng.nextNormal())) }
        let run = runLandmarkRetrieval(query: query, landmarkKeys: keys, shape: shape)
        let oracle = Oracle.landmarkRetrieval(query: query, landmarkKeys: keys, shape: shape)
        expectClose(run.scores, oracle.scores, "scores")
        #expect(run.indices == oracle.indices)
        #expect(run.indices.filter { $0 == -1 }.count == 4 * max(0, topK - 9))
    }

    @Test func tiesGoToTheEarlierBlockAndNoBlocksGiveEmptySlots() {
        let shape = LandmarkRetrievalShape(
            heads: 2, kvHeads: 1, headDim: 3, blockCount: 6, topK: 4)
        let query = [0.5, -1, 2, 1, 1, 1]
        let keys = (0..<6).flatMap { _ in [0.25, 0.5, -0.75] }
        #expect(
            runLandmarkRetrieval(query: query, landmarkKeys: keys, shape: shape).indices
                == [0, 1, 2, 3, 0, 1, 2, 3])
        var empty = shape
        empty.blockCount = 0
        #expect(
            runLandmarkRetrieval(query: query, landmarkKeys: [], shape: empty).indices
                == [Int32](repeating: -1, count: 8))
    }

    @Test func scoresAreTheTrainingFormsLandmarkLogits() {
        // The retrieval step on the landmark keys of a training sequence: e^{score_b - lse} is
        // the weight the grouped softmax gives block b (the sum of its tokens' weights), so the
        // top-1 block is the block training weights most.
        let shape = LandmarkAttentionShape(
            batch: 1, sequenceLength: 28, heads: 2, kvHeads: 1, headDim: 4, blockSize: 4)
        let p = LandmarkProblem(shape, seed: 13)
        let t = 27  // block 5; blocks 0 ..< 5 complete, landmarks at 4, 9, 14, 19, 24
        let keys = (0..<5).flatMap { (b: Int) -> [Double] in
            let landmark = b * 5 + 4
            return Array(p.k[(landmark * 4)..<(landmark * 4 + 4)])
        }
        let query = Array(p.q[(t * 2 * 4)..<((t + 1) * 2 * 4)])
        let retrieval = LandmarkRetrievalShape(
            heads: 2, kvHeads: 1, headDim: 4, blockCount: 5, topK: 1)
        let run = runLandmarkRetrieval(query: query, landmarkKeys: keys, shape: retrieval)
        for h in 0..<2 {
            let (weights, lse) = Oracle.landmarkWeights(
                q: p.q, k: p.k, shape: shape, batch: 0, position: t, head: h)
            let mass = (0..<5).map { (b: Int) -> Double in
                weights[(b * 5)..<(b * 5 + 4)].reduce(0, +)
            }
            let gates = (0..<5).map { (b: Int) -> Float in exp(run.scores[h * 5 + b] - Float(lse)) }
            expectClose(gates, mass, "mass h=\(h)")
            #expect(Int(run.indices[h]) == mass.indices.max { mass[$0] < mass[$1] }!)
        }
    }
}
