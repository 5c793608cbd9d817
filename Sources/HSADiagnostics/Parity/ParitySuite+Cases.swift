import HSACPU
import HSACUDA
import HSACore

// MARK: - Cases

/// One parity case per op family: seeded inputs, the CPU op and its CUDA twin, compared.
extension ParitySuite {

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

    /// RoPE forward, then backward (the round trip). Plain RoPE lets the kernel compute
    /// theta^(-2i/HS); YaRN's stretched frequencies go to the device as a table: at positions up
    /// to 1M (where fp32 angles would be off by ~1e-1 rad) both sides compute angles, cos and
    /// sin in double.
    mutating func rope(rows n: Int, heads h: Int, headDim hs: Int, yarnFactor: Double? = nil)
        throws
    {
        let yarn = yarnFactor.map { YaRNScaling(factor: $0, originalLength: 4096) }
        let rotary = RotaryEmbedding(theta: 10_000, yarn: yarn)
        let label = (yarnFactor.map { "rope YaRN x\($0)" } ?? "rope") + " N=\(n) H=\(h) HS=\(hs)"
        let x = random(n * h * hs)
        let farthest: UInt64 = yarn == nil ? 5000 : 1 << 20
        let positions = (0..<n).map { _ in Int32(rng.next() % farthest) }
        let frequencies: CUDABackend.RopeFrequencies
        if yarn == nil {
            frequencies = .base(10_000)
        } else {
            let words = CUDABackend.ropeTableWords(rotary.inverseFrequencies(headDim: hs))
            let table = try DeviceBuffer(device: gpu.device, int32s: words)
            frequencies = .table(table, scale: rotary.scale)
        }
        let gX = try upload(x)
        let gPos = try DeviceBuffer(device: gpu.device, int32s: positions)
        let cx = host.copy(x)
        let cPos = host.ints(positions)
        for direction in [RopeDirection.forward, .backward] {
            CPU.rope(
                cx, positions: cPos, rows: n, heads: h, headDim: hs, rotary: rotary,
                direction: direction)
            try gpu.rope(
                gX, positions: gPos, rows: n, heads: h, headDim: hs, frequencies: frequencies,
                direction: direction)
            let step =
                direction == .forward
                ? "forward" : yarn == nil ? "backward (round trip)" : "backward"
            try check("\(label) \(step)", gX, cx, x.count, Self.elementwise)
        }
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
        try check("\(label) forward", gOut, out, n * c, Self.bitwise)
        try check("\(label) backward (bitwise)", gDTable, dTable, v * c, Self.bitwise)
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
        rows n: Int, inputChannels i: Int, outputChannels o: Int, bias: Bool,
        precision: MatmulPrecision = .fp32
    ) throws {
        let label =
            "matmul \(precision.rawValue) N=\(n) I=\(i) O=\(o)\(bias ? " +bias" : "")"
        let tolerance = precision == .fp32 ? Self.reduction : Self.bf16Matmul
        let savedPrecision = gpu.matmulPrecision
        gpu.matmulPrecision = precision
        defer { gpu.matmulPrecision = savedPrecision }
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
        try check("\(label) forward", gOut, out, n * o, tolerance)
        try check("\(label) backward dInput", gdx, dx, n * i, tolerance)
        try check("\(label) backward dWeight", gdw, dw, o * i, tolerance)
        if bias { try check("\(label) backward dBias", gdb, db, o, tolerance) }
    }

    mutating func attention(
        batch b: Int, length t: Int, heads h: Int, kvHeads kv: Int, headDim hs: Int,
        mask: AttentionMask, tiled: Bool = true, precision: AttentionPrecision = .fp32
    ) throws {
        let (savedTiled, savedPrecision) = (gpu.attentionTiled, gpu.attentionPrecision)
        gpu.attentionTiled = tiled
        gpu.attentionPrecision = precision
        defer { (gpu.attentionTiled, gpu.attentionPrecision) = (savedTiled, savedPrecision) }
        let bf16 = gpu.usesAttentionTensorCores(headDim: hs)
        let kernel = bf16 ? "v3 bf16" : tiled && hs <= 64 ? "v2" : "v1"
        let tolerance = bf16 ? Self.bf16Attention : Self.reduction
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
        let label = "attention \(kernel) B=\(b) T=\(t) NH=\(h) NKV=\(kv) HS=\(hs) \(maskName)"
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
        let shape = AttentionShape(
            batch: b, sequenceLength: t, heads: h, kvHeads: kv, headDim: hs, mask: mask)
        var gpuShape = shape
        gpuShape.mask = gpuMask
        CPU.attentionForward(out: out, logSumExp: lse, q: cq, k: ck, v: cv, shape: shape)
        let dq = host.floats(rowsQ * hs)
        let dk = host.floats(rowsK * hs)
        let dv = host.floats(rowsK * hs)
        CPU.attentionBackward(
            dQ: dq, dK: dk, dV: dv, dOut: host.copy(dy), out: out,
            logSumExp: lse, q: cq, k: ck, v: cv, shape: shape)
        let gq = try upload(q)
        let gk = try upload(k)
        let gv = try upload(v)
        let gOut = try empty(rowsQ * hs)
        let gLse = try empty(rowsQ)
        try gpu.attentionForward(
            out: gOut, logSumExp: gLse, q: gq, k: gk, v: gv, shape: gpuShape)
        let gdq = try empty(rowsQ * hs)
        let gdk = try empty(rowsK * hs)
        let gdv = try empty(rowsK * hs)
        try gpu.attentionBackward(
            dQ: gdq, dK: gdk, dV: gdv, dOut: try upload(dy), out: gOut,
            logSumExp: gLse, q: gq, k: gk, v: gv, shape: gpuShape)
        try check("\(label) out", gOut, out, rowsQ * hs, tolerance)
        try check("\(label) lse", gLse, lse, rowsQ, tolerance)
        try check("\(label) dQ", gdq, dq, rowsQ * hs, tolerance)
        try check("\(label) dK", gdk, dk, rowsK * hs, tolerance)
        try check("\(label) dV", gdv, dv, rowsK * hs, tolerance)
    }
}
