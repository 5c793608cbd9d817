import HSACPU
import HSACUDA
import HSACore

// MARK: - HSA ops

/// One sparse-attention parity shape.
struct SparseCase {
    var batch: Int
    var length: Int
    var heads: Int
    var kvHeads: Int
    var headDim: Int
    var retrievalDim: Int
    var chunkSize: Int
    var topK: Int
    var fusion: FusionKind
    var granularity: RetrievalGranularity
    /// bf16 runs sparse attention on the tensor-core kernels (compared at `bf16Attention`).
    var precision: AttentionPrecision = .fp32
    var chunkCount: Int { length / chunkSize }

    /// The sizes every op of the case runs at.
    var shape: SparseAttentionShape {
        SparseAttentionShape(
            batch: batch, sequenceLength: length, heads: heads, kvHeads: kvHeads,
            headDim: headDim, retrievalDim: retrievalDim, chunkSize: chunkSize,
            chunkCount: chunkCount, topK: topK, fusion: fusion, granularity: granularity)
    }

    /// Short enough that the table's 62 columns still show the op name after it.
    var label: String {
        let fusionName = fusion == .stickBreaking ? "sb" : fusion == .softmax ? "sm" : "joint"
        let granularityName = granularity == .perToken ? "tok" : "chunk"
        return "B\(batch) T\(length) H\(heads)/\(kvHeads) HS\(headDim) DR\(retrievalDim) "
            + "S\(chunkSize) K\(topK) \(fusionName) \(granularityName)"
            + (precision == .bf16 ? " bf16" : "")
    }
}

extension ParitySuite {
    /// Ugly shapes, every fusion and granularity, K beyond the eligible chunks, several CPU
    /// token blocks, and the tiles' limits (G * HS = 1024, S * HS = 4096).
    mutating func sparseCases() throws {
        let cases = [
            SparseCase(
                batch: 2, length: 37, heads: 4, kvHeads: 2, headDim: 24, retrievalDim: 20,
                chunkSize: 8, topK: 3, fusion: .stickBreaking, granularity: .perToken),
            SparseCase(
                batch: 2, length: 37, heads: 4, kvHeads: 2, headDim: 24, retrievalDim: 20,
                chunkSize: 8, topK: 3, fusion: .softmax, granularity: .perChunk),
            SparseCase(
                batch: 2, length: 37, heads: 4, kvHeads: 2, headDim: 24, retrievalDim: 20,
                chunkSize: 8, topK: 3, fusion: .joint, granularity: .perToken),
            SparseCase(
                batch: 1, length: 20, heads: 2, kvHeads: 1, headDim: 16, retrievalDim: 16,
                chunkSize: 8, topK: 5, fusion: .stickBreaking, granularity: .perChunk),
            SparseCase(
                batch: 1, length: 20, heads: 2, kvHeads: 1, headDim: 16, retrievalDim: 16,
                chunkSize: 8, topK: 5, fusion: .joint, granularity: .perChunk),
            SparseCase(
                batch: 1, length: 301, heads: 6, kvHeads: 2, headDim: 40, retrievalDim: 33,
                chunkSize: 16, topK: 4, fusion: .softmax, granularity: .perToken),
            SparseCase(
                batch: 1, length: 200, heads: 16, kvHeads: 1, headDim: 64, retrievalDim: 64,
                chunkSize: 64, topK: 8, fusion: .stickBreaking, granularity: .perToken),
            // K past 32 (two slots a lane in selection), past the eligible chunks (joint).
            SparseCase(
                batch: 1, length: 600, heads: 4, kvHeads: 2, headDim: 16, retrievalDim: 16,
                chunkSize: 8, topK: 64, fusion: .stickBreaking, granularity: .perToken),
            SparseCase(
                batch: 1, length: 600, heads: 4, kvHeads: 2, headDim: 16, retrievalDim: 16,
                chunkSize: 8, topK: 40, fusion: .softmax, granularity: .perChunk),
            SparseCase(
                batch: 1, length: 300, heads: 2, kvHeads: 1, headDim: 16, retrievalDim: 16,
                chunkSize: 8, topK: 64, fusion: .joint, granularity: .perToken),
            // DR past the v2 selection and landmark-gradient kernels (256): the v1 paths.
            SparseCase(
                batch: 1, length: 60, heads: 2, kvHeads: 1, headDim: 16, retrievalDim: 260,
                chunkSize: 8, topK: 3, fusion: .softmax, granularity: .perToken),
        ]
        for shape in cases { try sparse(shape) }
        guard
            gpu.sparseTensorCoresSupport(heads: 16, kvHeads: 1, headDim: 64, chunkSize: 64, topK: 8)
        else { return }
        // The tensor-core kernels: G 16, 4 (paper), 3, 12 (two head tiles), 8; HS 64/32/48/16;
        // S 64/32/16; K beyond the eligible chunks; many token blocks (T 600, S 16); K past 32
        // (two slots a lane), the last at the main model's shape and length with every chunk.
        let tensorCoreCases = [
            SparseCase(
                batch: 1, length: 301, heads: 16, kvHeads: 1, headDim: 64, retrievalDim: 64,
                chunkSize: 64, topK: 8, fusion: .stickBreaking, granularity: .perToken),
            SparseCase(
                batch: 2, length: 300, heads: 16, kvHeads: 4, headDim: 64, retrievalDim: 32,
                chunkSize: 64, topK: 3, fusion: .softmax, granularity: .perToken),
            SparseCase(
                batch: 1, length: 333, heads: 8, kvHeads: 2, headDim: 32, retrievalDim: 16,
                chunkSize: 64, topK: 8, fusion: .joint, granularity: .perChunk),
            SparseCase(
                batch: 1, length: 290, heads: 6, kvHeads: 2, headDim: 48, retrievalDim: 24,
                chunkSize: 32, topK: 5, fusion: .stickBreaking, granularity: .perToken),
            SparseCase(
                batch: 1, length: 600, heads: 12, kvHeads: 1, headDim: 16, retrievalDim: 16,
                chunkSize: 16, topK: 4, fusion: .softmax, granularity: .perToken),
            SparseCase(
                batch: 1, length: 200, heads: 16, kvHeads: 2, headDim: 64, retrievalDim: 64,
                chunkSize: 16, topK: 6, fusion: .joint, granularity: .perToken),
            SparseCase(
                batch: 1, length: 1100, heads: 8, kvHeads: 2, headDim: 32, retrievalDim: 16,
                chunkSize: 16, topK: 40, fusion: .stickBreaking, granularity: .perToken),
            SparseCase(
                batch: 1, length: 800, heads: 4, kvHeads: 1, headDim: 16, retrievalDim: 16,
                chunkSize: 16, topK: 64, fusion: .joint, granularity: .perChunk),
            SparseCase(
                batch: 1, length: 4096, heads: 4, kvHeads: 2, headDim: 16, retrievalDim: 16,
                chunkSize: 64, topK: 64, fusion: .softmax, granularity: .perToken),
        ]
        for var shape in tensorCoreCases {
            shape.precision = .bf16
            try sparse(shape)
        }
    }

    /// Chunk selection, chunk-score backward, sparse attention forward and backward of one
    /// shape against `CPU.*`. The attention ops get the CPU's selection (and the backward the
    /// CPU forward's saved tensors), so each op is checked on its own.
    mutating func sparse(_ c: SparseCase) throws {
        let (b, t, nh, nkv, hs, dr) = (
            c.batch, c.length, c.heads, c.kvHeads, c.headDim, c.retrievalDim
        )
        let (s, nc, k) = (c.chunkSize, c.chunkCount, c.topK)
        let shape = c.shape
        let label = "hsa \(c.label)"
        let savedPrecision = gpu.attentionPrecision
        gpu.attentionPrecision = c.precision
        defer { gpu.attentionPrecision = savedPrecision }
        let bf16 = c.precision == .bf16
        let attention = bf16 ? Self.bf16Attention : Self.reduction
        let rows = b * t
        let slots = rows * nkv * k

        // Selection.
        let qs = random(rows * nkv * dr)
        let lmk = random(b * nc * nkv * dr)
        let indices = UnsafeMutablePointer<Int32>.allocate(capacity: max(slots, 1))
        defer { indices.deallocate() }
        let scores = host.floats(slots)
        CPU.chunkSelectForward(
            indices: indices, scores: scores, retrievalQuery: host.copy(qs),
            landmarks: host.copy(lmk), shape: shape)
        let gIndices = try DeviceBuffer(device: gpu.device, byteCount: slots * 4)
        try gIndices.fill(bitPattern: 0x7FC0_0000)
        let gScores = try empty(slots)
        let gqs = try upload(qs)
        let glmk = try upload(lmk)
        try gpu.chunkSelectForward(
            indices: gIndices, scores: gScores, retrievalQuery: gqs, landmarks: glmk,
            shape: shape)
        try gpu.synchronize()
        let selected = try gIndices.downloadInt32s(count: slots)
        let mismatches = (0..<slots).filter { selected[$0] != indices[$0] }.count
        self.rows.append(
            ParityRow(
                op: "\(label) select indices", count: slots, maxAbsolute: Double(mismatches),
                maxRelative: 0, atol: 0, rtol: 0, failures: mismatches))
        try check("\(label) select scores", gScores, scores, slots, Self.reduction)
        let hostIndices = Array(UnsafeBufferPointer(start: indices, count: slots))
        let indexBuffer = try DeviceBuffer(device: gpu.device, int32s: hostIndices)

        // Chunk-score backward (accumulates into prefilled gradients).
        let dScores = random(slots)
        let dqsStart = random(rows * nkv * dr)
        let dlmkStart = random(b * nc * nkv * dr)
        let dqs = host.copy(dqsStart)
        let dlmk = host.copy(dlmkStart)
        CPU.chunkScoresBackward(
            dRetrievalQuery: dqs, dLandmarks: dlmk, dScores: host.copy(dScores),
            retrievalQuery: host.copy(qs), landmarks: host.copy(lmk), indices: indices,
            shape: shape)
        let gdqs = try upload(dqsStart)
        let gdlmk = try upload(dlmkStart)
        let scoreWorkspace = try DeviceBuffer(
            device: gpu.device, byteCount: CUDABackend.chunkScoresBackwardWorkspaceBytes(shape))
        try gpu.chunkScoresBackward(
            dRetrievalQuery: gdqs, dLandmarks: gdlmk, dScores: try upload(dScores),
            retrievalQuery: gqs, landmarks: glmk, indices: indexBuffer,
            workspace: scoreWorkspace, shape: shape)
        try check("\(label) scores bwd dQs", gdqs, dqs, rows * nkv * dr, Self.reduction)
        try check("\(label) scores bwd dLmk", gdlmk, dlmk, b * nc * nkv * dr, Self.reduction)

        // Sparse attention forward.
        let q = random(rows * nh * hs)
        let keys = random(b * nc * s * nkv * hs)
        let values = random(b * nc * s * nkv * hs)
        let out = host.floats(rows * nh * hs)
        let weights = host.floats(slots)
        let outputs = host.floats(rows * nh * k * hs)
        let lse = host.floats(rows * nh * k)
        let cq = host.copy(q)
        let ck = host.copy(keys)
        let cv = host.copy(values)
        let results = SparseAttentionResults(
            out: out, fusionWeights: weights, chunkOutputs: outputs, chunkLogSumExp: lse)
        let inputs = SparseAttentionInputs(
            q: cq, keys: ck, values: cv, indices: indices, scores: scores)
        CPU.sparseAttentionForward(into: results, inputs: inputs, shape: shape)
        let gq = try upload(q)
        let gk = try upload(keys)
        let gv = try upload(values)
        let gScoresCPU = try upload(Array(UnsafeBufferPointer(start: scores, count: slots)))
        let gOut = try empty(rows * nh * hs)
        let gWeights = try empty(slots)
        let gOutputs = try empty(rows * nh * k * hs)
        let gLse = try empty(rows * nh * k)
        try gpu.sparseAttentionForward(
            out: gOut, fusionWeights: gWeights, chunkOutputs: gOutputs, chunkLogSumExp: gLse,
            q: gq, keys: gk, values: gv, indices: indexBuffer, scores: gScoresCPU, shape: shape)
        try check("\(label) fwd out", gOut, out, rows * nh * hs, attention)
        try check(
            "\(label) fwd fusionWeights", gWeights, weights, slots, attention)
        try check("\(label) fwd lse", gLse, lse, rows * nh * k, attention)
        if c.fusion != .joint {
            try check(
                "\(label) fwd chunkOutputs", gOutputs, outputs, rows * nh * k * hs,
                attention)
        }

        // Sparse attention backward (dKeys/dValues accumulate into prefilled gradients).
        let dy = random(rows * nh * hs)
        let dKeysStart = random(b * nc * s * nkv * hs)
        let dValuesStart = random(b * nc * s * nkv * hs)
        let dq = host.floats(rows * nh * hs)
        let dKeys = host.copy(dKeysStart)
        let dValues = host.copy(dValuesStart)
        let dScoresOut = host.floats(slots)
        CPU.sparseAttentionBackward(
            dQ: dq, dKeys: dKeys, dValues: dValues, dScores: dScoresOut, dOut: host.copy(dy),
            forward: results, inputs: inputs, shape: shape)
        let gdq = try empty(rows * nh * hs)
        let gdKeys = try upload(dKeysStart)
        let gdValues = try upload(dValuesStart)
        let gdScores = try empty(slots)
        let workspace = try DeviceBuffer(
            device: gpu.device,
            byteCount: CUDABackend.sparseAttentionBackwardWorkspaceBytes(shape))
        func uploadHost(_ pointer: UnsafeMutablePointer<Float>, _ count: Int) throws
            -> DeviceBuffer
        {
            try upload(Array(UnsafeBufferPointer(start: pointer, count: count)))
        }
        try gpu.sparseAttentionBackward(
            dQ: gdq, dKeys: gdKeys, dValues: gdValues, dScores: gdScores, dOut: try upload(dy),
            out: try uploadHost(out, rows * nh * hs),
            fusionWeights: try uploadHost(weights, slots),
            chunkOutputs: try uploadHost(outputs, rows * nh * k * hs),
            chunkLogSumExp: try uploadHost(lse, rows * nh * k), q: gq, keys: gk, values: gv,
            indices: indexBuffer, scores: gScoresCPU, workspace: workspace, shape: shape)
        try check("\(label) bwd dQ", gdq, dq, rows * nh * hs, attention)
        try check(
            "\(label) bwd dKeys", gdKeys, dKeys, b * nc * s * nkv * hs, attention)
        try check(
            "\(label) bwd dValues", gdValues, dValues, b * nc * s * nkv * hs, attention)
        try check("\(label) bwd dScores", gdScores, dScoresOut, slots, attention)
    }
}
