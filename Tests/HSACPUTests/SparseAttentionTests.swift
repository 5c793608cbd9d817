import HSACPU
import HSACore
import HSATestSupport
import Testing

// Chunk selection, sparse attention and fusion: fp32 kernels vs brute force and the Float64
// oracle, the oracle vs central differences, and thread-count invariance.

// MARK: - Fixtures

/// Random inputs of one problem, in Float64 (the fp32 kernels get them rounded to Float).
private struct SparseProblem {
    var shape: Oracle.SparseShape
    var q: [Double]  // (B, T, NH, HS)
    var keys: [Double]  // (B, NC, S, NKV, HS)
    var values: [Double]  // (B, NC, S, NKV, HS)
    var retrievalQuery: [Double]  // (B, T, NKV, DR)
    var landmarks: [Double]  // (B, NC, NKV, DR)

    init(_ shape: Oracle.SparseShape, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        func normals(_ count: Int, _ scale: Double = 1) -> [Double] {
            (0..<count).map { _ in rng.nextNormal() * scale }
        }
        let (B, T, NC) = (shape.batch, shape.sequenceLength, shape.chunkCount)
        let chunkRows = B * NC * shape.chunkSize * shape.kvHeads * shape.headDim
        self.shape = shape
        q = normals(B * T * shape.heads * shape.headDim)
        keys = normals(chunkRows)
        values = normals(chunkRows)
        // Scale 2 spreads the scores so top-k and the fusion weights are not all alike.
        retrievalQuery = normals(B * T * shape.kvHeads * shape.retrievalDim, 2)
        landmarks = normals(B * NC * shape.kvHeads * shape.retrievalDim)
    }

    /// Inputs rounded to fp32 and back, so the oracle sees exactly what the kernels see.
    var rounded: SparseProblem {
        var copy = self
        func round(_ x: [Double]) -> [Double] { x.map { Double(Float($0)) } }
        copy.q = round(q)
        copy.keys = round(keys)
        copy.values = round(values)
        copy.retrievalQuery = round(retrievalQuery)
        copy.landmarks = round(landmarks)
        return copy
    }
}

private func floats(_ x: [Double]) -> [Float] { x.map(Float.init) }

/// fp32 selection for a problem: (indices, scores).
private func selectFP32(_ p: SparseProblem, _ granularity: RetrievalGranularity)
    -> (indices: [Int32], scores: [Float])
{
    let s = p.shape
    let slots = s.batch * s.sequenceLength * s.kvHeads * s.topK
    let indices = KernelBuffer<Int32>(repeating: 99, count: slots)
    let scores = KernelBuffer<Float>(repeating: .nan, count: slots)
    let rq = KernelBuffer(floats(p.retrievalQuery))
    let lmk = KernelBuffer(floats(p.landmarks))
    CPU.chunkSelectForward(
        indices: indices.pointer, scores: scores.pointer, retrievalQuery: rq.readOnly,
        landmarks: lmk.readOnly,
        shape: s.kernelShape(fusion: .stickBreaking, granularity: granularity))
    return (indices.array, scores.array)
}

/// Every output of one fp32 forward + backward (selection included).
private struct FP32Run: Equatable {
    var indices: [Int32]
    var scores: [Float]
    var out: [Float]
    var fusionWeights: [Float]
    var chunkOutputs: [Float]
    var chunkLogSumExp: [Float]
    var dQ: [Float]
    var dKeys: [Float]
    var dValues: [Float]
    var dScores: [Float]
    var dRetrievalQuery: [Float]
    var dLandmarks: [Float]
}

/// Runs the fp32 kernels. The key/value/retrieval gradients start from `base` (to check that
/// they accumulate); dQ and dScores start as NaN (to check that they are overwritten).
private func runFP32(
    _ p: SparseProblem, granularity: RetrievalGranularity, fusion: FusionKind, dOut: [Double],
    base: SparseProblem
) -> FP32Run {
    let s = p.shape
    let (B, T, NH, NKV, HS, K) = (s.batch, s.sequenceLength, s.heads, s.kvHeads, s.headDim, s.topK)
    let shape = s.kernelShape(fusion: fusion, granularity: granularity)
    let selection = selectFP32(p, granularity)
    let indices = KernelBuffer(selection.indices)
    let scores = KernelBuffer(selection.scores)
    let q = KernelBuffer(floats(p.q))
    let keys = KernelBuffer(floats(p.keys))
    let values = KernelBuffer(floats(p.values))
    let out = KernelBuffer<Float>(repeating: .nan, count: B * T * NH * HS)
    let weights = KernelBuffer<Float>(repeating: .nan, count: B * T * NKV * K)
    let chunkOutputs = KernelBuffer<Float>(repeating: 0, count: B * T * NH * K * HS)
    let lse = KernelBuffer<Float>(repeating: .nan, count: B * T * NH * K)
    let results = SparseAttentionResults(
        out: out.pointer, fusionWeights: weights.pointer, chunkOutputs: chunkOutputs.pointer,
        chunkLogSumExp: lse.pointer)
    let inputs = SparseAttentionInputs(
        q: q.readOnly, keys: keys.readOnly, values: values.readOnly, indices: indices.readOnly,
        scores: scores.readOnly)
    CPU.sparseAttentionForward(into: results, inputs: inputs, shape: shape)

    let dOutBuffer = KernelBuffer(floats(dOut))
    let dQ = KernelBuffer<Float>(repeating: .nan, count: q.count)
    let dKeys = KernelBuffer(floats(base.keys))
    let dValues = KernelBuffer(floats(base.values))
    let dScores = KernelBuffer<Float>(repeating: .nan, count: scores.count)
    CPU.sparseAttentionBackward(
        dQ: dQ.pointer, dKeys: dKeys.pointer, dValues: dValues.pointer, dScores: dScores.pointer,
        dOut: dOutBuffer.readOnly, forward: results, inputs: inputs, shape: shape)

    let rq = KernelBuffer(floats(p.retrievalQuery))
    let lmk = KernelBuffer(floats(p.landmarks))
    let dRq = KernelBuffer(floats(base.retrievalQuery))
    let dLmk = KernelBuffer(floats(base.landmarks))
    CPU.chunkScoresBackward(
        dRetrievalQuery: dRq.pointer, dLandmarks: dLmk.pointer, dScores: dScores.readOnly,
        retrievalQuery: rq.readOnly, landmarks: lmk.readOnly, indices: indices.readOnly,
        shape: shape)
    return FP32Run(
        indices: selection.indices, scores: selection.scores, out: out.array,
        fusionWeights: weights.array, chunkOutputs: chunkOutputs.array,
        chunkLogSumExp: lse.array, dQ: dQ.array, dKeys: dKeys.array, dValues: dValues.array,
        dScores: dScores.array, dRetrievalQuery: dRq.array, dLandmarks: dLmk.array)
}

/// `max |a - e| / max |e|` (norm-wise relative error; 0 when both are zero).
private func relativeError(_ actual: [Double], _ expected: [Double]) -> Double {
    var worst = 0.0
    var scale = 0.0
    for (a, e) in zip(actual, expected) {
        worst = max(worst, abs(a - e))
        scale = max(scale, abs(e))
    }
    return worst == 0 ? 0 : worst / max(scale, 1e-12)
}

private func add(_ a: [Double], _ b: [Double]) -> [Double] { zip(a, b).map { $0 + $1 } }

// MARK: - Selection

@Suite struct ChunkSelectionTests {
    @Test(arguments: RetrievalGranularity.allCases, [1, 3, 7])
    func selectionMatchesBruteForce(granularity: RetrievalGranularity, topK: Int) {
        // T = 23, S = 4: NC = 5 complete chunks plus a partial one; K = 7 > every eligible count.
        let shape = Oracle.SparseShape(
            batch: 2, sequenceLength: 23, heads: 4, kvHeads: 2, headDim: 4, retrievalDim: 5,
            chunkSize: 4, topK: topK)
        let p = SparseProblem(shape, seed: 11).rounded
        let fp32 = selectFP32(p, granularity)
        let expected = Oracle.chunkSelection(
            retrievalQuery: p.retrievalQuery, landmarks: p.landmarks, shape: shape,
            granularity: granularity)
        #expect(fp32.indices == expected)
        let scores = Oracle.chunkScores(
            retrievalQuery: p.retrievalQuery, landmarks: p.landmarks, indices: expected,
            shape: shape, granularity: granularity)
        expectClose(fp32.scores, scores, "scores")
        // The first chunk's tokens select nothing; token S selects exactly chunk 0.
        for t in 0..<shape.sequenceLength {
            for g in 0..<shape.kvHeads {
                let slot = (t * shape.kvHeads + g) * topK
                let selected = fp32.indices[slot..<slot + topK].filter { $0 >= 0 }
                #expect(selected.count == min(t / shape.chunkSize, shape.chunkCount, topK))
                if t == shape.chunkSize { #expect(selected == [0]) }
            }
        }
    }

    @Test(arguments: RetrievalGranularity.allCases)
    func tiesGoToTheLowerChunkIndex(granularity: RetrievalGranularity) {
        // Identical landmarks: every score ties, so the K lowest eligible indices win, stored
        // largest first.
        let shape = Oracle.SparseShape(
            batch: 1, sequenceLength: 30, heads: 2, kvHeads: 1, headDim: 4, retrievalDim: 3,
            chunkSize: 4, topK: 3)
        var p = SparseProblem(shape, seed: 5).rounded
        let first = Array(p.landmarks[0..<shape.retrievalDim])
        p.landmarks = (0..<shape.chunkCount).flatMap { _ in first }
        let fp32 = selectFP32(p, granularity)
        for t in 0..<shape.sequenceLength {
            let eligible = min(t / shape.chunkSize, shape.chunkCount)
            let winners = (0..<min(eligible, shape.topK)).reversed().map(Int32.init)
            let padding = [Int32](repeating: -1, count: shape.topK - winners.count)
            let slot = t * shape.topK
            #expect(Array(fp32.indices[slot..<slot + shape.topK]) == winners + padding, "t=\(t)")
        }
    }

    @Test func perChunkUsesTheLastRowOfThePreviousChunk() {
        let shape = Oracle.SparseShape(
            batch: 2, sequenceLength: 27, heads: 2, kvHeads: 2, headDim: 4, retrievalDim: 4,
            chunkSize: 4, topK: 2)
        let p = SparseProblem(shape, seed: 17).rounded
        let before = selectFP32(p, .perChunk)
        // Scramble every retrieval-query row except the rows cS - 1: nothing may change.
        var scrambled = p
        var rng = SplitMix64(seed: 99)
        for b in 0..<shape.batch {
            for t in 0..<shape.sequenceLength where (t + 1) % shape.chunkSize != 0 {
                for g in 0..<shape.kvHeads {
                    for d in 0..<shape.retrievalDim {
                        let i =
                            ((b * shape.sequenceLength + t) * shape.kvHeads + g)
                            * shape.retrievalDim + d
                        scrambled.retrievalQuery[i] = Double(Float(rng.nextNormal() * 3))
                    }
                }
            }
        }
        let after = selectFP32(scrambled, .perChunk)
        #expect(after.indices == before.indices)
        #expect(after.scores == before.scores)
        // All tokens of one chunk share one selection; per_token differs (it saw the change).
        for t in 0..<shape.sequenceLength {
            let first = (t / shape.chunkSize) * shape.chunkSize
            for g in 0..<shape.kvHeads {
                let a = ((t * shape.kvHeads) + g) * shape.topK
                let b = ((first * shape.kvHeads) + g) * shape.topK
                #expect(before.indices[a..<a + shape.topK] == before.indices[b..<b + shape.topK])
            }
        }
        #expect(selectFP32(scrambled, .perToken).scores != selectFP32(p, .perToken).scores)
    }
}

// MARK: - Oracle gradients

@Suite struct SparseAttentionOracleTests {
    @Test(arguments: FusionKind.allCases, RetrievalGranularity.allCases)
    func oracleBackwardMatchesCentralDifferences(
        fusion: FusionKind, granularity: RetrievalGranularity
    ) {
        let shape = Oracle.SparseShape(
            batch: 1, sequenceLength: 10, heads: 4, kvHeads: 2, headDim: 4, retrievalDim: 3,
            chunkSize: 3, topK: 2)
        let p = SparseProblem(shape, seed: 23)
        var rng = SplitMix64(seed: 24)
        let cotangent = (0..<p.q.count).map { _ in rng.nextNormal() }
        // The selection is held fixed while inputs are perturbed.
        let indices = Oracle.chunkSelection(
            retrievalQuery: p.retrievalQuery, landmarks: p.landmarks, shape: shape,
            granularity: granularity)
        func loss(_ x: SparseProblem) -> Double {
            let scores = Oracle.chunkScores(
                retrievalQuery: x.retrievalQuery, landmarks: x.landmarks, indices: indices,
                shape: shape, granularity: granularity)
            let y = Oracle.sparseAttentionForward(
                q: x.q, keys: x.keys, values: x.values, indices: indices, scores: scores,
                shape: shape, fusion: fusion)
            return dot(y.out, cotangent)
        }
        let scores = Oracle.chunkScores(
            retrievalQuery: p.retrievalQuery, landmarks: p.landmarks, indices: indices,
            shape: shape, granularity: granularity)
        let grads = Oracle.sparseAttentionBackward(
            dOut: cotangent, q: p.q, keys: p.keys, values: p.values, indices: indices,
            scores: scores, shape: shape, fusion: fusion)
        let retrieval = Oracle.chunkScoresBackward(
            dScores: grads.dScores, retrievalQuery: p.retrievalQuery, landmarks: p.landmarks,
            indices: indices, shape: shape, granularity: granularity)
        if fusion != .joint { #expect(grads.dScores.contains { $0 != 0 }) }

        let checks: [(String, WritableKeyPath<SparseProblem, [Double]>, [Double])] = [
            ("q", \.q, grads.dQ), ("keys", \.keys, grads.dKeys),
            ("values", \.values, grads.dValues),
            ("retrievalQuery", \.retrievalQuery, retrieval.dRetrievalQuery),
            ("landmarks", \.landmarks, retrieval.dLandmarks),
        ]
        for (label, path, analytic) in checks {
            var x = p[keyPath: path]
            let numeric = centralDifferences(at: &x, indices: Array(x.indices)) { perturbed in
                var copy = p
                copy[keyPath: path] = perturbed
                return loss(copy)
            }
            let error = relativeError(analytic, numeric)
            #expect(error < 1e-6, "\(label): relative error \(error)")
        }
    }
}

// MARK: - fp32 vs oracle

@Suite struct SparseAttentionKernelTests {
    static let shapes: [Oracle.SparseShape] = [
        // T not a multiple of S, B = 1 and 2, NH 4 : NKV 2, K = 1, 2, 3.
        .init(
            batch: 1, sequenceLength: 13, heads: 4, kvHeads: 2, headDim: 5, retrievalDim: 3,
            chunkSize: 3, topK: 1),
        .init(
            batch: 2, sequenceLength: 18, heads: 4, kvHeads: 2, headDim: 8, retrievalDim: 6,
            chunkSize: 4, topK: 2),
        .init(
            batch: 2, sequenceLength: 21, heads: 4, kvHeads: 2, headDim: 12, retrievalDim: 4,
            chunkSize: 2, topK: 3),
    ]

    @Test(arguments: FusionKind.allCases, RetrievalGranularity.allCases)
    func fp32MatchesOracle(fusion: FusionKind, granularity: RetrievalGranularity) {
        for (n, shape) in Self.shapes.enumerated() {
            let p = SparseProblem(shape, seed: 40 + UInt64(n)).rounded
            let base = SparseProblem(shape, seed: 50 + UInt64(n)).rounded
            var rng = SplitMix64(seed: 60 + UInt64(n))
            let dOut = p.q.map { _ in Double(Float(rng.nextNormal())) }
            let fp32 = runFP32(
                p, granularity: granularity, fusion: fusion, dOut: dOut, base: base)
            let expectedIndices = Oracle.chunkSelection(
                retrievalQuery: p.retrievalQuery, landmarks: p.landmarks, shape: shape,
                granularity: granularity)
            #expect(fp32.indices == expectedIndices, "\(shape)")
            let scores = Oracle.chunkScores(
                retrievalQuery: p.retrievalQuery, landmarks: p.landmarks,
                indices: fp32.indices, shape: shape, granularity: granularity)
            let forward = Oracle.sparseAttentionForward(
                q: p.q, keys: p.keys, values: p.values, indices: fp32.indices, scores: scores,
                shape: shape, fusion: fusion)
            let grads = Oracle.sparseAttentionBackward(
                dOut: dOut, q: p.q, keys: p.keys, values: p.values, indices: fp32.indices,
                scores: scores, shape: shape, fusion: fusion)
            let retrieval = Oracle.chunkScoresBackward(
                dScores: grads.dScores, retrievalQuery: p.retrievalQuery,
                landmarks: p.landmarks, indices: fp32.indices, shape: shape,
                granularity: granularity)
            let tag = "\(shape) \(fusion) \(granularity)"
            expectClose(fp32.scores, scores, "scores \(tag)")
            expectClose(fp32.out, forward.out, "out \(tag)")
            expectClose(fp32.chunkLogSumExp, forward.chunkLogSumExp, "lse \(tag)")
            if fusion != .joint {
                expectClose(fp32.fusionWeights, forward.fusionWeights, "weights \(tag)")
                expectClose(fp32.chunkOutputs, forward.chunkOutputs, "chunkOutputs \(tag)")
            }
            expectClose(fp32.dQ, grads.dQ, "dQ \(tag)")
            expectClose(fp32.dKeys, add(base.keys, grads.dKeys), "dKeys \(tag)")
            expectClose(fp32.dValues, add(base.values, grads.dValues), "dValues \(tag)")
            expectClose(fp32.dScores, grads.dScores, "dScores \(tag)")
            expectClose(
                fp32.dRetrievalQuery, add(base.retrievalQuery, retrieval.dRetrievalQuery),
                "dRetrievalQuery \(tag)")
            expectClose(
                fp32.dLandmarks, add(base.landmarks, retrieval.dLandmarks), "dLandmarks \(tag)")
        }
    }

    @Test(arguments: FusionKind.allCases)
    func resultsDoNotDependOnTheThreadCount(fusion: FusionKind) {
        // Big enough that every kernel takes its parallel path and several token blocks select
        // the same chunks.
        let shape = Oracle.SparseShape(
            batch: 2, sequenceLength: 200, heads: 4, kvHeads: 2, headDim: 16, retrievalDim: 8,
            chunkSize: 8, topK: 3)
        let p = SparseProblem(shape, seed: 70).rounded
        var rng = SplitMix64(seed: 71)
        let dOut = p.q.map { _ in rng.nextNormal() }
        var runs: [FP32Run] = []
        for threads in [1, 2, 3] {
            Threads.set(threads)
            runs.append(runFP32(p, granularity: .perToken, fusion: fusion, dOut: dOut, base: p))
        }
        Threads.set(nil)
        #expect(runs[0] == runs[1])
        #expect(runs[0] == runs[2])
        #expect(runs[0].dKeys != floats(p.keys))
    }
}
