import Foundation
import HSACore

// RoPE, SwiGLU, AdamW and embedding launchers.

// MARK: - RoPE

extension CUDABackend {
    /// A frequency table as the device reads it: each double as two 32-bit words, low first
    /// (for buffers and staging that move 4-byte elements).
    public static func ropeTableWords(_ frequencies: [Double]) -> [Int32] {
        frequencies.flatMap { frequency in
            let bits = frequency.bitPattern
            return [Int32(truncatingIfNeeded: bits), Int32(truncatingIfNeeded: bits >> 32)]
        }
    }

    /// Where a RoPE launch takes its frequencies from.
    public enum RopeFrequencies {
        /// theta^(-2i/HS), computed by the kernel (v2).
        case base(Float)
        /// (HS/2) doubles in device memory, cos and sin scaled by `scale`.
        case table(DeviceBuffer, scale: Double)
    }

    /// RoPE in place (same contract as `CPU.rope`): rotates `x` (N, H, HS) by `direction`
    /// times each angle, forward or backward (the transpose: `x` holding the output's gradient
    /// is OVERWRITTEN with the input's).
    /// - Parameters:
    ///   - x: (N, H, HS) rotated in place.
    ///   - positions: (N) Int32 positions.
    ///   - rows: N.
    ///   - heads: H.
    ///   - headDim: HS (even).
    ///   - frequencies: the RoPE base, or a table of YaRN's (`ropeTableWords`) and its scale.
    ///   - direction: forward or backward.
    public func rope(
        _ x: DeviceBuffer, positions: DeviceBuffer, rows: Int, heads: Int, headDim: Int,
        frequencies: RopeFrequencies, direction: RopeDirection
    ) throws {
        guard headDim % 2 == 0 else {
            throw CUDAError.invalidArgument("RoPE needs an even head size, got \(headDim)")
        }
        try require(x, rows * heads * headDim, "x")
        try require(positions, rows, "positions")
        let pairs = rows * headDim / 2  // one thread per (row, i) for every head
        let shape: [KernelArgument] = [.int(Int32(rows)), .int(Int32(heads)), .int(Int32(headDim))]
        switch frequencies {
        case .base(let theta):
            try launch(
                "hsa_rope_apply_v2", in: .elementwise, grid: (gridStrideBlocks(pairs), 1),
                block: 256,
                [.buffer(x), .buffer(positions)] + shape + [.float(theta), .float(direction.sign)])
        case .table(let table, let scale):
            // doubles are two floats wide
            try require(table, headDim, "frequencies (HS/2 doubles)")
            try launch(
                "hsa_rope_table_v1", in: .elementwise, grid: (gridStrideBlocks(pairs), 1),
                block: 256,
                [.buffer(x), .buffer(positions), .buffer(table)] + shape
                    + [.double(scale), .float(direction.sign)])
        }
    }
}

// MARK: - SwiGLU

extension CUDABackend {
    /// SwiGLU forward: `out = silu(gate) * up` (same contract as `CPU.swigluForward`).
    /// - Parameters:
    ///   - out: (n) overwritten.
    ///   - gate: (n).
    ///   - up: (n).
    ///   - count: n.
    public func swigluForward(
        out: DeviceBuffer, gate: DeviceBuffer, up: DeviceBuffer, count: Int
    ) throws {
        for (buffer, name) in [(out, "out"), (gate, "gate"), (up, "up")] {
            try require(buffer, count, name)
        }
        try launch(
            "hsa_swiglu_forward_v1", in: .elementwise, grid: (gridStrideBlocks(count), 1),
            block: 256, [.buffer(out), .buffer(gate), .buffer(up), .int64(Int64(count))])
    }

    /// SwiGLU backward; `dGate` and `dUp` are OVERWRITTEN (same contract as
    /// `CPU.swigluBackward`).
    /// - Parameters:
    ///   - dGate: (n) overwritten.
    ///   - dUp: (n) overwritten.
    ///   - dOut: (n).
    ///   - gate: (n).
    ///   - up: (n).
    ///   - count: n.
    public func swigluBackward(
        dGate: DeviceBuffer, dUp: DeviceBuffer, dOut: DeviceBuffer, gate: DeviceBuffer,
        up: DeviceBuffer, count: Int
    ) throws {
        for (buffer, name) in [
            (dGate, "dGate"), (dUp, "dUp"), (dOut, "dOut"), (gate, "gate"),
            (up, "up"),
        ] {
            try require(buffer, count, name)
        }
        try launch(
            "hsa_swiglu_backward_v1", in: .elementwise, grid: (gridStrideBlocks(count), 1),
            block: 256,
            [
                .buffer(dGate), .buffer(dUp), .buffer(dOut), .buffer(gate), .buffer(up),
                .int64(Int64(count)),
            ])
    }
}

// MARK: - AdamW

extension CUDABackend {
    /// One AdamW step in place (same contract as `CPU.adamWUpdate`).
    /// - Parameters:
    ///   - parameters: (n) updated in place.
    ///   - gradients: (n).
    ///   - m: (n) first moment, updated in place.
    ///   - v: (n) second moment, updated in place.
    ///   - count: n.
    ///   - learningRate: lr.
    ///   - beta1: b1.
    ///   - beta2: b2.
    ///   - epsilon: eps.
    ///   - weightDecay: wd.
    ///   - step: 1-based step.
    public func adamWUpdate(
        parameters: DeviceBuffer, gradients: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer,
        count: Int, learningRate: Float, beta1: Float, beta2: Float, epsilon: Float,
        weightDecay: Float, step: Int
    ) throws {
        guard step >= 1 else {
            throw CUDAError.invalidArgument("adamW step is 1-based, got \(step)")
        }
        for (buffer, name) in [
            (parameters, "parameters"), (gradients, "gradients"), (m, "m"),
            (v, "v"),
        ] {
            try require(buffer, count, name)
        }
        // Bias corrections in Double, exactly as the CPU computes them.
        let correction1 = Float(1 - pow(Double(beta1), Double(step)))
        let correction2 = Float(1 - pow(Double(beta2), Double(step)))
        try launch(
            "hsa_adamw_update_v1", in: .elementwise, grid: (gridStrideBlocks(count), 1),
            block: 256,
            [
                .buffer(parameters), .buffer(gradients), .buffer(m), .buffer(v),
                .int64(Int64(count)), .float(learningRate), .float(beta1), .float(beta2),
                .float(epsilon), .float(1 - learningRate * weightDecay), .float(correction1),
                .float(correction2),
            ])
    }
}

// MARK: - Embedding

extension CUDABackend {
    /// Gathers rows: `out[n] = table[tokens[n]]` (same contract as `CPU.embeddingForward`).
    /// - Parameters:
    ///   - out: (N, C) overwritten.
    ///   - tokens: (N) Int32 ids.
    ///   - table: (V, C).
    ///   - rows: N.
    ///   - channels: C.
    public func embeddingForward(
        out: DeviceBuffer, tokens: DeviceBuffer, table: DeviceBuffer, rows: Int, channels: Int
    ) throws {
        try require(out, rows * channels, "out")
        try require(tokens, rows, "tokens")
        try launch(
            "hsa_embedding_forward_v1", in: .elementwise, grid: (rows, 1), block: 256,
            [
                .buffer(out), .buffer(tokens), .buffer(table), .int(Int32(rows)),
                .int(Int32(channels)),
            ])
    }

    /// Scatters gradients: `dTable[tokens[n]] += dOut[n]` (accumulates; same contract as
    /// `CPU.embeddingBackward`, bit-identical results).
    ///
    /// Deterministic without atomics or host round trips: keys (token << 32 | row) are
    /// bitonic-sorted on the GPU in a scratch block, which groups rows by token in ascending
    /// row order; then the block at each group's first key adds the group's rows in that order,
    /// exactly like the CPU loop. Tokens outside `0..<V` are skipped (not reported).
    /// - Parameters:
    ///   - dTable: (V, C) accumulated into.
    ///   - dOut: (N, C).
    ///   - tokens: (N) Int32 ids in `0..<V`.
    ///   - rows: N.
    ///   - channels: C.
    ///   - workspace: at least `embeddingBackwardWorkspaceBytes(rows:)` bytes, or nil for the
    ///     backend's scratch buffer.
    public func embeddingBackward(
        dTable: DeviceBuffer, dOut: DeviceBuffer, tokens: DeviceBuffer, rows: Int, channels: Int,
        workspace: DeviceBuffer? = nil
    ) throws {
        if rows == 0 || channels == 0 { return }
        try require(dOut, rows * channels, "dOut")
        try require(tokens, rows, "tokens")
        guard rows <= Int(Int32.max) / 2 else {
            throw CUDAError.invalidArgument("embeddingBackward: \(rows) rows exceed 2^30")
        }
        let keyCount = Self.embeddingSortKeyCount(rows: rows)
        let keys = try workspace ?? scratch(floats: keyCount * 2)
        try require(keys, keyCount * 2, "workspace")
        // Borrowed managed views report a huge size: clamp so the kernel argument fits.
        let vocab = min(dTable.count32 / channels, Int(Int32.max))
        try launch(
            "hsa_embedding_keys_v2", in: .elementwise, grid: (gridStrideBlocks(keyCount), 1),
            block: 256, [.buffer(keys), .buffer(tokens), .int(Int32(rows)), .int(Int32(keyCount))])
        // Stages k <= 2048 in shared memory; each larger stage: global steps j >= 2048, then the
        // shared tail j < 2048.
        let tiles = keyCount / 2048
        try launch(
            "hsa_bitonic_shared_v2", in: .elementwise, grid: (tiles, 1), block: 1024,
            [.buffer(keys), .int(2), .int(2048)])
        var k = 4096
        while k <= keyCount {
            var j = k / 2
            while j >= 2048 {
                try launch(
                    "hsa_bitonic_global_v2", in: .elementwise,
                    grid: (gridStrideBlocks(keyCount / 2), 1), block: 256,
                    [.buffer(keys), .int(Int32(keyCount)), .int(Int32(j)), .int(Int32(k))])
                j /= 2
            }
            try launch(
                "hsa_bitonic_shared_v2", in: .elementwise, grid: (tiles, 1), block: 1024,
                [.buffer(keys), .int(Int32(k)), .int(Int32(k))])
            k *= 2
        }
        try launch(
            "hsa_embedding_backward_v2", in: .elementwise,
            grid: (rows, (channels + 255) / 256), block: 256,
            [
                .buffer(dTable), .buffer(dOut), .buffer(keys), .int(Int32(rows)),
                .int(Int32(vocab)), .int(Int32(channels)),
            ])
    }

    /// Sort keys for `rows` tokens: the next power of two, at least one 2048-key tile.
    static func embeddingSortKeyCount(rows: Int) -> Int {
        var count = 2048
        while count < rows { count *= 2 }
        return count
    }

    /// Workspace bytes `embeddingBackward` needs for `rows` tokens.
    public static func embeddingBackwardWorkspaceBytes(rows: Int) -> Int {
        embeddingSortKeyCount(rows: rows) * 8
    }

    /// Embedding backward v1 (kept for comparison benchmarks): same contract and results as
    /// `embeddingBackward`, but sorts the tokens on the host, which synchronizes.
    ///
    /// Deterministic without atomics: the token ids are copied to the host (N Int32s, a
    /// synchronizing copy) and grouped by a stable counting sort; then one block per distinct
    /// token (and channel tile) adds its rows in ascending row order.
    /// - Parameters:
    ///   - dTable: (V, C) accumulated into.
    ///   - dOut: (N, C).
    ///   - tokens: (N) Int32 ids in `0..<V`.
    ///   - rows: N.
    ///   - channels: C.
    public func embeddingBackwardHostSorted(
        dTable: DeviceBuffer, dOut: DeviceBuffer, tokens: DeviceBuffer, rows: Int, channels: Int
    ) throws {
        if rows == 0 || channels == 0 { return }
        try require(dOut, rows * channels, "dOut")
        try synchronize()
        let ids = try tokens.downloadInt32s(count: rows)
        let vocab = dTable.count32 / channels
        var counts: [Int32: Int32] = [:]
        for (n, id) in ids.enumerated() {
            guard id >= 0, Int(id) < vocab else {
                throw CUDAError.invalidArgument(
                    "embeddingBackward: token \(id) at row \(n) "
                        + "outside 0..<\(vocab)")
            }
            counts[id, default: 0] += 1
        }
        let unique = counts.keys.sorted()
        var offsets: [Int32] = [0]
        var start: [Int32: Int] = [:]
        for id in unique {
            start[id] = Int(offsets[offsets.count - 1])
            offsets.append(offsets[offsets.count - 1] + (counts[id] ?? 0))
        }
        var order = [Int32](repeating: 0, count: rows)
        for (n, id) in ids.enumerated() {
            let slot = start[id] ?? 0
            order[slot] = Int32(n)
            start[id] = slot + 1
        }
        let uniqueBuffer = try DeviceBuffer(device: device, int32s: unique)
        let offsetBuffer = try DeviceBuffer(device: device, int32s: offsets)
        let orderBuffer = try DeviceBuffer(device: device, int32s: order)
        try launch(
            "hsa_embedding_backward_v1", in: .elementwise,
            grid: (unique.count, (channels + 255) / 256), block: 256,
            [
                .buffer(dTable), .buffer(dOut), .buffer(uniqueBuffer), .buffer(offsetBuffer),
                .buffer(orderBuffer), .int(Int32(channels)),
            ])
        // The temporary index buffers are freed on return: wait for the kernel first.
        try synchronize()
    }
}
