// The dense attention backward's scratch and the head slices of its tensor-core dK/dV kernel.
// One block per (64 keys, KV head, batch row) walks all G heads of its group; with one KV head
// (B 1, T 4096: 64 blocks on 132 SMs) most SMs idle. Cutting the heads into slices multiplies
// the blocks; each slice writes its own partial dK/dV, and a reduce adds them in slice order
// (no atomics, deterministic). The kernel holds ~200 registers a thread, so an SM runs 2
// blocks: past ~256 blocks slicing only adds partial traffic (H200, paper preset at B 1:
// 4 slices made the kernel 18.1 ms a step instead of 15.4).

import HSACore

extension CUDABackend {
    /// Blocks the head slices aim for: about 2 per SM of an H100/H200. A constant, not the
    /// device's SM count, so that a shape sums in the same order on every GPU.
    static let attentionKeyTargetBlocks = 256

    /// Byte offsets in the attention backward's scratch (each part 256-byte aligned).
    struct AttentionBackwardLayout {
        /// Head slices of the dK/dV kernel and heads per slice (1 and G: no partials).
        let splits: Int
        let perSplit: Int
        /// Offsets of the (splits, B, T, NKV, HS) partials; the row deltas (B, T, NH) start at 0.
        let partialKeys: Int
        let partialValues: Int
        let total: Int
    }

    static func attentionBackwardLayout(
        batch: Int, sequenceLength: Int, heads: Int, kvHeads: Int, headDim: Int
    ) -> AttentionBackwardLayout {
        let aligned = workspaceAligned
        let group = heads / max(kvHeads, 1)
        let blocks = max(1, (sequenceLength + 63) / 64 * kvHeads * batch)
        let wanted = min(group, max(1, (attentionKeyTargetBlocks + blocks - 1) / blocks))
        let perSplit = max(1, (group + wanted - 1) / wanted)
        let splits = max(1, (group + perSplit - 1) / perSplit)
        let deltas = aligned(batch * sequenceLength * heads * 4)
        let partial =
            splits > 1 ? aligned(splits * batch * sequenceLength * kvHeads * headDim * 4) : 0
        return AttentionBackwardLayout(
            splits: splits, perSplit: perSplit, partialKeys: deltas,
            partialValues: deltas + partial, total: deltas + 2 * partial)
    }

    /// Bytes of scratch `attentionBackward` needs for this shape.
    public static func attentionBackwardWorkspaceBytes(_ shape: AttentionShape) -> Int {
        attentionBackwardLayout(
            batch: shape.batch, sequenceLength: shape.sequenceLength, heads: shape.heads,
            kvHeads: shape.kvHeads, headDim: shape.headDim
        ).total
    }

    /// dK, dV (B, T, NKV, HS: `keyElements` floats) overwritten by the tensor-core kernel,
    /// through `partials` (the layout's, present when it splits heads). `keyArguments` are the
    /// kernel's inputs after dK and dV.
    func attentionKeyGradientsTensorCore(
        dK: DeviceBuffer, dV: DeviceBuffer, partials: (keys: DeviceBuffer, values: DeviceBuffer)?,
        keyArguments: [KernelArgument], layout: AttentionBackwardLayout, keyElements: Int,
        blocksPerSplit: Int, batch: Int
    ) throws {
        let targets = partials ?? (dK, dV)
        try launch(
            "hsa_attention_backward_key_v3", in: .attentionTensorCore,
            grid: (blocksPerSplit * layout.splits, batch), block: 128,
            [.buffer(targets.0), .buffer(targets.1)] + keyArguments
                + [.int(Int32(layout.splits)), .int(Int32(layout.perSplit))])
        guard let partials else { return }
        try launch(
            "hsa_attention_backward_key_reduce_v3", in: .attentionTensorCore,
            grid: ((keyElements + 255) / 256, 1), block: 256,
            [
                .buffer(dK), .buffer(dV), .buffer(partials.keys), .buffer(partials.values),
                .int64(Int64(keyElements)), .int(Int32(layout.splits)),
            ])
    }
}
