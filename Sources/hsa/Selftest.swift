import ArgumentParser
import Foundation
import HSA

// `hsa selftest --backend cuda`: every CUDA kernel against its HSACPU twin on seeded random
// inputs with ugly shapes, printed as a table; `--bench` also times each kernel with events at
// a realistic size. Runs inside the static binary on a GPU machine (DESIGN.md §8).

/// Runs the GPU-vs-CPU parity suite (and optionally kernel timings) on the CUDA backend.
struct Selftest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every CUDA kernel against the CPU backend (skipped without a GPU).")

    @Option(help: "Backend to check: cuda.")
    var backend = "cuda"

    @Option(help: "Seed of the random inputs.")
    var seed: UInt64 = 20_240_601

    @Flag(help: "Also time each kernel at a realistic size (rows 8*4096, C 1024).")
    var bench = false

    @Flag(help: "Only the per-kernel checks (skip the managed-memory ops and whole-model runs).")
    var kernelsOnly = false

    func run() throws {
        guard backend == "cuda" else {
            throw ValidationError("selftest checks the cuda backend; got --backend \(backend)")
        }
        guard CUDA.isAvailable else {
            Terminal.printLine(
                "selftest: skipped (no usable CUDA: \(CUDA.unavailableReason ?? "?"))")
            return
        }
        let device = try CUDADevice()
        let gpu = try CUDABackend(device: device)
        Terminal.printLine("device: \(device.summary), cuBLAS \(gpu.cublasVersion)")
        Terminal.printLine("kernel cache: \(KernelCache.directory().path)")
        let start = Date()
        try gpu.warmUp()
        Terminal.printLine(
            String(format: "kernels ready in %.2f s", Date().timeIntervalSince(start)))
        var suite = ParitySuite(gpu: gpu, seed: seed)
        try suite.runAll()
        if !kernelsOnly {
            let managed = try CUDAManagedBackend(device: device, fallback: CPUBackend.shared)
            suite.managedOps(managed)
            let modelStart = Date()
            try suite.wholeModel(preset: "tiny", base: .tiny, batch: 2, length: 64, gpu: managed)
            try suite.wholeModel(
                preset: "small", base: .small, batch: 1, length: 256, gpu: managed)
            Terminal.printLine(
                String(
                    format: "model checks in %.1f s; ops on the CPU fallback: %@",
                    Date().timeIntervalSince(modelStart),
                    managed.fallbackCounts.sorted { $0.key < $1.key }
                        .map { "\($0.key) x\($0.value)" }.joined(separator: ", ")))
        }
        suite.printTable()
        if bench {
            let timings = KernelBench(gpu: gpu, device: device)
            try timings.run()
            try timings.sparse()
        }
        let failed = suite.rows.filter { !$0.passed }.count
        Terminal.printLine(
            failed == 0
                ? "selftest: all \(suite.rows.count) checks passed"
                : "selftest: \(failed) of \(suite.rows.count) checks FAILED")
        if failed > 0 { throw ExitCode(1) }
    }
}

// MARK: - Parity suite

/// One compared output.
struct ParityRow {
    var op: String
    var count: Int
    var maxAbsolute: Double
    var maxRelative: Double
    var atol: Double
    var rtol: Double
    var failures: Int
    var passed: Bool { failures == 0 }
}

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
    static let elementwise = (atol: 1e-5, rtol: 1e-4)
    static let reduction = (atol: 1e-4, rtol: 1e-3)

    mutating func runAll() throws {
        try rmsNorm(rows: 37, channels: 203)
        try rmsNorm(rows: 1, channels: 1024)
        try rope(rows: 13, heads: 3, headDim: 18)
        try swiglu(count: 1001)
        try embedding(vocab: 50, channels: 67, rows: 133)
        try crossEntropy(rows: 17, vocab: 1003)
        try adamW(count: 999)
        try matmul(rows: 37, inputChannels: 45, outputChannels: 29, bias: true)
        try matmul(rows: 5, inputChannels: 64, outputChannels: 3, bias: false)
        for mask in [AttentionMask.causal(window: 7), .causal(window: 1000), .bidirectional] {
            try attention(batch: 2, length: 37, heads: 4, kvHeads: 2, headDim: 24, mask: mask)
        }
        try attention(
            batch: 1, length: 70, heads: 2, kvHeads: 1, headDim: 64,
            mask: .causal(window: 33))
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

    // MARK: - Cases

    mutating func rmsNorm(rows n: Int, channels c: Int) throws {
        let label = "rmsnorm N=\(n) C=\(c)"
        let x = random(n * c)
        let w = random(c)
        let dy = random(n * c)
        let dx0 = random(n * c)
        let dw0 = random(c)
        let out = host.floats(n * c)
        let rstd = host.floats(n)
        CPU.rmsNormForward(
            out: out, rstd: rstd, input: host.copy(x), weight: host.copy(w),
            rows: n, channels: c)
        let gOut = try empty(n * c)
        let gRstd = try empty(n)
        let gX = try upload(x)
        let gW = try upload(w)
        try gpu.rmsNormForward(out: gOut, rstd: gRstd, input: gX, weight: gW, rows: n, channels: c)
        try check("\(label) forward out", gOut, out, n * c, Self.elementwise)
        try check("\(label) forward rstd", gRstd, rstd, n, Self.elementwise)
        let dx = host.copy(dx0)
        let dw = host.copy(dw0)
        CPU.rmsNormBackward(
            dInput: dx, dWeight: dw, dOut: host.copy(dy), input: host.copy(x),
            weight: host.copy(w), rstd: rstd, rows: n, channels: c)
        let gDx = try upload(dx0)
        let gDw = try upload(dw0)
        try gpu.rmsNormBackward(
            dInput: gDx, dWeight: gDw, dOut: try upload(dy), input: gX,
            weight: gW, rstd: gRstd, rows: n, channels: c)
        try check("\(label) backward dInput", gDx, dx, n * c, Self.reduction)
        try check("\(label) backward dWeight", gDw, dw, c, Self.reduction)
    }

    mutating func rope(rows n: Int, heads h: Int, headDim hs: Int) throws {
        let label = "rope N=\(n) H=\(h) HS=\(hs)"
        let x = random(n * h * hs)
        let positions = (0..<n).map { _ in Int32(rng.next() % 5000) }
        let gX = try upload(x)
        let gPos = try DeviceBuffer(device: gpu.device, int32s: positions)
        let cx = host.copy(x)
        let cPos = host.ints(positions)
        CPU.ropeForward(cx, positions: cPos, rows: n, heads: h, headDim: hs, theta: 10_000)
        try gpu.ropeForward(gX, positions: gPos, rows: n, heads: h, headDim: hs, theta: 10_000)
        try check("\(label) forward", gX, cx, x.count, Self.elementwise)
        CPU.ropeBackward(cx, positions: cPos, rows: n, heads: h, headDim: hs, theta: 10_000)
        try gpu.ropeBackward(gX, positions: gPos, rows: n, heads: h, headDim: hs, theta: 10_000)
        try check("\(label) backward (round trip)", gX, cx, x.count, Self.elementwise)
    }

    mutating func swiglu(count n: Int) throws {
        let label = "swiglu n=\(n)"
        let g = random(n, scale: 3)
        let u = random(n)
        let dy = random(n)
        let out = host.floats(n)
        let dg = host.floats(n)
        let du = host.floats(n)
        CPU.swigluForward(out: out, gate: host.copy(g), up: host.copy(u), count: n)
        CPU.swigluBackward(
            dGate: dg, dUp: du, dOut: host.copy(dy), gate: host.copy(g),
            up: host.copy(u), count: n)
        let gOut = try empty(n)
        let gDg = try empty(n)
        let gDu = try empty(n)
        let gG = try upload(g)
        let gU = try upload(u)
        try gpu.swigluForward(out: gOut, gate: gG, up: gU, count: n)
        try gpu.swigluBackward(
            dGate: gDg, dUp: gDu, dOut: try upload(dy), gate: gG, up: gU,
            count: n)
        try check("\(label) forward", gOut, out, n, Self.elementwise)
        try check("\(label) backward dGate", gDg, dg, n, Self.elementwise)
        try check("\(label) backward dUp", gDu, du, n, Self.elementwise)
    }

    mutating func embedding(vocab v: Int, channels c: Int, rows n: Int) throws {
        let label = "embedding V=\(v) C=\(c) N=\(n)"
        let table = random(v * c)
        let dy = random(n * c)
        let dTable0 = random(v * c)
        // Few distinct tokens so rows repeat (the scatter's hard case).
        let tokens = (0..<n).map { _ in Int32(rng.next() % UInt64(v / 3)) }
        let out = host.floats(n * c)
        let dTable = host.copy(dTable0)
        CPU.embeddingForward(
            out: out, tokens: host.ints(tokens), table: host.copy(table),
            rows: n, channels: c)
        CPU.embeddingBackward(
            dTable: dTable, dOut: host.copy(dy), tokens: host.ints(tokens),
            rows: n, channels: c)
        let gOut = try empty(n * c)
        let gTokens = try DeviceBuffer(device: gpu.device, int32s: tokens)
        let gDTable = try upload(dTable0)
        try gpu.embeddingForward(
            out: gOut, tokens: gTokens, table: try upload(table), rows: n,
            channels: c)
        try gpu.embeddingBackward(
            dTable: gDTable, dOut: try upload(dy), tokens: gTokens,
            rows: n, channels: c)
        try check("\(label) forward", gOut, out, n * c, (0, 0))
        try check("\(label) backward (bitwise)", gDTable, dTable, v * c, (0, 0))
    }

    mutating func crossEntropy(rows n: Int, vocab v: Int) throws {
        let label = "crossentropy N=\(n) V=\(v)"
        let logits = random(n * v, scale: 3)
        let targets = (0..<n).map { i in i % 5 == 3 ? Int32(-1) : Int32(rng.next() % UInt64(v)) }
        let scales = (0..<n).map { _ in Float(1) / Float(n) }
        let losses = host.floats(n)
        let dLogits = host.floats(n * v)
        CPU.crossEntropyForward(
            losses: losses, logits: host.copy(logits),
            targets: host.ints(targets), rows: n, vocab: v)
        CPU.crossEntropyBackward(
            dLogits: dLogits, logits: host.copy(logits),
            targets: host.ints(targets), rowScale: host.copy(scales),
            rows: n, vocab: v)
        let gLogits = try upload(logits)
        let gTargets = try DeviceBuffer(device: gpu.device, int32s: targets)
        let gLosses = try empty(n)
        let gDLogits = try empty(n * v)
        try gpu.crossEntropyForward(
            losses: gLosses, logits: gLogits, targets: gTargets, rows: n,
            vocab: v)
        try gpu.crossEntropyBackward(
            dLogits: gDLogits, logits: gLogits, targets: gTargets,
            rowScale: try upload(scales), rows: n, vocab: v)
        try check("\(label) forward", gLosses, losses, n, Self.elementwise)
        try check("\(label) backward", gDLogits, dLogits, n * v, Self.elementwise)
    }

    mutating func adamW(count n: Int) throws {
        let label = "adamw n=\(n) step=3"
        let p = random(n)
        let g = random(n)
        let m = random(n, scale: 0.1)
        let v = random(n, scale: 0.1).map { $0 * $0 }
        let cp = host.copy(p)
        let cm = host.copy(m)
        let cv = host.copy(v)
        CPU.adamWUpdate(
            parameters: cp, gradients: host.copy(g), m: cm, v: cv, count: n,
            learningRate: 1e-3, beta1: 0.9, beta2: 0.95, epsilon: 1e-8,
            weightDecay: 0.1, step: 3)
        let gp = try upload(p)
        let gm = try upload(m)
        let gv = try upload(v)
        try gpu.adamWUpdate(
            parameters: gp, gradients: try upload(g), m: gm, v: gv, count: n,
            learningRate: 1e-3, beta1: 0.9, beta2: 0.95, epsilon: 1e-8,
            weightDecay: 0.1, step: 3)
        try check("\(label) parameters", gp, cp, n, Self.elementwise)
        try check("\(label) m", gm, cm, n, Self.elementwise)
        try check("\(label) v", gv, cv, n, Self.elementwise)
    }

    mutating func matmul(
        rows n: Int, inputChannels i: Int, outputChannels o: Int, bias: Bool
    ) throws {
        let label = "matmul N=\(n) I=\(i) O=\(o)\(bias ? " +bias" : "")"
        let x = random(n * i)
        let w = random(o * i)
        let b = random(o)
        let dy = random(n * o)
        let dx0 = random(n * i)
        let dw0 = random(o * i)
        let db0 = random(o)
        let out = host.floats(n * o)
        let dx = host.copy(dx0)
        let dw = host.copy(dw0)
        let db = host.copy(db0)
        CPU.matmulForward(
            out: out, input: host.copy(x), weight: host.copy(w),
            bias: bias ? host.copy(b) : nil, rows: n, inputChannels: i,
            outputChannels: o)
        CPU.matmulBackward(
            dInput: dx, dWeight: dw, dBias: bias ? db : nil, dOut: host.copy(dy),
            input: host.copy(x), weight: host.copy(w), rows: n,
            inputChannels: i, outputChannels: o)
        let gx = try upload(x)
        let gw = try upload(w)
        let gOut = try empty(n * o)
        let gdx = try upload(dx0)
        let gdw = try upload(dw0)
        let gdb = try upload(db0)
        try gpu.matmulForward(
            out: gOut, input: gx, weight: gw, bias: bias ? try upload(b) : nil,
            rows: n, inputChannels: i, outputChannels: o)
        try gpu.matmulBackward(
            dInput: gdx, dWeight: gdw, dBias: bias ? gdb : nil,
            dOut: try upload(dy), input: gx, weight: gw, rows: n,
            inputChannels: i, outputChannels: o)
        try check("\(label) forward", gOut, out, n * o, Self.reduction)
        try check("\(label) backward dInput", gdx, dx, n * i, Self.reduction)
        try check("\(label) backward dWeight", gdw, dw, o * i, Self.reduction)
        if bias { try check("\(label) backward dBias", gdb, db, o, Self.reduction) }
    }

    mutating func attention(
        batch b: Int, length t: Int, heads h: Int, kvHeads kv: Int, headDim hs: Int,
        mask: AttentionMask
    ) throws {
        let maskName: String
        let gpuMask: AttentionMask
        switch mask {
        case .causal(let window):
            maskName = "causal W=\(window)"
            gpuMask = .causal(window: window)
        case .bidirectional:
            maskName = "bidirectional"
            gpuMask = .bidirectional
        }
        let label = "attention B=\(b) T=\(t) NH=\(h) NKV=\(kv) HS=\(hs) \(maskName)"
        let rowsQ = b * t * h
        let rowsK = b * t * kv
        let q = random(rowsQ * hs)
        let k = random(rowsK * hs)
        let v = random(rowsK * hs)
        let dy = random(rowsQ * hs)
        let out = host.floats(rowsQ * hs)
        let lse = host.floats(rowsQ)
        let cq = host.copy(q)
        let ck = host.copy(k)
        let cv = host.copy(v)
        CPU.attentionForward(
            out: out, logSumExp: lse, q: cq, k: ck, v: cv, batch: b,
            sequenceLength: t, heads: h, kvHeads: kv, headDim: hs, mask: mask)
        let dq = host.floats(rowsQ * hs)
        let dk = host.floats(rowsK * hs)
        let dv = host.floats(rowsK * hs)
        CPU.attentionBackward(
            dQ: dq, dK: dk, dV: dv, dOut: host.copy(dy), out: out,
            logSumExp: lse, q: cq, k: ck, v: cv, batch: b, sequenceLength: t,
            heads: h, kvHeads: kv, headDim: hs, mask: mask)
        let gq = try upload(q)
        let gk = try upload(k)
        let gv = try upload(v)
        let gOut = try empty(rowsQ * hs)
        let gLse = try empty(rowsQ)
        try gpu.attentionForward(
            out: gOut, logSumExp: gLse, q: gq, k: gk, v: gv, batch: b,
            sequenceLength: t, heads: h, kvHeads: kv, headDim: hs,
            mask: gpuMask)
        let gdq = try empty(rowsQ * hs)
        let gdk = try empty(rowsK * hs)
        let gdv = try empty(rowsK * hs)
        try gpu.attentionBackward(
            dQ: gdq, dK: gdk, dV: gdv, dOut: try upload(dy), out: gOut,
            logSumExp: gLse, q: gq, k: gk, v: gv, batch: b,
            sequenceLength: t, heads: h, kvHeads: kv, headDim: hs,
            mask: gpuMask)
        try check("\(label) out", gOut, out, rowsQ * hs, Self.reduction)
        try check("\(label) lse", gLse, lse, rowsQ, Self.reduction)
        try check("\(label) dQ", gdq, dq, rowsQ * hs, Self.reduction)
        try check("\(label) dK", gdk, dk, rowsK * hs, Self.reduction)
        try check("\(label) dV", gdv, dv, rowsK * hs, Self.reduction)
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

    /// Compares a GPU buffer with CPU results: `|g - c| <= atol + rtol |c|`, NaN fails.
    mutating func check(
        _ op: String, _ buffer: DeviceBuffer, _ expected: UnsafeMutablePointer<Float>,
        _ count: Int, _ tolerance: (atol: Double, rtol: Double)
    ) throws {
        try gpu.synchronize()
        let actual = try buffer.downloadFloats(count: count)
        var row = ParityRow(
            op: op, count: count, maxAbsolute: 0, maxRelative: 0, atol: tolerance.atol,
            rtol: tolerance.rtol, failures: 0)
        for i in 0..<count {
            let a = Double(actual[i])
            let e = Double(expected[i])
            let error = abs(a - e)
            if !(error <= tolerance.atol + tolerance.rtol * abs(e)) { row.failures += 1 }
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

/// Host buffers for the CPU side, freed together when the suite ends.
final class HostArena {
    private var floatBlocks: [UnsafeMutableBufferPointer<Float>] = []
    private var intBlocks: [UnsafeMutableBufferPointer<Int32>] = []

    deinit {
        for block in floatBlocks { block.deallocate() }
        for block in intBlocks { block.deallocate() }
    }

    /// Zero-filled Floats.
    func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
        copy([Float](repeating: 0, count: count))
    }

    /// A mutable copy of `values`.
    func copy(_ values: [Float]) -> UnsafeMutablePointer<Float> {
        let block = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(values.count, 1))
        _ = block.initialize(from: values)
        floatBlocks.append(block)
        return block.baseAddress ?? UnsafeMutablePointer<Float>.allocate(capacity: 1)
    }

    /// A copy of `values`.
    func ints(_ values: [Int32]) -> UnsafeMutablePointer<Int32> {
        let block = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(values.count, 1))
        _ = block.initialize(from: values)
        intBlocks.append(block)
        return block.baseAddress ?? UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    }
}

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
            "kernel                                        ms      GB/s   %peak   GFLOP/s")
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
            try gpu.ropeForward(
                y, positions: positions, rows: rows, heads: 16, headDim: 64,
                theta: 10_000)
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
        try time("embedding backward (host sort + scatter)", bytes: 3 * f * Double(size)) {
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
        try time("matmul forward fp32 (N 32768, 1024x1024)", flops: gemmFlops) {
            try gpu.matmulForward(
                out: y, input: x, weight: weight, bias: w, rows: rows,
                inputChannels: channels, outputChannels: channels)
        }
        try time("matmul backward fp32 (dInput, dWeight, dBias)", flops: 2 * gemmFlops) {
            try gpu.matmulBackward(
                dInput: z, dWeight: dWeight, dBias: dw, dOut: y, input: x,
                weight: weight, rows: rows, inputChannels: channels,
                outputChannels: channels)
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
        let attentionFlops = 4 * Double(t) * Double(window) * Double(nh) * Double(hs)
        try time("attention forward (T 4096, NH 16/4, HS 64, W 512)", flops: attentionFlops) {
            try gpu.attentionForward(
                out: out, logSumExp: lse, q: q, k: k, v: vv, batch: 1,
                sequenceLength: t, heads: nh, kvHeads: nkv, headDim: hs,
                mask: .causal(window: window))
        }
        try time("attention backward (same shape)", flops: 2.5 * attentionFlops) {
            try gpu.attentionBackward(
                dQ: dq, dK: dk, dV: dv, dOut: dOut, out: out,
                logSumExp: lse, q: q, k: k, v: vv, batch: 1,
                sequenceLength: t, heads: nh, kvHeads: nkv, headDim: hs,
                mask: .causal(window: window))
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
            name.padding(toLength: 44, withPad: " ", startingAt: 0)
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
    var chunkCount: Int { length / chunkSize }

    /// Short enough that the table's 62 columns still show the op name after it.
    var label: String {
        let fusionName = fusion == .stickBreaking ? "sb" : fusion == .softmax ? "sm" : "joint"
        let granularityName = granularity == .perToken ? "tok" : "chunk"
        return "B\(batch) T\(length) H\(heads)/\(kvHeads) HS\(headDim) DR\(retrievalDim) "
            + "S\(chunkSize) K\(topK) \(fusionName) \(granularityName)"
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
        ]
        for shape in cases { try sparse(shape) }
    }

    /// Chunk selection, chunk-score backward, sparse attention forward and backward of one
    /// shape against `CPU.*`. The attention ops get the CPU's selection (and the backward the
    /// CPU forward's saved tensors), so each op is checked on its own.
    mutating func sparse(_ c: SparseCase) throws {
        let (b, t, nh, nkv, hs, dr) = (
            c.batch, c.length, c.heads, c.kvHeads, c.headDim, c.retrievalDim
        )
        let (s, nc, k) = (c.chunkSize, c.chunkCount, c.topK)
        let label = "hsa \(c.label)"
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
            landmarks: host.copy(lmk), batch: b, sequenceLength: t, kvHeads: nkv,
            retrievalDim: dr, chunkSize: s, chunkCount: nc, topK: k, granularity: c.granularity)
        let gIndices = try DeviceBuffer(device: gpu.device, byteCount: slots * 4)
        try gIndices.fill(bitPattern: 0x7FC0_0000)
        let gScores = try empty(slots)
        let gqs = try upload(qs)
        let glmk = try upload(lmk)
        try gpu.chunkSelectForward(
            indices: gIndices, scores: gScores, retrievalQuery: gqs, landmarks: glmk, batch: b,
            sequenceLength: t, kvHeads: nkv, retrievalDim: dr, chunkSize: s, chunkCount: nc,
            topK: k, granularity: c.granularity)
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
            batch: b, sequenceLength: t, kvHeads: nkv, retrievalDim: dr, chunkSize: s,
            chunkCount: nc, topK: k, granularity: c.granularity)
        let gdqs = try upload(dqsStart)
        let gdlmk = try upload(dlmkStart)
        let scoreWorkspace = try DeviceBuffer(
            device: gpu.device,
            byteCount: CUDABackend.chunkScoresBackwardWorkspaceBytes(
                batch: b, sequenceLength: t, kvHeads: nkv, chunkCount: nc))
        try gpu.chunkScoresBackward(
            dRetrievalQuery: gdqs, dLandmarks: gdlmk, dScores: try upload(dScores),
            retrievalQuery: gqs, landmarks: glmk, indices: indexBuffer,
            workspace: scoreWorkspace, batch: b, sequenceLength: t, kvHeads: nkv,
            retrievalDim: dr, chunkSize: s, chunkCount: nc, topK: k,
            granularity: c.granularity)
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
        CPU.sparseAttentionForward(
            out: out, fusionWeights: weights, chunkOutputs: outputs, chunkLogSumExp: lse,
            q: cq, keys: ck, values: cv, indices: indices, scores: scores, batch: b,
            sequenceLength: t, heads: nh, kvHeads: nkv, headDim: hs, chunkSize: s,
            chunkCount: nc, topK: k, fusion: c.fusion)
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
            q: gq, keys: gk, values: gv, indices: indexBuffer, scores: gScoresCPU, batch: b,
            sequenceLength: t, heads: nh, kvHeads: nkv, headDim: hs, chunkSize: s,
            chunkCount: nc, topK: k, fusion: c.fusion)
        try check("\(label) fwd out", gOut, out, rows * nh * hs, Self.reduction)
        try check("\(label) fwd fusionWeights", gWeights, weights, slots, Self.reduction)
        try check("\(label) fwd lse", gLse, lse, rows * nh * k, Self.reduction)
        if c.fusion != .joint {
            try check(
                "\(label) fwd chunkOutputs", gOutputs, outputs, rows * nh * k * hs,
                Self.reduction)
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
            out: out, fusionWeights: weights, chunkOutputs: outputs, chunkLogSumExp: lse, q: cq,
            keys: ck, values: cv, indices: indices, scores: scores, batch: b,
            sequenceLength: t, heads: nh, kvHeads: nkv, headDim: hs, chunkSize: s,
            chunkCount: nc, topK: k, fusion: c.fusion)
        let gdq = try empty(rows * nh * hs)
        let gdKeys = try upload(dKeysStart)
        let gdValues = try upload(dValuesStart)
        let gdScores = try empty(slots)
        let workspace = try DeviceBuffer(
            device: gpu.device,
            byteCount: CUDABackend.sparseAttentionBackwardWorkspaceBytes(
                batch: b, sequenceLength: t, heads: nh, kvHeads: nkv, headDim: hs,
                chunkSize: s, chunkCount: nc, topK: k))
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
            indices: indexBuffer, scores: gScoresCPU, workspace: workspace, batch: b,
            sequenceLength: t, heads: nh, kvHeads: nkv, headDim: hs, chunkSize: s,
            chunkCount: nc, topK: k, fusion: c.fusion)
        try check("\(label) bwd dQ", gdq, dq, rows * nh * hs, Self.reduction)
        try check("\(label) bwd dKeys", gdKeys, dKeys, b * nc * s * nkv * hs, Self.reduction)
        try check(
            "\(label) bwd dValues", gdValues, dValues, b * nc * s * nkv * hs, Self.reduction)
        try check("\(label) bwd dScores", gdScores, dScoresOut, slots, Self.reduction)
    }
}

extension KernelBench {
    /// HSA ops at B 8, T 4096, NH 16, NKV 1, HS 64, DR 64, S 64, K 8 (stick-breaking,
    /// per-token): selection, forward, backward; GFLOP/s counts the chunk attention only
    /// (forward 4 B T NH K S HS, backward 2.5 times that).
    func sparse() throws {
        let (b, t, nh, nkv, hs, dr, s, k) = (8, 4096, 16, 1, 64, 64, 64, 8)
        let nc = t / s
        let rows = b * t
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
                indices: indices, scores: scores, retrievalQuery: qs, landmarks: lmk, batch: b,
                sequenceLength: t, kvHeads: nkv, retrievalDim: dr, chunkSize: s, chunkCount: nc,
                topK: k, granularity: .perToken)
        }
        let dScores = try buffer(rows * nkv * k)
        let dqs = try buffer(rows * nkv * dr)
        let dlmk = try buffer(b * nc * nkv * dr)
        let scoreWorkspace = try DeviceBuffer(
            device: device,
            byteCount: CUDABackend.chunkScoresBackwardWorkspaceBytes(
                batch: b, sequenceLength: t, kvHeads: nkv, chunkCount: nc))
        try time("chunk scores backward") {
            try gpu.chunkScoresBackward(
                dRetrievalQuery: dqs, dLandmarks: dlmk, dScores: dScores, retrievalQuery: qs,
                landmarks: lmk, indices: indices, workspace: scoreWorkspace, batch: b,
                sequenceLength: t, kvHeads: nkv, retrievalDim: dr, chunkSize: s,
                chunkCount: nc, topK: k, granularity: .perToken)
        }
        let q = try buffer(rows * nh * hs)
        let keys = try buffer(b * nc * s * nkv * hs)
        let values = try buffer(b * nc * s * nkv * hs)
        let out = try DeviceBuffer(device: device, byteCount: rows * nh * hs * 4)
        let weights = try DeviceBuffer(device: device, byteCount: rows * nkv * k * 4)
        let outputs = try DeviceBuffer(device: device, byteCount: rows * nh * k * hs * 4)
        let lse = try DeviceBuffer(device: device, byteCount: rows * nh * k * 4)
        let flops = 4 * Double(rows) * Double(nh * k * s * hs)
        try time("sparse attention forward", flops: flops) {
            try gpu.sparseAttentionForward(
                out: out, fusionWeights: weights, chunkOutputs: outputs, chunkLogSumExp: lse,
                q: q, keys: keys, values: values, indices: indices, scores: scores, batch: b,
                sequenceLength: t, heads: nh, kvHeads: nkv, headDim: hs, chunkSize: s,
                chunkCount: nc, topK: k, fusion: .stickBreaking)
        }
        let dy = try buffer(rows * nh * hs)
        let dq = try DeviceBuffer(device: device, byteCount: rows * nh * hs * 4)
        let dKeys = try buffer(b * nc * s * nkv * hs)
        let dValues = try buffer(b * nc * s * nkv * hs)
        let dScoresOut = try DeviceBuffer(device: device, byteCount: rows * nkv * k * 4)
        let workspace = try DeviceBuffer(
            device: device,
            byteCount: CUDABackend.sparseAttentionBackwardWorkspaceBytes(
                batch: b, sequenceLength: t, heads: nh, kvHeads: nkv, headDim: hs,
                chunkSize: s, chunkCount: nc, topK: k))
        try time("sparse attention backward", flops: 2.5 * flops) {
            try gpu.sparseAttentionBackward(
                dQ: dq, dKeys: dKeys, dValues: dValues, dScores: dScoresOut, dOut: dy, out: out,
                fusionWeights: weights, chunkOutputs: outputs, chunkLogSumExp: lse, q: q,
                keys: keys, values: values, indices: indices, scores: scores,
                workspace: workspace, batch: b, sequenceLength: t, heads: nh, kvHeads: nkv,
                headDim: hs, chunkSize: s, chunkCount: nc, topK: k, fusion: .stickBreaking)
        }
    }
}
