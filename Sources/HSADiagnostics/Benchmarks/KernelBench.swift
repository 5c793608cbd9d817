import Foundation
import HSACUDA
import HSACore
import HSAReport

// MARK: - Kernel timings

/// Times each kernel at a realistic size with CUDA events (median of 10 after 2 warm-ups) and
/// prints achieved bandwidth against the fewest bytes the op must move.
struct KernelBench {
    let gpu: CUDABackend
    let device: CUDADevice
    /// H100 SXM HBM3 peak, bytes per second (datasheet).
    static let peakBandwidth = 3.35e12

    func run() throws {
        let rows = 8 * 4096
        let channels = 1024
        let size = rows * channels
        Terminal.printLine("\ntimings on \(device.name): rows \(rows), C \(channels), median of 10")
        Terminal.printLine(
            "kernel".padding(toLength: 54, withPad: " ", startingAt: 0)
                + "      ms      GB/s   %peak   GFLOP/s")
        var rng = SplitMix64(seed: 7)
        func buffer(_ count: Int, scale: Float = 1) throws -> DeviceBuffer {
            // Random data, never zeros (zeros can hide bugs and run faster).
            let values = (0..<count).map { _ in Float(rng.nextNormal()) * scale }
            return try DeviceBuffer(device: device, floats: values)
        }
        let x = try buffer(size)
        let y = try buffer(size)
        let z = try buffer(size)
        let w = try buffer(channels)
        let rstd = try buffer(rows)
        let copyTarget = try DeviceBuffer(device: device, byteCount: size * 4)
        let f = 4.0  // bytes per float
        try time("device-to-device copy (ceiling)", bytes: 2 * f * Double(size)) {
            try copyTarget.copy(from: x)
        }
        try time("rmsnorm forward", bytes: 2 * f * Double(size)) {
            try gpu.rmsNormForward(
                out: y, rstd: rstd, input: x, weight: w, rows: rows,
                channels: channels)
        }
        let dw = try buffer(channels)
        try time("rmsnorm backward (dInput + dWeight)", bytes: 4 * f * Double(size)) {
            try gpu.rmsNormBackward(
                dInput: z, dWeight: dw, dOut: y, input: x, weight: w,
                rstd: rstd, rows: rows, channels: channels)
        }
        let positions = try DeviceBuffer(
            device: device, int32s: (0..<rows).map { Int32($0 % 4096) })
        try time("rope forward (H 16, HS 64)", bytes: 2 * f * Double(size)) {
            try gpu.rope(
                y, positions: positions, rows: rows, heads: 16, headDim: 64,
                frequencies: .base(10_000), direction: .forward)
        }
        try time("swiglu forward", bytes: 3 * f * Double(size)) {
            try gpu.swigluForward(out: z, gate: x, up: y, count: size)
        }
        let dUp = try buffer(size)
        try time("swiglu backward", bytes: 5 * f * Double(size)) {
            try gpu.swigluBackward(
                dGate: z, dUp: dUp, dOut: copyTarget, gate: x, up: y,
                count: size)
        }
        let vocab = 32_768
        let tokens = try DeviceBuffer(
            device: device, int32s: (0..<rows).map { _ in Int32(rng.next() % UInt64(vocab)) })
        let table = try buffer(vocab * channels)
        try time("embedding forward", bytes: 2 * f * Double(size)) {
            try gpu.embeddingForward(
                out: y, tokens: tokens, table: table, rows: rows,
                channels: channels)
        }
        try time("embedding backward v1 (host sort)", bytes: 3 * f * Double(size)) {
            try gpu.embeddingBackwardHostSorted(
                dTable: table, dOut: y, tokens: tokens, rows: rows,
                channels: channels)
        }
        try time("embedding backward v2 (GPU sort)", bytes: 3 * f * Double(size)) {
            try gpu.embeddingBackward(
                dTable: table, dOut: y, tokens: tokens, rows: rows,
                channels: channels)
        }
        let ceRows = 4096
        let logits = try buffer(ceRows * vocab, scale: 3)
        let dLogits = try DeviceBuffer(device: device, byteCount: ceRows * vocab * 4)
        let targets = try DeviceBuffer(
            device: device, int32s: (0..<ceRows).map { _ in Int32(rng.next() % UInt64(vocab)) })
        let scales = try DeviceBuffer(
            device: device, floats: [Float](repeating: 1 / Float(ceRows), count: ceRows))
        let ceBytes = f * Double(ceRows * vocab)
        try time("crossentropy forward (N 4096, V 32768)", bytes: ceBytes) {
            try gpu.crossEntropyForward(
                losses: rstd, logits: logits, targets: targets,
                rows: ceRows, vocab: vocab)
        }
        try time("crossentropy backward (N 4096, V 32768)", bytes: 2 * ceBytes) {
            try gpu.crossEntropyBackward(
                dLogits: dLogits, logits: logits, targets: targets,
                rowScale: scales, rows: ceRows, vocab: vocab)
        }
        let m = try buffer(size, scale: 0.01)
        let v = try buffer(size, scale: 0.01)
        try time("adamw (n = 32M)", bytes: 7 * f * Double(size)) {
            try gpu.adamWUpdate(
                parameters: z, gradients: x, m: m, v: v, count: size,
                learningRate: 1e-4, beta1: 0.9, beta2: 0.95, epsilon: 1e-8,
                weightDecay: 0.1, step: 10)
        }
        let weight = try buffer(channels * channels, scale: 0.03)
        let dWeight = try buffer(channels * channels)
        let gemmFlops = 2 * Double(rows) * Double(channels) * Double(channels)
        for precision in [MatmulPrecision.fp32, .bf16, .tf32] {
            gpu.matmulPrecision = precision
            defer { gpu.matmulPrecision = .fp32 }
            // The fp32 rows name the shape; the others refer back to it.
            let isFirst = precision == .fp32
            let forward = isFirst ? "(N 32768, 1024x1024)" : "(same)"
            let backward = isFirst ? "(dInput, dWeight, dBias)" : "(same)"
            try time("matmul forward \(precision.rawValue) \(forward)", flops: gemmFlops) {
                try gpu.matmulForward(
                    out: y, input: x, weight: weight, bias: w, rows: rows,
                    inputChannels: channels, outputChannels: channels)
            }
            try time("matmul backward \(precision.rawValue) \(backward)", flops: 2 * gemmFlops) {
                try gpu.matmulBackward(
                    dInput: z, dWeight: dWeight, dBias: dw, dOut: y, input: x,
                    weight: weight, rows: rows, inputChannels: channels,
                    outputChannels: channels)
            }
        }
        // Attention: T 4096, NH 16, NKV 4, HS 64, window 512 (q rows = 65536 = size / 16 * ...).
        let t = 4096
        let nh = 16
        let nkv = 4
        let hs = 64
        let window = 512
        let q = try buffer(t * nh * hs)
        let k = try buffer(t * nkv * hs)
        let vv = try buffer(t * nkv * hs)
        let out = try buffer(t * nh * hs)
        let lse = try buffer(t * nh)
        let dOut = try buffer(t * nh * hs)
        let dq = try buffer(t * nh * hs)
        let dk = try buffer(t * nkv * hs)
        let dv = try buffer(t * nkv * hs)
        let shape = AttentionShape(
            batch: 1, sequenceLength: t, heads: nh, kvHeads: nkv, headDim: hs,
            mask: .causal(window: window))
        let scratch = try DeviceBuffer(
            device: device, byteCount: CUDABackend.attentionBackwardWorkspaceBytes(shape))
        let attentionFlops = 4 * Double(t) * Double(window) * Double(nh) * Double(hs)
        for tiled in [false, true] {
            gpu.attentionTiled = tiled
            defer { gpu.attentionTiled = true }
            let version = tiled ? "v2" : "v1"
            try time(
                "attention \(version) forward (T 4096, NH 16/4, HS 64, W 512)",
                flops: attentionFlops
            ) {
                try gpu.attentionForward(
                    out: out, logSumExp: lse, q: q, k: k, v: vv, shape: shape)
            }
            try time("attention \(version) backward (same shape)", flops: 2.5 * attentionFlops) {
                try gpu.attentionBackward(
                    dQ: dq, dK: dk, dV: dv, dOut: dOut, out: out,
                    logSumExp: lse, q: q, k: k, v: vv, shape: shape, workspace: scratch)
            }
        }
    }

    /// Median milliseconds of 10 timed runs after 2 warm-ups, printed with bandwidth/FLOP rate.
    func time(
        _ name: String, bytes: Double? = nil, flops: Double? = nil, _ body: () throws -> Void
    ) throws {
        for _ in 0..<2 { try body() }
        try gpu.synchronize()
        let start = try CUDAEvent(device: device)
        let stop = try CUDAEvent(device: device)
        var samples: [Double] = []
        for _ in 0..<10 {
            try start.record(on: gpu.stream)
            try body()
            try stop.record(on: gpu.stream)
            samples.append(try stop.milliseconds(since: start))
        }
        samples.sort()
        let ms = samples[samples.count / 2]
        var line =
            name.padding(toLength: 54, withPad: " ", startingAt: 0)
            + String(format: " %7.3f", ms)
        if let bytes {
            let rate = bytes / (ms * 1e-3)
            line += String(format: "  %8.0f  %5.1f%%", rate / 1e9, 100 * rate / Self.peakBandwidth)
        } else {
            line += "         -       -"
        }
        if let flops { line += String(format: "  %8.0f", flops / (ms * 1e-3) / 1e9) }
        Terminal.printLine(line)
    }
}

extension KernelBench {
    /// HSA ops at NH 16, NKV 1, HS 64, DR 64, S 64, K 8 (stick-breaking, per-token) for
    /// B 8 x T 4096 and B 1 x T 32768 (same tokens: the cost per token should not grow with
    /// T): selection, forward, backward in fp32 and bf16; GFLOP/s counts the chunk attention
    /// only (forward 4 B T NH K S HS, backward 2.5 times that).
    func sparse() throws {
        try sparse(batch: 8, length: 4096)
        try sparse(batch: 1, length: 32768)
    }

    private func sparse(batch b: Int, length t: Int) throws {
        let (nh, nkv, hs, dr, s, k) = (16, 1, 64, 64, 64, 8)
        let nc = t / s
        let rows = b * t
        let shape = SparseAttentionShape(
            batch: b, sequenceLength: t, heads: nh, kvHeads: nkv, headDim: hs, retrievalDim: dr,
            chunkSize: s, chunkCount: nc, topK: k, fusion: .stickBreaking,
            granularity: .perToken)
        Terminal.printLine(
            "\nHSA ops: B \(b), T \(t), NH \(nh), NKV \(nkv), HS \(hs), S \(s), K \(k)")
        var rng = SplitMix64(seed: 11)
        let pattern = (0..<(1 << 20)).map { _ in Float(rng.nextNormal()) }
        func buffer(_ count: Int) throws -> DeviceBuffer {
            // A repeated random pattern: realistic values without 10^8 host draws.
            var values = [Float](repeating: 0, count: count)
            for i in 0..<count { values[i] = pattern[i & ((1 << 20) - 1)] }
            return try DeviceBuffer(device: device, floats: values)
        }
        let qs = try buffer(rows * nkv * dr)
        let lmk = try buffer(b * nc * nkv * dr)
        let indices = try DeviceBuffer(device: device, byteCount: rows * nkv * k * 4)
        let scores = try DeviceBuffer(device: device, byteCount: rows * nkv * k * 4)
        try time("chunk select (DR 64)") {
            try gpu.chunkSelectForward(
                indices: indices, scores: scores, retrievalQuery: qs, landmarks: lmk,
                shape: shape)
        }
        let dScores = try buffer(rows * nkv * k)
        let dqs = try buffer(rows * nkv * dr)
        let dlmk = try buffer(b * nc * nkv * dr)
        let scoreWorkspace = try DeviceBuffer(
            device: device, byteCount: CUDABackend.chunkScoresBackwardWorkspaceBytes(shape))
        try time("chunk scores backward") {
            try gpu.chunkScoresBackward(
                dRetrievalQuery: dqs, dLandmarks: dlmk, dScores: dScores, retrievalQuery: qs,
                landmarks: lmk, indices: indices, workspace: scoreWorkspace, shape: shape)
        }
        let flops = 4 * Double(rows) * Double(nh * k * s * hs)
        let savedPrecision = gpu.attentionPrecision
        defer { gpu.attentionPrecision = savedPrecision }
        for precision in AttentionPrecision.allCases {
            gpu.attentionPrecision = precision
            try sparseAttention(
                shape: shape, flops: flops, buffer: buffer, indices: indices, scores: scores,
                label: precision.rawValue)
        }
    }

    /// Sparse attention forward and backward at the bench shape, one precision.
    private func sparseAttention(
        shape: SparseAttentionShape, flops: Double, buffer: (Int) throws -> DeviceBuffer,
        indices: DeviceBuffer, scores: DeviceBuffer, label: String
    ) throws {
        let (b, nh, nkv, hs) = (shape.batch, shape.heads, shape.kvHeads, shape.headDim)
        let (s, nc, k) = (shape.chunkSize, shape.chunkCount, shape.topK)
        let rows = b * shape.sequenceLength
        let q = try buffer(rows * nh * hs)
        let keys = try buffer(b * nc * s * nkv * hs)
        let values = try buffer(b * nc * s * nkv * hs)
        let out = try DeviceBuffer(device: device, byteCount: rows * nh * hs * 4)
        let weights = try DeviceBuffer(device: device, byteCount: rows * nkv * k * 4)
        let outputs = try DeviceBuffer(device: device, byteCount: rows * nh * k * hs * 4)
        let lse = try DeviceBuffer(device: device, byteCount: rows * nh * k * 4)
        try time("sparse attention forward (\(label))", flops: flops) {
            try gpu.sparseAttentionForward(
                out: out, fusionWeights: weights, chunkOutputs: outputs, chunkLogSumExp: lse,
                q: q, keys: keys, values: values, indices: indices, scores: scores,
                shape: shape)
        }
        let dy = try buffer(rows * nh * hs)
        let dq = try DeviceBuffer(device: device, byteCount: rows * nh * hs * 4)
        let dKeys = try buffer(b * nc * s * nkv * hs)
        let dValues = try buffer(b * nc * s * nkv * hs)
        let dScoresOut = try DeviceBuffer(device: device, byteCount: rows * nkv * k * 4)
        let workspace = try DeviceBuffer(
            device: device, byteCount: CUDABackend.sparseAttentionBackwardWorkspaceBytes(shape))
        try time("sparse attention backward (\(label))", flops: 2.5 * flops) {
            try gpu.sparseAttentionBackward(
                dQ: dq, dKeys: dKeys, dValues: dValues, dScores: dScoresOut, dOut: dy, out: out,
                fusionWeights: weights, chunkOutputs: outputs, chunkLogSumExp: lse, q: q,
                keys: keys, values: values, indices: indices, scores: scores,
                workspace: workspace, shape: shape)
        }
    }
}
