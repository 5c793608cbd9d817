import Foundation
import HSA
@testable import HSACUDA
import HSATestSupport
import Testing

// The faster paths: GPU-sorted embedding backward, tiled attention, GEMM precision choice.
// Host-side rules run everywhere; the kernel checks skip (visibly) without CUDA.

@Suite struct SpeedPathRuleTests {
    @Test func matmulPrecisionNamesRoundTrip() {
        #expect(MatmulPrecision(rawValue: "bf16") == .bf16)
        #expect(MatmulPrecision(rawValue: "fp32") == .fp32)
        #expect(MatmulPrecision(rawValue: "tf32") == .tf32)
        #expect(MatmulPrecision(rawValue: "fp16") == nil)
    }

    @Test func attentionPrecisionNamesRoundTrip() {
        #expect(AttentionPrecision(rawValue: "bf16") == .bf16)
        #expect(AttentionPrecision(rawValue: "fp32") == .fp32)
        #expect(AttentionPrecision(rawValue: "fp16") == nil)
    }

    /// Modules are concatenated from literals (prelude + tensor-core helpers + body): a
    /// directive glued to the previous line (`}#define`) no longer compiles.
    @Test func preprocessorDirectivesStartTheirLines() {
        for source in KernelSource.all + KernelSource.tensorCore {
            for line in source.text.split(separator: "\n") where line.contains("#define") {
                #expect(
                    line.drop { $0 == " " }.hasPrefix("#define"), "\(source.name): \(line)")
            }
        }
    }

    /// The backward workspace holds the tensor-core layout's worst case: every (token, slot)
    /// pair in pieces of 128 plus one partial piece per chunk, two (S, HS) partial sums each,
    /// the four bf16 chunk copies and the bf16 q and dOut.
    @Test func sparseBackwardWorkspaceHoldsTheTensorCoreWorstCase() {
        let (b, t, nh, nkv, hs, s, k) = (8, 4096, 16, 1, 64, 64, 8)
        let nc = t / s
        let pairs = b * t * nkv * k
        let pieces = (pairs + 127) / 128 + b * nkv * nc
        let partials = 2 * pieces * s * hs * 4
        let packed = 4 * b * nc * s * nkv * hs * 2 + 2 * b * t * nh * hs * 2
        let bytes = CUDABackend.sparseAttentionBackwardWorkspaceBytes(
            SparseAttentionShape(
                batch: b, sequenceLength: t, heads: nh, kvHeads: nkv, headDim: hs,
                retrievalDim: hs, chunkSize: s, chunkCount: nc, topK: k, fusion: .stickBreaking,
                granularity: .perToken))
        #expect(bytes >= partials + packed + b * nkv * nc * t + 2 * pairs * 4)
    }

    /// The tensor-core dK/dV kernel slices the heads only where few blocks would run (small
    /// B T NKV), never into empty slices, and the scratch holds both partial stacks.
    @Test func attentionKeyGradientsSplitHeadsOnlyWhenBlocksAreFew() {
        let deltas = 4096 * 16 * 4
        let paper = CUDABackend.attentionBackwardLayout(
            batch: 1, sequenceLength: 4096, heads: 16, kvHeads: 4, headDim: 64)
        #expect(paper.splits == 1 && paper.total == deltas)  // 256 blocks already
        let oneKVHead = CUDABackend.attentionBackwardLayout(
            batch: 1, sequenceLength: 4096, heads: 16, kvHeads: 1, headDim: 64)
        #expect(oneKVHead.splits == 4 && oneKVHead.perSplit == 4)  // 64 blocks -> 256
        #expect(oneKVHead.total == deltas + 2 * 4 * 4096 * 64 * 4)
        for heads in 1...12 {
            let layout = CUDABackend.attentionBackwardLayout(
                batch: 1, sequenceLength: 640, heads: heads, kvHeads: 1, headDim: 16)
            #expect((layout.splits - 1) * layout.perSplit < heads, "heads \(heads)")
            #expect(layout.splits * layout.perSplit >= heads, "heads \(heads)")
        }
    }

    @Test func embeddingSortWorkspaceIsAPowerOfTwoOfAtLeastOneTile() {
        #expect(CUDABackend.embeddingBackwardWorkspaceBytes(rows: 1) == 2048 * 8)
        #expect(CUDABackend.embeddingBackwardWorkspaceBytes(rows: 2048) == 2048 * 8)
        #expect(CUDABackend.embeddingBackwardWorkspaceBytes(rows: 2049) == 4096 * 8)
        #expect(CUDABackend.embeddingBackwardWorkspaceBytes(rows: 32768) == 32768 * 8)
    }
}

@Suite(.enabled(if: CUDA.isAvailable, "needs a CUDA driver and GPU"), .serialized)
struct SpeedPathKernelTests {
    let gpu: CUDABackend
    var rng = SplitMix64(seed: 7)

    init() throws {
        gpu = try CUDABackend(device: try CUDADevice())
    }

    mutating func random(_ count: Int) -> [Float] {
        (0..<count).map { _ in Float(rng.nextNormal()) }
    }

    @Test mutating func embeddingBackwardOnTheGPUIsBitwiseTheCPU() throws {
        let rows = 4099  // three sort stages past one tile
        let channels = 33
        let vocab = 97
        let tokens = (0..<rows).map { _ in Int32(rng.next() % 40) }
        let dOut = random(rows * channels)
        let table0 = random(vocab * channels)
        var expected = table0
        CPU.embeddingBackward(
            dTable: &expected, dOut: dOut, tokens: tokens, rows: rows, channels: channels)
        let gTable = try DeviceBuffer(device: gpu.device, floats: table0)
        try gpu.embeddingBackward(
            dTable: gTable, dOut: try DeviceBuffer(device: gpu.device, floats: dOut),
            tokens: try DeviceBuffer(device: gpu.device, int32s: tokens), rows: rows,
            channels: channels)
        #expect(try gTable.downloadFloats() == expected)
    }

    @Test mutating func tiledAttentionBackwardMatchesCPU() throws {
        let (b, t, h, kv, hs) = (1, 97, 4, 2, 32)
        let q = random(b * t * h * hs)
        let k = random(b * t * kv * hs)
        let v = random(b * t * kv * hs)
        let dy = random(q.count)
        var out = [Float](repeating: 0, count: q.count)
        var lse = [Float](repeating: 0, count: b * t * h)
        var dq = [Float](repeating: 0, count: q.count)
        var dk = [Float](repeating: 0, count: k.count)
        var dv = [Float](repeating: 0, count: v.count)
        let shape = AttentionShape(
            batch: b, sequenceLength: t, heads: h, kvHeads: kv, headDim: hs,
            mask: .causal(window: 40))
        CPU.attentionForward(out: &out, logSumExp: &lse, q: q, k: k, v: v, shape: shape)
        CPU.attentionBackward(
            dQ: &dq, dK: &dk, dV: &dv, dOut: dy, out: out, logSumExp: lse, q: q, k: k, v: v,
            shape: shape)
        func upload(_ values: [Float]) throws -> DeviceBuffer {
            try DeviceBuffer(device: gpu.device, floats: values)
        }
        let (gq, gk, gv) = (try upload(q), try upload(k), try upload(v))
        let gOut = try upload(out.map { _ in .nan })
        let gLse = try upload(lse.map { _ in .nan })
        let (gdq, gdk, gdv) = (try upload(dq), try upload(dk), try upload(dv))
        try gpu.attentionForward(
            out: gOut, logSumExp: gLse, q: gq, k: gk, v: gv, shape: shape)
        try gpu.attentionBackward(
            dQ: gdq, dK: gdk, dV: gdv, dOut: try upload(dy), out: gOut, logSumExp: gLse,
            q: gq, k: gk, v: gv, shape: shape)
        for (buffer, expected) in [(gOut, out), (gLse, lse), (gdq, dq), (gdk, dk), (gdv, dv)] {
            #expect(compare(try buffer.downloadFloats(), expected, atol: 1e-4, rtol: 1e-3).passed)
        }
    }
}
