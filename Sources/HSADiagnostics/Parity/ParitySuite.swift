import Foundation
import HSACUDA
import HSACore
import HSAReport

// The GPU-vs-CPU parity suite behind `hsa selftest --backend cuda`: every CUDA kernel against
// its HSACPU twin on seeded random inputs with ugly shapes (the cases are in the
// ParitySuite+*.swift extensions), collected as rows and printed as one table.

/// GPU-vs-CPU comparisons; each case draws fresh seeded inputs.
struct ParitySuite {
    let gpu: CUDABackend
    var rng: SplitMix64
    var rows: [ParityRow] = []
    let host = HostArena()

    init(gpu: CUDABackend, seed: UInt64) {
        self.gpu = gpu
        rng = SplitMix64(seed: seed)
    }

    // Tolerances: elementwise fp32 ops, and reductions (sums over C, rows or keys).
    static let elementwise = ParityTolerance.elementwise(atol: 1e-5, rtol: 1e-4)
    static let reduction = ParityTolerance.elementwise(atol: 1e-4, rtol: 1e-3)
    static let bitwise = ParityTolerance.elementwise(atol: 0, rtol: 0)
    /// bf16 GEMM inputs (8-bit mantissa, fp32 accumulation) on unit normals with K <= 300:
    /// rounding errors grow like sqrt(K) * 2^-8 of the products' size.
    static let bf16Matmul = ParityTolerance.elementwise(atol: 2.5e-1, rtol: 2e-2)
    /// Attention on bf16 tensor cores: Q, K, V, dOut and probabilities rounded to bf16 (8-bit
    /// mantissa) spread ~3e-3 relative error over every element; single elements near zero
    /// say little, so the whole tensor's relative L2 error is compared.
    static let bf16Attention = ParityTolerance.relativeL2(1e-2)

    /// Prints the rows from index `first` on, one line each, as progress: a crash later still
    /// leaves them in the log.
    func printRows(from first: Int) {
        for row in rows[first...] {
            Terminal.printLine(
                "  \(row.op): max_abs \(row.maxAbsolute) rel \(row.maxRelative) "
                    + (row.passed ? "ok" : "FAILED"))
        }
    }

    mutating func runAll() throws {
        try rmsNorm(rows: 37, channels: 203)
        try rmsNorm(rows: 1, channels: 1024)
        try rmsNorm(rows: 37, channels: 256)  // v2: warp per row, a partial last block
        try rope(rows: 13, heads: 3, headDim: 18)
        try rope(rows: 13, heads: 3, headDim: 16, yarnFactor: 256)
        try swiglu(count: 1001)
        try embedding(vocab: 50, channels: 67, rows: 133)
        // More than one 2048-key sort tile: exercises the global bitonic steps.
        try embedding(vocab: 300, channels: 40, rows: 5000)
        try crossEntropy(rows: 17, vocab: 1003)
        try adamW(count: 999)
        try matmul(rows: 37, inputChannels: 45, outputChannels: 29, bias: true)
        try matmul(rows: 5, inputChannels: 64, outputChannels: 3, bias: false)
        try matmul(
            rows: 37, inputChannels: 45, outputChannels: 29, bias: true, precision: .bf16)
        try matmul(
            rows: 300, inputChannels: 64, outputChannels: 96, bias: false, precision: .bf16)
        for mask in [AttentionMask.causal(window: 7), .causal(window: 1000), .bidirectional] {
            try attention(batch: 2, length: 37, heads: 4, kvHeads: 2, headDim: 24, mask: mask)
        }
        try attention(
            batch: 1, length: 70, heads: 2, kvHeads: 1, headDim: 64,
            mask: .causal(window: 33))
        // v2 tiles: several query and key tiles, a window that is not a tile multiple, GQA 4:1.
        try attention(
            batch: 2, length: 300, heads: 4, kvHeads: 1, headDim: 32,
            mask: .causal(window: 100))
        try attention(
            batch: 1, length: 131, heads: 4, kvHeads: 2, headDim: 64, mask: .bidirectional)
        // v3 (bf16 tensor cores): HS 16/32/48/64, windows across tiles, GQA, T % 64 != 0.
        if gpu.device.computeCapability.major >= 8 {
            for mask in [AttentionMask.causal(window: 7), .causal(window: 1000), .bidirectional] {
                try attention(
                    batch: 2, length: 37, heads: 4, kvHeads: 2, headDim: 32, mask: mask,
                    precision: .bf16)
            }
            try attention(
                batch: 2, length: 300, heads: 4, kvHeads: 1, headDim: 64,
                mask: .causal(window: 100), precision: .bf16)
            try attention(
                batch: 1, length: 131, heads: 6, kvHeads: 2, headDim: 48, mask: .bidirectional,
                precision: .bf16)
            try attention(
                batch: 1, length: 200, heads: 2, kvHeads: 2, headDim: 16,
                mask: .causal(window: 65), precision: .bf16)
        }
        // v1: HS > 64, and v1 forced.
        try attention(
            batch: 1, length: 45, heads: 2, kvHeads: 1, headDim: 80, mask: .causal(window: 9))
        try attention(
            batch: 1, length: 70, heads: 2, kvHeads: 1, headDim: 64,
            mask: .causal(window: 33), tiled: false)
        try sparseCases()
    }

    func printTable() {
        let header =
            "op".padding(toLength: 62, withPad: " ", startingAt: 0)
            + "      n   max_abs_err   max_rel_err   tol(atol/rtol)  result"
        Terminal.printLine(header)
        for row in rows {
            let name = row.op.padding(toLength: 62, withPad: " ", startingAt: 0)
            Terminal.printLine(
                name
                    + String(
                        format: " %6d   %11.3e   %11.3e   %.0e/%.0e     %@",
                        row.count, row.maxAbsolute, row.maxRelative, row.atol, row.rtol,
                        row.passed ? "ok" : "FAILED (\(row.failures))"))
        }
    }

    // MARK: - Helpers

    mutating func random(_ count: Int, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in Float(rng.nextNormal()) * scale }
    }

    func upload(_ values: [Float]) throws -> DeviceBuffer {
        try DeviceBuffer(device: gpu.device, floats: values)
    }

    /// An output buffer poisoned with NaN, so an unwritten element fails the comparison.
    func empty(_ count: Int) throws -> DeviceBuffer {
        let buffer = try DeviceBuffer(device: gpu.device, byteCount: count * 4)
        try buffer.fill(bitPattern: 0x7FC0_0000)
        return buffer
    }

    /// Compares a GPU buffer with CPU results at `tolerance`; NaN fails.
    mutating func check(
        _ op: String, _ buffer: DeviceBuffer, _ expected: UnsafeMutablePointer<Float>,
        _ count: Int, _ tolerance: ParityTolerance
    ) throws {
        try gpu.synchronize()
        let actual = try buffer.downloadFloats(count: count)
        switch tolerance {
        case .relativeL2(let limit):
            let (relative, absolute) = Self.errors(
                Array(UnsafeBufferPointer(start: expected, count: count)), actual)
            rows.append(
                ParityRow(
                    op: op, count: count, maxAbsolute: absolute, maxRelative: relative, atol: 0,
                    rtol: limit, failures: relative <= limit ? 0 : 1))
        case .elementwise(let atol, let rtol):
            var row = ParityRow(
                op: op, count: count, maxAbsolute: 0, maxRelative: 0, atol: atol, rtol: rtol,
                failures: 0)
            for i in 0..<count {
                let a = Double(actual[i])
                let e = Double(expected[i])
                let error = abs(a - e)
                if !(error <= atol + rtol * abs(e)) { row.failures += 1 }
                if error.isFinite {
                    row.maxAbsolute = max(row.maxAbsolute, error)
                    if e != 0 { row.maxRelative = max(row.maxRelative, error / abs(e)) }
                } else {
                    row.maxAbsolute = .nan
                }
            }
            rows.append(row)
        }
    }
}
