// Launchers of the bf16 tensor-core sparse attention kernels (Kernels/SparseTensorCoreKernels
// .swift), called by `sparseAttentionForward` / `sparseAttentionBackward` when
// `attentionPrecision` is bf16 and `sparseTensorCoresSupport` accepts the shape. Same contracts
// as the fp32 path; letters as in CUDABackend+Sparse.swift.

import HSACore

/// Dimensions of one sparse attention call.
struct SparseDimensions {
    let b: Int, t: Int, nh: Int, nkv: Int, hs: Int, s: Int, nc: Int, k: Int
    /// Elements of keys (or values): B * NC * S * NKV * HS.
    var chunkElements: Int { b * nc * s * nkv * hs }
    /// Chunk items (b, g, i) of the selection map.
    var chunkItems: Int { b * nkv * nc }
    /// Most (token, slot) pairs a selection holds.
    var pairs: Int { b * t * nkv * k }
}

extension SparseDimensions {
    /// The sizes of `shape` (fusion and the selection's fields aside).
    init(_ shape: SparseAttentionShape) {
        self.init(
            b: shape.batch, t: shape.sequenceLength, nh: shape.heads, nkv: shape.kvHeads,
            hs: shape.headDim, s: shape.chunkSize, nc: shape.chunkCount, k: shape.topK)
    }
}

/// Byte offsets in the tensor-core backward's workspace, each part 256-byte aligned: deltas
/// (B, T, NH, K); the chunks packed to bf16 (k16, kt16, v16, vt16); q and dOut in bf16; the
/// (B, NKV, NC, T) selection map; per chunk item the pair count and the pair and piece
/// offsets (n + 1); the (token, slot) lists; two (pieces, S, HS) partial sums.
struct TensorCoreBackwardLayout {
    /// Tokens per piece (HSA_TC_PIECE in the kernels).
    static let pieceTokens = 128
    let deltas = 0
    let packed: Int, q16: Int, dOut16: Int, map: Int, counts: Int, pairOffsets: Int
    let pieceOffsets: Int
    let listTokens: Int, listSlots: Int, partialKeys: Int, partialValues: Int, total: Int
    /// An upper bound on the pieces: sum of ceil(count / P) <= pairs / P + chunk items.
    let maxPieces: Int

    init(_ d: SparseDimensions) {
        let aligned = CUDABackend.workspaceAligned
        let items = d.chunkItems
        maxPieces = (d.pairs + Self.pieceTokens - 1) / Self.pieceTokens + items
        packed = aligned(d.b * d.t * d.nh * d.k * 4)
        q16 = packed + aligned(4 * d.chunkElements * 2)
        dOut16 = q16 + aligned(d.b * d.t * d.nh * d.hs * 2)
        map = dOut16 + aligned(d.b * d.t * d.nh * d.hs * 2)
        counts = map + aligned(items * d.t)
        pairOffsets = counts + aligned(items * 4)
        pieceOffsets = pairOffsets + aligned((items + 1) * 4)
        listTokens = pieceOffsets + aligned((items + 1) * 4)
        listSlots = listTokens + aligned(d.pairs * 4)
        partialKeys = listSlots + aligned(d.pairs * 4)
        partialValues = partialKeys + aligned(maxPieces * d.s * d.hs * 4)
        total = partialValues + aligned(maxPieces * d.s * d.hs * 4)
    }
}

extension CUDABackend {
    /// True when the bf16 tensor-core kernels handle the shape: an sm_80+ device, G <= 16
    /// (the heads of a KV group are the rows of one MMA tile), HS and S multiples of 16 up to
    /// 64 (register tiles), K <= `CUDABackend.maxTopK`.
    public func sparseTensorCoresSupport(
        heads: Int, kvHeads: Int, headDim: Int, chunkSize: Int, topK: Int
    ) -> Bool {
        guard device.computeCapability.major >= 8, kvHeads > 0, heads % kvHeads == 0 else {
            return false
        }
        return heads / kvHeads <= 16 && headDim % 16 == 0 && headDim >= 16 && headDim <= 64
            && chunkSize % 16 == 0 && chunkSize >= 16 && chunkSize <= 64 && topK >= 1
            && topK <= Self.maxTopK
    }

    /// Whether sparse attention of this shape runs on tensor cores now.
    func usesSparseTensorCores(
        heads: Int, kvHeads: Int, headDim: Int, chunkSize: Int, topK: Int
    ) -> Bool {
        attentionPrecision == .bf16
            && sparseTensorCoresSupport(
                heads: heads, kvHeads: kvHeads, headDim: headDim, chunkSize: chunkSize,
                topK: topK)
    }

    /// Forward on tensor cores; the packed chunks live in the backend's scratch buffer.
    func sparseAttentionForwardTensorCores(
        out: DeviceBuffer, fusionWeights: DeviceBuffer, chunkOutputs: DeviceBuffer,
        chunkLogSumExp: DeviceBuffer, q: DeviceBuffer, keys: DeviceBuffer, values: DeviceBuffer,
        indices: DeviceBuffer, scores: DeviceBuffer, dimensions d: SparseDimensions,
        fusion: FusionKind
    ) throws {
        let packed = try packChunks(
            into: try scratch(floats: 2 * d.chunkElements), keys: keys, values: values,
            dimensions: d)
        let rows = d.b * d.t * d.nkv
        try launch(
            "hsa_sparse_attention_forward_v2", in: .sparseTensorCore,
            grid: ((rows + 3) / 4, 1), block: 128,
            [
                .buffer(out), .buffer(fusionWeights), .buffer(chunkOutputs),
                .buffer(chunkLogSumExp), .buffer(q), .buffer(packed.k16), .buffer(packed.vt16),
                .buffer(indices), .buffer(scores),
            ] + sparseShape(d.b, d.t, d.nh, d.nkv, d.hs, d.s, d.nc, d.k, fusion))
    }

    /// Backward on tensor cores: pack the chunks; dQ, dScores and the deltas per (token, KV
    /// head); the selection map, per-chunk pair counts, offsets and lists; key/value partials
    /// per piece; the partials added into dKeys/dValues.
    func sparseAttentionBackwardTensorCores(
        dQ: DeviceBuffer, dKeys: DeviceBuffer, dValues: DeviceBuffer, dScores: DeviceBuffer,
        dOut: DeviceBuffer, out: DeviceBuffer, fusionWeights: DeviceBuffer,
        chunkOutputs: DeviceBuffer, chunkLogSumExp: DeviceBuffer, q: DeviceBuffer,
        keys: DeviceBuffer, values: DeviceBuffer, indices: DeviceBuffer, scores: DeviceBuffer,
        workspace: DeviceBuffer, dimensions d: SparseDimensions, fusion: FusionKind
    ) throws {
        let layout = TensorCoreBackwardLayout(d)
        let part = try workspaceParts(workspace, needing: layout.total)
        let shape = sparseShape(d.b, d.t, d.nh, d.nkv, d.hs, d.s, d.nc, d.k, fusion)
        let packed = try packChunks(
            into: part(layout.packed), keys: keys, values: values, dimensions: d)
        let deltas = part(layout.deltas)
        try launch(
            "hsa_sparse_attention_backward_query_v2", in: .sparseTensorCore,
            grid: ((d.b * d.t * d.nkv + 3) / 4, 1), block: 128,
            [
                .buffer(dQ), .buffer(dScores), .buffer(deltas), .buffer(dOut), .buffer(out),
                .buffer(fusionWeights), .buffer(chunkOutputs), .buffer(chunkLogSumExp),
                .buffer(q), .buffer(packed.k16), .buffer(packed.kt16), .buffer(packed.v16),
                .buffer(indices), .buffer(scores),
            ] + shape)
        if d.nc == 0 { return }
        let map = try selectionMap(
            workspace, offset: layout.map, indices: indices, batch: d.b, sequenceLength: d.t,
            kvHeads: d.nkv, chunkCount: d.nc, topK: d.k)
        let (counts, pairOffsets) = (part(layout.counts), part(layout.pairOffsets))
        let (pieceOffsets, listTokens) = (part(layout.pieceOffsets), part(layout.listTokens))
        let listSlots = part(layout.listSlots)
        let (t, s, nc) = (Int32(d.t), Int32(d.s), Int32(d.nc))
        try launch(
            "hsa_sparse_chunk_counts_v2", in: .sparseTensorCore, grid: (d.chunkItems, 1),
            block: 128, [.buffer(counts), .buffer(map), .int(t), .int(s), .int(nc)])
        try launch(
            "hsa_sparse_chunk_offsets_v2", in: .sparseTensorCore, grid: (1, 1), block: 1024,
            [
                .buffer(pairOffsets), .buffer(pieceOffsets), .buffer(counts),
                .int(Int32(d.chunkItems)),
            ])
        try launch(
            "hsa_sparse_chunk_list_v2", in: .sparseTensorCore, grid: (d.chunkItems, 1),
            block: 128,
            [
                .buffer(listTokens), .buffer(listSlots), .buffer(map), .buffer(pairOffsets),
                .int(t), .int(s), .int(nc),
            ])
        let (partialKeys, partialValues) = (part(layout.partialKeys), part(layout.partialValues))
        let (q16, dOut16) = (part(layout.q16), part(layout.dOut16))
        let rowPairs = d.b * d.t * d.nh * d.hs / 2
        for (packed, rows) in [(q16, q), (dOut16, dOut)] {
            try launch(
                "hsa_sparse_pack_rows_v2", in: .sparseTensorCore,
                grid: ((rowPairs + 255) / 256, 1), block: 256,
                [.buffer(packed), .buffer(rows), .int64(Int64(rowPairs))])
        }
        // One warp per 16 keys of the chunk.
        try launch(
            "hsa_sparse_attention_backward_chunk_v2", in: .sparseTensorCore,
            grid: (layout.maxPieces, 1), block: d.s / 16 * 32,
            [
                .buffer(partialKeys), .buffer(partialValues), .buffer(dOut16),
                .buffer(fusionWeights), .buffer(chunkLogSumExp), .buffer(deltas), .buffer(q16),
                .buffer(packed.k16), .buffer(packed.v16), .buffer(listTokens),
                .buffer(listSlots), .buffer(pairOffsets), .buffer(pieceOffsets),
            ] + shape)
        try launch(
            "hsa_sparse_attention_backward_reduce_v2", in: .sparseTensorCore,
            grid: ((d.chunkElements + 255) / 256, 1), block: 256,
            [
                .buffer(dKeys), .buffer(dValues), .buffer(partialKeys), .buffer(partialValues),
                .buffer(pieceOffsets), .int(Int32(d.b)), .int(Int32(d.nkv)), .int(Int32(d.hs)),
                .int(s), .int(nc),
            ])
    }

    /// Writes keys and values as bf16 per (b, chunk, KV head), row-major and transposed, into
    /// `buffer` (at least 4 * chunkElements * 2 bytes) and returns the four views.
    private func packChunks(
        into buffer: DeviceBuffer, keys: DeviceBuffer, values: DeviceBuffer,
        dimensions d: SparseDimensions
    ) throws -> (k16: DeviceBuffer, kt16: DeviceBuffer, v16: DeviceBuffer, vt16: DeviceBuffer) {
        let bytes = d.chunkElements * 2
        guard buffer.byteCount >= 4 * bytes else {
            throw CUDAError.invalidArgument(
                "packChunks: buffer holds \(buffer.byteCount) bytes, expected \(4 * bytes)")
        }
        func view(_ index: Int) -> DeviceBuffer {
            DeviceBuffer(
                device: device, borrowing: buffer.address + UInt64(index * bytes),
                byteCount: bytes)
        }
        let views = (k16: view(0), kt16: view(1), v16: view(2), vt16: view(3))
        try launch(
            "hsa_sparse_pack_chunks_v2", in: .sparseTensorCore,
            grid: ((d.chunkElements + 255) / 256, 1), block: 256,
            [
                .buffer(views.k16), .buffer(views.kt16), .buffer(views.v16),
                .buffer(views.vt16), .buffer(keys), .buffer(values),
                .int64(Int64(d.chunkElements)), .int(Int32(d.s)), .int(Int32(d.nkv)),
                .int(Int32(d.hs)),
            ])
        return views
    }
}
