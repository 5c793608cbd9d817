import Foundation
import HSACPU

// Float64 oracle of hierarchical sparse attention: chunk selection, scores, per-chunk attention,
// the three fusions, and their backward, written straight from MODEL.md "HSA in an upper layer".
// Dimension letters: B batch, T sequence, NH query heads, NKV key/value heads, HS head size,
// DR retrieval head size, S chunk size, NC complete chunks, K top-k chunks.
// Layouts: q (B, T, NH, HS); retrieval queries (B, T, NKV, DR); landmarks (B, NC, NKV, DR);
// keys and values (B, NC, S, NKV, HS); indices and scores (B, T, NKV, K).

// MARK: - Shape

extension Oracle {
    /// The dimensions of one sparse-attention problem.
    public struct SparseShape: Sendable, CustomStringConvertible {
        /// B.
        public var batch: Int
        /// T.
        public var sequenceLength: Int
        /// NH.
        public var heads: Int
        /// NKV.
        public var kvHeads: Int
        /// HS.
        public var headDim: Int
        /// DR.
        public var retrievalDim: Int
        /// S.
        public var chunkSize: Int
        /// K.
        public var topK: Int
        /// NC = floor(T / S).
        public var chunkCount: Int { sequenceLength / chunkSize }

        /// Creates a shape.
        public init(
            batch: Int, sequenceLength: Int, heads: Int, kvHeads: Int, headDim: Int,
            retrievalDim: Int, chunkSize: Int, topK: Int
        ) {
            self.batch = batch
            self.sequenceLength = sequenceLength
            self.heads = heads
            self.kvHeads = kvHeads
            self.headDim = headDim
            self.retrievalDim = retrievalDim
            self.chunkSize = chunkSize
            self.topK = topK
        }

        public var description: String {
            "B=\(batch) T=\(sequenceLength) NH=\(heads) NKV=\(kvHeads) HS=\(headDim) "
                + "DR=\(retrievalDim) S=\(chunkSize) K=\(topK)"
        }

        /// The same problem as the kernels take it, with a fusion and a granularity.
        public func kernelShape(fusion: FusionKind, granularity: RetrievalGranularity)
            -> SparseAttentionShape
        {
            SparseAttentionShape(
                batch: batch, sequenceLength: sequenceLength, heads: heads, kvHeads: kvHeads,
                headDim: headDim, retrievalDim: retrievalDim, chunkSize: chunkSize,
                chunkCount: chunkCount, topK: topK, fusion: fusion, granularity: granularity)
        }

        /// The retrieval-query row whose scores token t uses.
        public func queryRow(token t: Int, granularity: RetrievalGranularity) -> Int {
            granularity == .perToken ? t : (t / chunkSize) * chunkSize - 1
        }

        /// Flat index of (b, t, g, k) in an (B, T, NKV, K) array.
        func slot(_ b: Int, _ t: Int, _ g: Int, _ k: Int) -> Int {
            ((b * sequenceLength + t) * kvHeads + g) * topK + k
        }

        /// Flat index of element d of (b, t, h) in a (B, T, NH, HS) array.
        func head(_ b: Int, _ t: Int, _ h: Int, _ d: Int) -> Int {
            ((b * sequenceLength + t) * heads + h) * headDim + d
        }

        /// Flat index of element d of key j of chunk i, group g, in (B, NC, S, NKV, HS).
        func chunkRow(_ b: Int, _ i: Int, _ j: Int, _ g: Int, _ d: Int) -> Int {
            (((b * chunkCount + i) * chunkSize + j) * kvHeads + g) * headDim + d
        }

        /// Flat index of element d of (b, row, g) in (B, T, NKV, DR).
        func retrieval(_ b: Int, _ row: Int, _ g: Int, _ d: Int) -> Int {
            ((b * sequenceLength + row) * kvHeads + g) * retrievalDim + d
        }

        /// Flat index of element d of (b, i, g) in (B, NC, NKV, DR).
        func landmark(_ b: Int, _ i: Int, _ g: Int, _ d: Int) -> Int {
            ((b * chunkCount + i) * kvHeads + g) * retrievalDim + d
        }
    }
}

// MARK: - Selection and scores

extension Oracle {
    /// Score of chunk i for the query row: `qs · lmk / sqrt(DR)`.
    static func chunkScore(
        retrievalQuery: [Double], landmarks: [Double], b: Int, row: Int, g: Int, i: Int,
        shape: SparseShape
    ) -> Double {
        var total = 0.0
        for d in 0..<shape.retrievalDim {
            let query = retrievalQuery[shape.retrieval(b, row, g, d)]
            total += query * landmarks[shape.landmark(b, i, g, d)]
        }
        return total / Double(shape.retrievalDim).squareRoot()
    }

    /// Brute-force selection: score every eligible chunk i < floor(t/S), sort by (score
    /// descending, index ascending), keep K, order by recency. → indices (B, T, NKV, K), -1 empty.
    public static func chunkSelection(
        retrievalQuery: [Double], landmarks: [Double], shape: SparseShape,
        granularity: RetrievalGranularity
    ) -> [Int32] {
        var indices = [Int32](
            repeating: -1,
            count: shape.batch * shape.sequenceLength * shape.kvHeads * shape.topK)
        for b in 0..<shape.batch {
            for t in 0..<shape.sequenceLength {
                let eligible = min(t / shape.chunkSize, shape.chunkCount)
                if eligible == 0 { continue }
                let row = shape.queryRow(token: t, granularity: granularity)
                for g in 0..<shape.kvHeads {
                    let scored = (0..<eligible).map { i in
                        (
                            i,
                            chunkScore(
                                retrievalQuery: retrievalQuery, landmarks: landmarks, b: b,
                                row: row, g: g, i: i, shape: shape)
                        )
                    }
                    let ranked = scored.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
                    let winners = ranked.prefix(shape.topK).map(\.0).sorted(by: >)
                    for (k, i) in winners.enumerated() {
                        indices[shape.slot(b, t, g, k)] = Int32(i)
                    }
                }
            }
        }
        return indices
    }

    /// Scores of the given (fixed) selection. → (B, T, NKV, K), 0 in empty slots.
    public static func chunkScores(
        retrievalQuery: [Double], landmarks: [Double], indices: [Int32], shape: SparseShape,
        granularity: RetrievalGranularity
    ) -> [Double] {
        var scores = [Double](repeating: 0, count: indices.count)
        for b in 0..<shape.batch {
            for t in 0..<shape.sequenceLength {
                for g in 0..<shape.kvHeads {
                    for k in 0..<shape.topK {
                        let i = Int(indices[shape.slot(b, t, g, k)])
                        if i < 0 { continue }
                        scores[shape.slot(b, t, g, k)] = chunkScore(
                            retrievalQuery: retrievalQuery, landmarks: landmarks, b: b,
                            row: shape.queryRow(token: t, granularity: granularity), g: g, i: i,
                            shape: shape)
                    }
                }
            }
        }
        return scores
    }

    /// Gradients of `chunkScores` from zero. → dRetrievalQuery (B, T, NKV, DR),
    /// dLandmarks (B, NC, NKV, DR).
    public static func chunkScoresBackward(
        dScores: [Double], retrievalQuery: [Double], landmarks: [Double], indices: [Int32],
        shape: SparseShape, granularity: RetrievalGranularity
    ) -> (dRetrievalQuery: [Double], dLandmarks: [Double]) {
        var dQuery = [Double](repeating: 0, count: retrievalQuery.count)
        var dLandmarks = [Double](repeating: 0, count: landmarks.count)
        let scale = 1 / Double(shape.retrievalDim).squareRoot()
        for b in 0..<shape.batch {
            for t in 0..<shape.sequenceLength {
                let row = shape.queryRow(token: t, granularity: granularity)
                for g in 0..<shape.kvHeads {
                    for k in 0..<shape.topK {
                        let i = Int(indices[shape.slot(b, t, g, k)])
                        if i < 0 { continue }
                        let ds = dScores[shape.slot(b, t, g, k)] * scale
                        for d in 0..<shape.retrievalDim {
                            let qi = shape.retrieval(b, row, g, d)
                            let li = shape.landmark(b, i, g, d)
                            dQuery[qi] += ds * landmarks[li]
                            dLandmarks[li] += ds * retrievalQuery[qi]
                        }
                    }
                }
            }
        }
        return (dQuery, dLandmarks)
    }
}

// MARK: - Fusion

extension Oracle {
    /// Fusion weights of the n selected scores (in recency order).
    /// stick-breaking: `w_k = sigmoid(s_k) * prod_{j<k} (1 - sigmoid(s_j))`; softmax: softmax(s).
    public static func fusionWeights(_ scores: [Double], fusion: FusionKind) -> [Double] {
        switch fusion {
        case .stickBreaking:
            var remaining = 1.0
            return scores.map { s in
                let fraction = sigmoid(s)
                defer { remaining *= 1 - fraction }
                return fraction * remaining
            }
        case .softmax:
            let top = scores.max() ?? 0
            let e = scores.map { exp($0 - top) }
            let total = e.reduce(0, +)
            return e.map { $0 / total }
        case .joint:
            return scores.map { _ in 0 }
        }
    }

    /// Score gradients from the weight gradients, by the chain rule on `fusionWeights`.
    public static func fusionWeightsBackward(
        dWeights: [Double], scores: [Double], fusion: FusionKind
    ) -> [Double] {
        let w = fusionWeights(scores, fusion: fusion)
        let n = scores.count
        var dScores = [Double](repeating: 0, count: n)
        for m in 0..<n {
            for k in 0..<n {
                // ∂w_k / ∂s_m.
                var partial = 0.0
                switch fusion {
                case .stickBreaking:
                    let sm = sigmoid(scores[m])
                    if k == m { partial = w[k] * (1 - sm) } else if m < k { partial = -w[k] * sm }
                case .softmax:
                    partial = w[k] * ((k == m ? 1 : 0) - w[m])
                case .joint:
                    partial = 0
                }
                dScores[m] += dWeights[k] * partial
            }
        }
        return dScores
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
}

// MARK: - Sparse attention

extension Oracle {
    /// Everything the fp32 forward saves, in Float64.
    public struct SparseAttentionResult: Sendable {
        /// (B, T, NH, HS) fused output y.
        public var out: [Double]
        /// (B, T, NKV, K) fusion weights (0 in empty slots and for joint).
        public var fusionWeights: [Double]
        /// (B, T, NH, K, HS) per-chunk outputs (0 in empty slots and for joint).
        public var chunkOutputs: [Double]
        /// (B, T, NH, K) per-chunk logsumexp (joint: slot 0 is the joint one; 0 elsewhere).
        public var chunkLogSumExp: [Double]
    }

    /// The selected keys of (b, t, g) in slot order: a list of (chunk i, key j) pairs.
    static func selectedKeys(indices: [Int32], b: Int, t: Int, g: Int, shape: SparseShape)
        -> [[(Int, Int)]]
    {
        var slots: [[(Int, Int)]] = []
        for k in 0..<shape.topK {
            let i = Int(indices[shape.slot(b, t, g, k)])
            if i < 0 { break }
            slots.append((0..<shape.chunkSize).map { j in (i, j) })
        }
        return slots
    }

    /// softmax(q·K/sqrt(HS)) V over the given keys for query head h. → (output (HS), probs, lse).
    static func attend(
        q: [Double], keys: [Double], values: [Double], b: Int, t: Int, h: Int, g: Int,
        over positions: [(Int, Int)], shape: SparseShape
    ) -> (out: [Double], probs: [Double], lse: Double) {
        let scale = 1 / Double(shape.headDim).squareRoot()
        let logits = positions.map { (i, j) in
            var total = 0.0
            for d in 0..<shape.headDim {
                total += q[shape.head(b, t, h, d)] * keys[shape.chunkRow(b, i, j, g, d)]
            }
            return total * scale
        }
        let top = logits.max() ?? 0
        let sum = logits.reduce(0) { $0 + exp($1 - top) }
        let probs = logits.map { exp($0 - top) / sum }
        var out = [Double](repeating: 0, count: shape.headDim)
        for (n, (i, j)) in positions.enumerated() {
            for d in 0..<shape.headDim {
                out[d] += probs[n] * values[shape.chunkRow(b, i, j, g, d)]
            }
        }
        return (out, probs, top + log(sum))
    }

    /// Sparse attention forward with the selection fixed.
    public static func sparseAttentionForward(
        q: [Double], keys: [Double], values: [Double], indices: [Int32], scores: [Double],
        shape: SparseShape, fusion: FusionKind
    ) -> SparseAttentionResult {
        let (B, T, NH, NKV, HS, K) = (
            shape.batch, shape.sequenceLength, shape.heads, shape.kvHeads, shape.headDim,
            shape.topK
        )
        let groupSize = NH / NKV
        var result = SparseAttentionResult(
            out: [Double](repeating: 0, count: B * T * NH * HS),
            fusionWeights: [Double](repeating: 0, count: B * T * NKV * K),
            chunkOutputs: [Double](repeating: 0, count: B * T * NH * K * HS),
            chunkLogSumExp: [Double](repeating: 0, count: B * T * NH * K))
        for b in 0..<B {
            for t in 0..<T {
                for h in 0..<NH {
                    let g = h / groupSize
                    let slots = selectedKeys(indices: indices, b: b, t: t, g: g, shape: shape)
                    if slots.isEmpty { continue }
                    let lseBase = ((b * T + t) * NH + h) * K
                    if fusion == .joint {
                        let joint = attend(
                            q: q, keys: keys, values: values, b: b, t: t, h: h, g: g,
                            over: slots.flatMap { $0 }, shape: shape)
                        for d in 0..<HS { result.out[shape.head(b, t, h, d)] = joint.out[d] }
                        result.chunkLogSumExp[lseBase] = joint.lse
                        continue
                    }
                    let slotScores = slots.indices.map { scores[shape.slot(b, t, g, $0)] }
                    let w = fusionWeights(slotScores, fusion: fusion)
                    for (k, positions) in slots.enumerated() {
                        let chunk = attend(
                            q: q, keys: keys, values: values, b: b, t: t, h: h, g: g,
                            over: positions, shape: shape)
                        result.fusionWeights[shape.slot(b, t, g, k)] = w[k]
                        result.chunkLogSumExp[lseBase + k] = chunk.lse
                        for d in 0..<HS {
                            result.chunkOutputs[(lseBase + k) * HS + d] = chunk.out[d]
                            result.out[shape.head(b, t, h, d)] += w[k] * chunk.out[d]
                        }
                    }
                }
            }
        }
        return result
    }

    /// Sparse attention gradients from zero, with the selection fixed.
    /// → dQ (B, T, NH, HS), dKeys and dValues (B, NC, S, NKV, HS), dScores (B, T, NKV, K).
    public static func sparseAttentionBackward(
        dOut: [Double], q: [Double], keys: [Double], values: [Double], indices: [Int32],
        scores: [Double], shape: SparseShape, fusion: FusionKind
    ) -> (dQ: [Double], dKeys: [Double], dValues: [Double], dScores: [Double]) {
        let (B, T, NH, NKV, HS) = (
            shape.batch, shape.sequenceLength, shape.heads, shape.kvHeads, shape.headDim
        )
        let groupSize = NH / NKV
        let scale = 1 / Double(HS).squareRoot()
        var dQ = [Double](repeating: 0, count: q.count)
        var dKeys = [Double](repeating: 0, count: keys.count)
        var dValues = [Double](repeating: 0, count: values.count)
        var dScores = [Double](repeating: 0, count: scores.count)

        // Backward of one softmax attention whose output o received gradient dO.
        func attendBackward(
            dO: [Double], b: Int, t: Int, h: Int, g: Int, positions: [(Int, Int)]
        ) {
            let forward = attend(
                q: q, keys: keys, values: values, b: b, t: t, h: h, g: g, over: positions,
                shape: shape)
            // dp_n = dO · v_n; dlogit_n = p_n (dp_n - Σ_m p_m dp_m).
            let dProbs = positions.map { (i, j) in
                (0..<HS).reduce(0.0) { $0 + dO[$1] * values[shape.chunkRow(b, i, j, g, $1)] }
            }
            var expected = 0.0
            for n in positions.indices { expected += forward.probs[n] * dProbs[n] }
            for (n, (i, j)) in positions.enumerated() {
                let p = forward.probs[n]
                let dLogit = p * (dProbs[n] - expected) * scale
                for d in 0..<HS {
                    let kv = shape.chunkRow(b, i, j, g, d)
                    dValues[kv] += p * dO[d]
                    dQ[shape.head(b, t, h, d)] += dLogit * keys[kv]
                    dKeys[kv] += dLogit * q[shape.head(b, t, h, d)]
                }
            }
        }

        for b in 0..<B {
            for t in 0..<T {
                for g in 0..<NKV {
                    let slots = selectedKeys(indices: indices, b: b, t: t, g: g, shape: shape)
                    if slots.isEmpty { continue }
                    let heads = (g * groupSize)..<((g + 1) * groupSize)
                    if fusion == .joint {
                        for h in heads {
                            let dy = (0..<HS).map { dOut[shape.head(b, t, h, $0)] }
                            attendBackward(
                                dO: dy, b: b, t: t, h: h, g: g, positions: slots.flatMap { $0 })
                        }
                        continue
                    }
                    let slotScores = slots.indices.map { scores[shape.slot(b, t, g, $0)] }
                    let w = fusionWeights(slotScores, fusion: fusion)
                    var dWeights = [Double](repeating: 0, count: slots.count)
                    for h in heads {
                        let dy = (0..<HS).map { dOut[shape.head(b, t, h, $0)] }
                        for (k, positions) in slots.enumerated() {
                            let chunk = attend(
                                q: q, keys: keys, values: values, b: b, t: t, h: h, g: g,
                                over: positions, shape: shape)
                            for d in 0..<HS { dWeights[k] += dy[d] * chunk.out[d] }
                            attendBackward(
                                dO: dy.map { $0 * w[k] }, b: b, t: t, h: h, g: g,
                                positions: positions)
                        }
                    }
                    let ds = fusionWeightsBackward(
                        dWeights: dWeights, scores: slotScores, fusion: fusion)
                    for k in slots.indices { dScores[shape.slot(b, t, g, k)] = ds[k] }
                }
            }
        }
        return (dQ, dKeys, dValues, dScores)
    }
}
