// Attention launchers. Letters: B batch, T sequence, NH query heads, NKV key/value heads,
// HS head size (<= 256, the v1 kernels keep 8 values per lane).

import HSACore

extension CUDABackend {
    /// Attention forward (same contract as `CPU.attentionForward`): online softmax; bf16
    /// tensor cores (v3) when `usesAttentionTensorCores`, else v2 tiles (64 queries per block,
    /// 32-key steps) for HS <= 64 unless `attentionTiled` is off, else one warp per query row
    /// (v1).
    /// - Parameters:
    ///   - out: (B, T, NH, HS) overwritten.
    ///   - logSumExp: (B, T, NH) overwritten.
    ///   - q: (B, T, NH, HS).
    ///   - k: (B, T, NKV, HS).
    ///   - v: (B, T, NKV, HS).
    ///   - shape: the sizes and the mask.
    public func attentionForward(
        out: DeviceBuffer, logSumExp: DeviceBuffer, q: DeviceBuffer, k: DeviceBuffer,
        v: DeviceBuffer, shape: AttentionShape
    ) throws {
        let packedShape = try packed(shape)
        let (batch, sequenceLength, heads, kvHeads, headDim) = (
            shape.batch, shape.sequenceLength, shape.heads, shape.kvHeads, shape.headDim
        )
        let rows = batch * sequenceLength * heads
        try require(out, rows * headDim, "out")
        try require(logSumExp, rows, "logSumExp")
        try require(q, rows * headDim, "q")
        try require(k, batch * sequenceLength * kvHeads * headDim, "k")
        try require(v, batch * sequenceLength * kvHeads * headDim, "v")
        let arguments: [KernelArgument] = [
            .buffer(out), .buffer(logSumExp), .buffer(q), .buffer(k), .buffer(v),
            .int32Struct(packedShape),
        ]
        if usesAttentionTensorCores(headDim: headDim) {
            try launch(
                "hsa_attention_forward_v3", in: .attentionTensorCore,
                grid: (((sequenceLength + 63) / 64) * heads, batch), block: 128, arguments)
        } else if let tile = tiledAttentionSuffix(headDim: headDim) {
            try launch(
                "hsa_attention_forward_\(tile)_v2", in: .attention,
                grid: (((sequenceLength + 63) / 64) * heads, batch), block: 256, arguments)
        } else {
            try launch(
                "hsa_attention_forward_v1", in: .attention, grid: ((rows + 3) / 4, 1),
                block: 128, arguments)
        }
    }

    /// Whether attention runs the bf16 tensor-core kernels (v3): `attentionPrecision` bf16,
    /// an sm_80+ device, HS a multiple of 16 up to 64.
    public func usesAttentionTensorCores(headDim: Int) -> Bool {
        attentionPrecision == .bf16 && device.computeCapability.major >= 8 && headDim % 16 == 0
            && headDim >= 16 && headDim <= 64
    }

    /// The v2 (tiled) kernels' name suffix for `headDim`, or nil to use v1.
    private func tiledAttentionSuffix(headDim: Int) -> String? {
        guard attentionTiled else { return nil }
        if headDim <= 32 { return "hs32" }
        if headDim <= 64 { return "hs64" }
        return nil
    }

    /// Attention backward (same contract as `CPU.attentionBackward`); OVERWRITES dQ, dK, dV.
    /// Three launches: D = rowsum(dOut * out); dQ (v3, bf16 tensor cores: block per 64-query
    /// tile; v2: block per 32-query tile over key tiles;
    /// v1: warp per query row); dK, dV (v2: block per 32-key tile over query tiles, the group's
    /// heads inside each; v1: warp per key row). No atomics, a fixed summation order.
    /// - Parameters:
    ///   - dQ: (B, T, NH, HS) overwritten.
    ///   - dK: (B, T, NKV, HS) overwritten.
    ///   - dV: (B, T, NKV, HS) overwritten.
    ///   - dOut: (B, T, NH, HS).
    ///   - out: (B, T, NH, HS) the forward's output.
    ///   - logSumExp: (B, T, NH) the forward's.
    ///   - q: (B, T, NH, HS).
    ///   - k: (B, T, NKV, HS).
    ///   - v: (B, T, NKV, HS).
    ///   - shape: the forward's sizes and mask.
    ///   - workspace: scratch of `attentionBackwardWorkspaceBytes` (row deltas, and dK/dV
    ///     partials when the tensor-core kernel splits heads); nil allocates a temporary one
    ///     and waits for the kernels before returning.
    public func attentionBackward(
        dQ: DeviceBuffer, dK: DeviceBuffer, dV: DeviceBuffer, dOut: DeviceBuffer,
        out: DeviceBuffer, logSumExp: DeviceBuffer, q: DeviceBuffer, k: DeviceBuffer,
        v: DeviceBuffer, shape: AttentionShape, workspace: DeviceBuffer? = nil
    ) throws {
        let packedShape = try packed(shape)
        let (batch, sequenceLength, heads, kvHeads, headDim) = (
            shape.batch, shape.sequenceLength, shape.heads, shape.kvHeads, shape.headDim
        )
        let rows = batch * sequenceLength * heads
        let keyRows = batch * sequenceLength * kvHeads
        for (buffer, name) in [(dQ, "dQ"), (dOut, "dOut"), (out, "out"), (q, "q")] {
            try require(buffer, rows * headDim, name)
        }
        for (buffer, name) in [(dK, "dK"), (dV, "dV"), (k, "k"), (v, "v")] {
            try require(buffer, keyRows * headDim, name)
        }
        try require(logSumExp, rows, "logSumExp")
        // In `workspace` when given (no wait), else in a temporary buffer.
        let layout = Self.attentionBackwardLayout(
            batch: batch, sequenceLength: sequenceLength, heads: heads, kvHeads: kvHeads,
            headDim: headDim)
        let ownedScratch =
            workspace == nil ? try DeviceBuffer(device: device, byteCount: layout.total) : nil
        guard let scratch = workspace ?? ownedScratch else { return }
        let part = try workspaceParts(scratch, needing: layout.total, for: "attentionBackward")
        let delta = part(0)  // (B, T, NH)
        try launch(
            "hsa_attention_delta_v1", in: .attention, grid: ((rows + 3) / 4, 1), block: 128,
            [
                .buffer(delta), .buffer(dOut), .buffer(out), .int(Int32(rows)),
                .int(Int32(headDim)),
            ])
        let queryArguments: [KernelArgument] = [
            .buffer(dQ), .buffer(dOut), .buffer(delta), .buffer(logSumExp), .buffer(q),
            .buffer(k), .buffer(v), .int32Struct(packedShape),
        ]
        let keyArguments: [KernelArgument] = [
            .buffer(dK), .buffer(dV), .buffer(dOut), .buffer(delta), .buffer(logSumExp),
            .buffer(q), .buffer(k), .buffer(v), .int32Struct(packedShape),
        ]
        if usesAttentionTensorCores(headDim: headDim) {
            try launch(
                "hsa_attention_backward_query_v3", in: .attentionTensorCore,
                grid: (((sequenceLength + 63) / 64) * heads, batch), block: 128, queryArguments)
            let partials =
                layout.splits > 1 ? (part(layout.partialKeys), part(layout.partialValues)) : nil
            try attentionKeyGradientsTensorCore(
                dK: dK, dV: dV, partials: partials,
                keyArguments: Array(keyArguments.dropFirst(2)), layout: layout,
                keyElements: keyRows * headDim,
                blocksPerSplit: ((sequenceLength + 63) / 64) * kvHeads, batch: batch)
        } else if let tile = tiledAttentionSuffix(headDim: headDim) {
            try launch(
                "hsa_attention_backward_query_\(tile)_v2", in: .attention,
                grid: (((sequenceLength + 31) / 32) * heads, batch), block: 256, queryArguments)
            try launch(
                "hsa_attention_backward_key_\(tile)_v2", in: .attention,
                grid: (((sequenceLength + 31) / 32) * kvHeads, batch), block: 256, keyArguments)
        } else {
            try launch(
                "hsa_attention_backward_query_v1", in: .attention, grid: ((rows + 3) / 4, 1),
                block: 128, queryArguments)
            try launch(
                "hsa_attention_backward_key_v1", in: .attention,
                grid: ((keyRows + 3) / 4, 1), block: 128, keyArguments)
        }
        // A temporary scratch is freed on return: wait for the kernels that use it.
        if ownedScratch != nil { try synchronize() }
    }

    /// Validates dimensions and packs `HsaAttentionShape {B, T, NH, NKV, HS, causal, window}`.
    private func packed(_ shape: AttentionShape) throws -> [Int32] {
        let (batch, length, heads, kvHeads, headDim, mask) = (
            shape.batch, shape.sequenceLength, shape.heads, shape.kvHeads, shape.headDim,
            shape.mask
        )
        guard kvHeads > 0, heads % kvHeads == 0 else {
            throw CUDAError.invalidArgument(
                "heads \(heads) must be a multiple of kvHeads \(kvHeads)")
        }
        guard headDim > 0, headDim <= 256 else {
            throw CUDAError.invalidArgument(
                "attention v1 supports head sizes 1...256, got \(headDim)")
        }
        var causal: Int32 = 0
        var window: Int32 = 0
        if case .causal(let w) = mask {
            guard w >= 1 else { throw CUDAError.invalidArgument("causal window \(w) < 1") }
            causal = 1
            // A window past T sees the same keys as T; clamping keeps `key + window - 1` in the
            // kernels from overflowing int (full attention passes Int.max / 2).
            window = Int32(min(w, max(length, 1)))
        }
        return [batch, length, heads, kvHeads, headDim].map { Int32($0) } + [causal, window]
    }
}
