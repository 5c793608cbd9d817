import Foundation
import HSA
import HSATestSupport
import Testing

// GPU-vs-CPU parity on tiny ugly shapes; skipped (visibly) where CUDA is unavailable.
// The full table, with every op and a realistic size, is `hsa selftest --backend cuda`.

@Suite(.enabled(if: CUDA.isAvailable, "needs a CUDA driver and GPU"), .serialized)
struct ParityTests {
    let gpu: CUDABackend
    var rng = SplitMix64(seed: 99)

    init() throws {
        gpu = try CUDABackend(device: try CUDADevice())
    }

    mutating func random(_ count: Int) -> [Float] {
        (0..<count).map { _ in Float(rng.nextNormal()) }
    }

    func upload(_ values: [Float]) throws -> DeviceBuffer {
        try DeviceBuffer(device: gpu.device, floats: values)
    }

    @Test mutating func rmsNormForwardMatchesCPU() throws {
        let rows = 19
        let channels = 77
        let x = random(rows * channels)
        let w = random(channels)
        var out = [Float](repeating: 0, count: rows * channels)
        var rstd = [Float](repeating: 0, count: rows)
        CPU.rmsNormForward(
            out: &out, rstd: &rstd, input: x, weight: w, rows: rows,
            channels: channels)
        let gOut = try upload(out.map { _ in .nan })
        let gRstd = try upload(rstd)
        try gpu.rmsNormForward(
            out: gOut, rstd: gRstd, input: try upload(x), weight: try upload(w),
            rows: rows, channels: channels)
        try gpu.synchronize()
        #expect(compare(try gOut.downloadFloats(), out, atol: 1e-5, rtol: 1e-4).passed)
        #expect(compare(try gRstd.downloadFloats(), rstd, atol: 1e-5, rtol: 1e-4).passed)
    }

    @Test mutating func swigluBackwardMatchesCPU() throws {
        let n = 333
        let g = random(n)
        let u = random(n)
        let dy = random(n)
        var dg = [Float](repeating: 0, count: n)
        var du = dg
        CPU.swigluBackward(dGate: &dg, dUp: &du, dOut: dy, gate: g, up: u, count: n)
        let gDg = try upload(dg)
        let gDu = try upload(du)
        try gpu.swigluBackward(
            dGate: gDg, dUp: gDu, dOut: try upload(dy), gate: try upload(g),
            up: try upload(u), count: n)
        #expect(compare(try gDg.downloadFloats(), dg, atol: 1e-5, rtol: 1e-4).passed)
        #expect(compare(try gDu.downloadFloats(), du, atol: 1e-5, rtol: 1e-4).passed)
    }

    @Test mutating func matmulMatchesOpenBLASInEveryTransposeUsed() throws {
        let rows = 13
        let inputs = 21
        let outputs = 11
        let x = random(rows * inputs)
        let w = random(outputs * inputs)
        let b = random(outputs)
        let dy = random(rows * outputs)
        var out = [Float](repeating: 0, count: rows * outputs)
        var dx = [Float](repeating: 0, count: rows * inputs)
        var dw = [Float](repeating: 0, count: outputs * inputs)
        var db = [Float](repeating: 0, count: outputs)
        CPU.matmulForward(
            out: &out, input: x, weight: w, bias: b, rows: rows,
            inputChannels: inputs, outputChannels: outputs)
        CPU.matmulBackward(
            dInput: &dx, dWeight: &dw, dBias: &db, dOut: dy, input: x, weight: w,
            rows: rows, inputChannels: inputs, outputChannels: outputs)
        let gx = try upload(x)
        let gw = try upload(w)
        let gOut = try upload(out)
        let gdx = try upload(dx.map { _ in 0 })
        let gdw = try upload(dw.map { _ in 0 })
        let gdb = try upload(db.map { _ in 0 })
        try gpu.matmulForward(
            out: gOut, input: gx, weight: gw, bias: try upload(b), rows: rows,
            inputChannels: inputs, outputChannels: outputs)
        try gpu.matmulBackward(
            dInput: gdx, dWeight: gdw, dBias: gdb, dOut: try upload(dy),
            input: gx, weight: gw, rows: rows, inputChannels: inputs,
            outputChannels: outputs)
        #expect(compare(try gOut.downloadFloats(), out, atol: 1e-4, rtol: 1e-3).passed)
        #expect(compare(try gdx.downloadFloats(), dx, atol: 1e-4, rtol: 1e-3).passed)
        #expect(compare(try gdw.downloadFloats(), dw, atol: 1e-4, rtol: 1e-3).passed)
        #expect(compare(try gdb.downloadFloats(), db, atol: 1e-4, rtol: 1e-3).passed)
    }

    @Test(arguments: [AttentionMask.causal(window: 5), .bidirectional])
    mutating func attentionForwardMatchesCPU(mask: AttentionMask) throws {
        let b = 1
        let t = 23
        let h = 4
        let kv = 2
        let hs = 40
        let q = random(b * t * h * hs)
        let k = random(b * t * kv * hs)
        let v = random(b * t * kv * hs)
        var out = [Float](repeating: 0, count: q.count)
        var lse = [Float](repeating: 0, count: t * h)
        let shape = AttentionShape(
            batch: b, sequenceLength: t, heads: h, kvHeads: kv, headDim: hs, mask: mask)
        CPU.attentionForward(out: &out, logSumExp: &lse, q: q, k: k, v: v, shape: shape)
        let gpuMask: AttentionMask
        switch mask {
        case .causal(let window): gpuMask = .causal(window: window)
        case .bidirectional: gpuMask = .bidirectional
        }
        let gOut = try upload(out.map { _ in .nan })
        let gLse = try upload(lse)
        try gpu.attentionForward(
            out: gOut, logSumExp: gLse, q: try upload(q), k: try upload(k),
            v: try upload(v),
            shape: AttentionShape(
                batch: b, sequenceLength: t, heads: h, kvHeads: kv, headDim: hs, mask: gpuMask))
        #expect(compare(try gOut.downloadFloats(), out, atol: 1e-4, rtol: 1e-3).passed)
        #expect(compare(try gLse.downloadFloats(), lse, atol: 1e-4, rtol: 1e-3).passed)
    }

    @Test func badArgumentsAreRejectedBeforeLaunch() throws {
        let small = try DeviceBuffer(device: gpu.device, byteCount: 16)
        #expect(throws: CUDAError.self) {
            try gpu.swigluForward(out: small, gate: small, up: small, count: 5)
        }
    }
}
