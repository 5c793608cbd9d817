// Cross-entropy launchers. Letters: N rows, V vocab.

extension CUDABackend {
    /// Per-row cross-entropy (same contract as `CPU.crossEntropyForward`).
    /// - Parameters:
    ///   - losses: (N) overwritten; 0 where the target is negative.
    ///   - logits: (N, V).
    ///   - targets: (N) Int32, negative to ignore.
    ///   - rows: N.
    ///   - vocab: V.
    public func crossEntropyForward(
        losses: DeviceBuffer, logits: DeviceBuffer, targets: DeviceBuffer, rows: Int, vocab: Int
    ) throws {
        try require(losses, rows, "losses")
        try require(logits, rows * vocab, "logits")
        try require(targets, rows, "targets")
        try launch(
            "hsa_crossentropy_forward_v1", in: .loss, grid: (rows, 1), block: 512,
            [
                .buffer(losses), .buffer(logits), .buffer(targets), .int(Int32(rows)),
                .int(Int32(vocab)),
            ])
    }

    /// Fused softmax + cross-entropy backward; `dLogits` is OVERWRITTEN (same contract as
    /// `CPU.crossEntropyBackward`).
    /// - Parameters:
    ///   - dLogits: (N, V) overwritten.
    ///   - logits: (N, V).
    ///   - targets: (N) Int32, negative to ignore.
    ///   - rowScale: (N) dLoss/dLoss_n.
    ///   - rows: N.
    ///   - vocab: V.
    public func crossEntropyBackward(
        dLogits: DeviceBuffer, logits: DeviceBuffer, targets: DeviceBuffer,
        rowScale: DeviceBuffer, rows: Int, vocab: Int
    ) throws {
        try require(dLogits, rows * vocab, "dLogits")
        try require(logits, rows * vocab, "logits")
        try require(targets, rows, "targets")
        try require(rowScale, rows, "rowScale")
        try launch(
            "hsa_crossentropy_backward_v1", in: .loss, grid: (rows, 1), block: 512,
            [
                .buffer(dLogits), .buffer(logits), .buffer(targets), .buffer(rowScale),
                .int(Int32(rows)), .int(Int32(vocab)),
            ])
    }
}
