import Foundation
import HSACPU
import HSACore
import HSATestSupport
import Testing

// Tests of the flash attention kernels (CPU.attentionForward / attentionBackward): the Float64
// oracle against central differences, the fp32 kernels (fast and naive) against the oracle on
// ugly shapes, and the invariances the model relies on (window >= T is full causal, thread
// count, batch composition). Shapes are tiny; a few are just large enough for parallelFor.

// MARK: - Helpers

/// One attention problem: shapes, mask and seeded inputs (fp32, so the oracle sees the same).
private struct AttentionCase: CustomStringConvertible {
    let batch: Int
    let length: Int
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    let mask: AttentionMask
    var q: [Float]  // (B, T, NH, HS)
    var k: [Float]  // (B, T, NKV, HS)
    var v: [Float]  // (B, T, NKV, HS)
    var dOut: [Float]  // (B, T, NH, HS) cotangent

    init(
        batch: Int, length: Int, heads: Int, kvHeads: Int, headDim: Int, mask: AttentionMask,
        seed: UInt64
    ) {
        self.batch = batch
        self.length = length
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.mask = mask
        var rng = SplitMix64(seed: seed)
        let queryCount = batch * length * heads * headDim
        let keyCount = batch * length * kvHeads * headDim
        q = (0..<queryCount).map { _ in Float(rng.nextNormal()) }
        k = (0..<keyCount).map { _ in Float(rng.nextNormal()) }
        v = (0..<keyCount).map { _ in Float(rng.nextNormal()) }
        dOut = (0..<queryCount).map { _ in Float(rng.nextNormal()) }
    }

    var description: String {
        "B=\(batch) T=\(length) NH=\(heads) NKV=\(kvHeads) HS=\(headDim) \(mask)"
    }
}

/// Outputs of one forward + backward run.
private struct AttentionResult: Equatable {
    var out: [Float]
    var logSumExp: [Float]
    var dQ: [Float]
    var dK: [Float]
    var dV: [Float]
}

/// Runs the fast (or naive) fp32 forward, then the backward with the case's cotangent.
private func runAttention(_ c: AttentionCase, naive: Bool = false) -> AttentionResult {
    var result = AttentionResult(
        out: [Float](repeating: .nan, count: c.q.count),
        logSumExp: [Float](repeating: .nan, count: c.batch * c.length * c.heads),
        dQ: [Float](repeating: .nan, count: c.q.count),
        dK: [Float](repeating: .nan, count: c.k.count),
        dV: [Float](repeating: .nan, count: c.v.count))
    let forward = naive ? CPU.attentionForwardNaive : CPU.attentionForward
    let backward = naive ? CPU.attentionBackwardNaive : CPU.attentionBackward
    let shape = AttentionShape(
        batch: c.batch, sequenceLength: c.length, heads: c.heads, kvHeads: c.kvHeads,
        headDim: c.headDim, mask: c.mask)
    forward(&result.out, &result.logSumExp, c.q, c.k, c.v, shape)
    backward(
        &result.dQ, &result.dK, &result.dV, c.dOut, result.out, result.logSumExp, c.q, c.k, c.v,
        shape)
    return result
}

private func doubles(_ values: [Float]) -> [Double] { values.map(Double.init) }

/// The oracle's forward and backward of a case.
private func oracleAttention(_ c: AttentionCase)
    -> (out: [Double], logSumExp: [Double], dQ: [Double], dK: [Double], dV: [Double])
{
    let forward = Oracle.attentionForward(
        q: doubles(c.q), k: doubles(c.k), v: doubles(c.v), batch: c.batch,
        sequenceLength: c.length, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim,
        mask: c.mask)
    let backward = Oracle.attentionBackward(
        dOut: doubles(c.dOut), q: doubles(c.q), k: doubles(c.k), v: doubles(c.v),
        batch: c.batch, sequenceLength: c.length, heads: c.heads, kvHeads: c.kvHeads,
        headDim: c.headDim, mask: c.mask)
    return (forward.out, forward.logSumExp, backward.dQ, backward.dK, backward.dV)
}

/// Ugly shapes: T not a multiple of the 32-key block, windows straddling blocks, B = 1, T = 1,
/// HS = 8, 16 and 36 (vector tails), GQA, and two cases big enough for the parallel paths.
private let uglyCases: [AttentionCase] = [
    AttentionCase(
        batch: 1, length: 45, heads: 4, kvHeads: 2, headDim: 8, mask: .causal(window: 13),
        seed: 11),
    AttentionCase(
        batch: 2, length: 70, heads: 2, kvHeads: 1, headDim: 16, mask: .causal(window: 1000),
        seed: 12),
    AttentionCase(
        batch: 1, length: 33, heads: 3, kvHeads: 3, headDim: 16, mask: .bidirectional, seed: 13),
    AttentionCase(
        batch: 1, length: 1, heads: 2, kvHeads: 1, headDim: 8, mask: .causal(window: 4), seed: 14),
    AttentionCase(
        batch: 3, length: 9, heads: 2, kvHeads: 2, headDim: 36, mask: .causal(window: 1),
        seed: 15),
    AttentionCase(
        batch: 2, length: 40, heads: 4, kvHeads: 1, headDim: 32, mask: .causal(window: 33),
        seed: 16),
]

// MARK: - Oracle vs central differences

@Suite struct AttentionOracleGradientTests {
    /// (B, T, NH, NKV, HS, mask): a window of 3 over T = 7 (edge positions inside), full
    /// causal, bidirectional, and GQA with two query heads per kv head.
    static let cases: [(Int, Int, Int, Int, Int, AttentionMask)] = [
        (1, 7, 1, 1, 4, .causal(window: 3)),
        (2, 5, 2, 1, 3, .causal(window: 100)),
        (1, 5, 2, 2, 3, .bidirectional),
        (1, 6, 4, 2, 2, .causal(window: 3)),
    ]

    @Test(arguments: 0..<4) func backwardMatchesCentralDifferences(index: Int) {
        let (batch, length, heads, kvHeads, headDim, mask) = Self.cases[index]
        let c = AttentionCase(
            batch: batch, length: length, heads: heads, kvHeads: kvHeads, headDim: headDim,
            mask: mask, seed: 100 + UInt64(index))
        let (q, k, v, dOut) = (doubles(c.q), doubles(c.k), doubles(c.v), doubles(c.dOut))
        func loss(_ q: [Double], _ k: [Double], _ v: [Double]) -> Double {
            let out = Oracle.attentionForward(
                q: q, k: k, v: v, batch: batch, sequenceLength: length, heads: heads,
                kvHeads: kvHeads, headDim: headDim, mask: mask
            ).out
            return dot(out, dOut)
        }
        let analytic = Oracle.attentionBackward(
            dOut: dOut, q: q, k: k, v: v, batch: batch, sequenceLength: length, heads: heads,
            kvHeads: kvHeads, headDim: headDim, mask: mask)
        var point = q
        let dQ = centralDifferences(at: &point, indices: Array(q.indices)) { loss($0, k, v) }
        point = k
        let dK = centralDifferences(at: &point, indices: Array(k.indices)) { loss(q, $0, v) }
        point = v
        let dV = centralDifferences(at: &point, indices: Array(v.indices)) { loss(q, k, $0) }
        expectGradient(analytic.dQ, dQ, "dQ \(c)")
        expectGradient(analytic.dK, dK, "dK \(c)")
        expectGradient(analytic.dV, dV, "dV \(c)")
    }

    /// The window edge itself: with W = 3 and T = 7, query 5 sees keys 3, 4, 5 and not 2, so
    /// key 2's gradient from query 5 alone must be exactly zero.
    @Test func windowEdgeIsExclusive() {
        let c = AttentionCase(
            batch: 1, length: 7, heads: 1, kvHeads: 1, headDim: 4, mask: .causal(window: 3),
            seed: 7)
        var dOut = [Double](repeating: 0, count: c.q.count)
        for d in 0..<4 { dOut[5 * 4 + d] = 1 }  // cotangent only on query 5
        let grads = Oracle.attentionBackward(
            dOut: dOut, q: doubles(c.q), k: doubles(c.k), v: doubles(c.v), batch: 1,
            sequenceLength: 7, heads: 1, kvHeads: 1, headDim: 4, mask: c.mask)
        for j in 0..<7 {
            let norm = (0..<4).map { abs(grads.dV[j * 4 + $0]) }.reduce(0, +)
            #expect((norm > 0) == (3...5).contains(j), "key \(j): |dV| = \(norm)")
        }
    }
}

// MARK: - fp32 kernels vs oracle

@Suite struct AttentionKernelTests {
    @Test(arguments: 0..<6) func fastMatchesOracle(index: Int) {
        let c = uglyCases[index]
        let fast = runAttention(c)
        let oracle = oracleAttention(c)
        expectClose(fast.out, oracle.out, "out \(c)")
        expectClose(fast.logSumExp, oracle.logSumExp, "logSumExp \(c)")
        expectClose(fast.dQ, oracle.dQ, "dQ \(c)")
        expectClose(fast.dK, oracle.dK, "dK \(c)")
        expectClose(fast.dV, oracle.dV, "dV \(c)")
    }

    @Test(arguments: [0, 2, 4]) func naiveMatchesOracleAndFast(index: Int) {
        let c = uglyCases[index]
        let naive = runAttention(c, naive: true)
        let oracle = oracleAttention(c)
        expectClose(naive.out, oracle.out, "naive out \(c)")
        expectClose(naive.logSumExp, oracle.logSumExp, "naive logSumExp \(c)")
        expectClose(naive.dQ, oracle.dQ, "naive dQ \(c)")
        expectClose(naive.dK, oracle.dK, "naive dK \(c)")
        expectClose(naive.dV, oracle.dV, "naive dV \(c)")
        let fast = runAttention(c)
        for (label, a, b) in [
            ("out", fast.out, naive.out), ("dQ", fast.dQ, naive.dQ), ("dK", fast.dK, naive.dK),
            ("dV", fast.dV, naive.dV),
        ] {
            let report = compare(a, b, atol: 1e-5, rtol: 1e-4, label: "fast vs naive \(label)")
            #expect(report.passed, "\(report)")
        }
    }
}

// MARK: - Invariances

@Suite(.serialized) struct AttentionInvarianceTests {
    /// With T <= W the sliding window is full causal attention, bit for bit.
    @Test func windowCoveringSequenceIsFullCausal() {
        for window in [37, 40] {
            let windowed = AttentionCase(
                batch: 1, length: 37, heads: 2, kvHeads: 1, headDim: 8,
                mask: .causal(window: window), seed: 21)
            let full = AttentionCase(
                batch: 1, length: 37, heads: 2, kvHeads: 1, headDim: 8,
                mask: .causal(window: 1 << 20), seed: 21)
            #expect(runAttention(windowed) == runAttention(full), "window \(window)")
        }
    }

    /// Results are bitwise identical for 1, 2 and 3 threads (shape large enough to dispatch).
    @Test func threadCountInvariance() {
        let c = AttentionCase(
            batch: 1, length: 150, heads: 4, kvHeads: 1, headDim: 16, mask: .causal(window: 50),
            seed: 31)
        defer { Threads.set(nil) }
        Threads.set(1)
        let one = runAttention(c)
        Threads.set(2)
        let two = runAttention(c)
        Threads.set(3)
        let three = runAttention(c)
        #expect(one == two)
        #expect(one == three)
        #expect(!one.dK.contains { $0.isNaN })
    }

    /// Running a batch of 2 equals running each item alone, bit for bit.
    @Test(arguments: [AttentionMask.causal(window: 5), .bidirectional])
    func batchCompositionInvariance(mask: AttentionMask) {
        let pair = AttentionCase(
            batch: 2, length: 41, heads: 4, kvHeads: 2, headDim: 8, mask: mask, seed: 41)
        let both = runAttention(pair)
        let perItemQuery = pair.q.count / 2
        let perItemKey = pair.k.count / 2
        let perItemRow = pair.logSumExp(count: 1)
        for item in 0..<2 {
            let single = pair.item(item)
            let alone = runAttention(single)
            let queries = (item * perItemQuery)..<((item + 1) * perItemQuery)
            let keys = (item * perItemKey)..<((item + 1) * perItemKey)
            let rows = (item * perItemRow)..<((item + 1) * perItemRow)
            #expect(Array(both.out[queries]) == alone.out)
            #expect(Array(both.logSumExp[rows]) == alone.logSumExp)
            #expect(Array(both.dQ[queries]) == alone.dQ)
            #expect(Array(both.dK[keys]) == alone.dK)
            #expect(Array(both.dV[keys]) == alone.dV)
        }
    }
}

extension AttentionCase {
    /// Rows of logSumExp for `count` batch items.
    fileprivate func logSumExp(count: Int) -> Int { count * length * heads }

    /// Batch item `index` as a case of its own (B = 1).
    fileprivate func item(_ index: Int) -> AttentionCase {
        var single = AttentionCase(
            batch: 1, length: length, heads: heads, kvHeads: kvHeads, headDim: headDim,
            mask: mask, seed: 0)
        let queryCount = length * heads * headDim
        let keyCount = length * kvHeads * headDim
        single.q = Array(q[(index * queryCount)..<((index + 1) * queryCount)])
        single.k = Array(k[(index * keyCount)..<((index + 1) * keyCount)])
        single.v = Array(v[(index * keyCount)..<((index + 1) * keyCount)])
        single.dOut = Array(dOut[(index * queryCount)..<((index + 1) * queryCount)])
        return single
    }
}
