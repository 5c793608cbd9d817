import Foundation
import HSACPU
import HSACore
import HSATestSupport
import Testing

// Tests of the basic CPU ops: the Float64 oracle against central differences, the fp32 kernels
// against the oracle, RoPE's inverse-transpose property, AdamW steps, accumulation semantics and
// thread-count invariance. Shapes are tiny except where a test must reach the parallel paths
// (work >= 16384 elements).

// MARK: - Helpers

/// `count` standard normals times `scale`, rounded to fp32 (so the oracle sees the same inputs).
private func normals(_ count: Int, _ rng: inout SplitMix64, scale: Double = 1) -> [Float] {
    (0..<count).map { _ in Float(rng.nextNormal() * scale) }
}

private func doubles(_ values: [Float]) -> [Double] { values.map(Double.init) }

/// Finite differences of `loss` at every coordinate of `x`.
private func numericGradient(_ x: [Double], _ loss: ([Double]) -> Double) -> [Double] {
    var point = x
    return centralDifferences(at: &point, indices: Array(0..<x.count), loss: loss)
}

/// Shapes (rows, channels): an ugly tiny one and one large enough for the parallel paths.
private let shapes: [(Int, Int)] = [(3, 13), (130, 130)]

// MARK: - Oracle vs central differences

@Suite struct OracleGradientTests {
    @Test func embedding() {
        var rng = SplitMix64(seed: 1)
        let (vocab, channels) = (5, 3)
        let tokens: [Int32] = [2, 0, 2, 4]
        let table = doubles(normals(vocab * channels, &rng))
        let cotangent = doubles(normals(tokens.count * channels, &rng))
        let numeric = numericGradient(table) { t in
            dot(Oracle.embeddingForward(tokens: tokens, table: t, channels: channels), cotangent)
        }
        let analytic = Oracle.embeddingBackward(
            dOut: cotangent, tokens: tokens, vocab: vocab, channels: channels)
        expectGradient(analytic, numeric, "dTable")
    }

    @Test func rmsNorm() {
        var rng = SplitMix64(seed: 2)
        let (rows, channels) = (3, 5)
        let input = doubles(normals(rows * channels, &rng))
        let weight = doubles(normals(channels, &rng))
        let cotangent = doubles(normals(rows * channels, &rng))
        let grads = Oracle.rmsNormBackward(
            dOut: cotangent, input: input, weight: weight, rows: rows, channels: channels)
        let dInput = numericGradient(input) { x in
            dot(
                Oracle.rmsNormForward(input: x, weight: weight, rows: rows, channels: channels)
                    .out, cotangent)
        }
        let dWeight = numericGradient(weight) { w in
            dot(
                Oracle.rmsNormForward(input: input, weight: w, rows: rows, channels: channels)
                    .out, cotangent)
        }
        expectGradient(grads.dInput, dInput, "dInput")
        expectGradient(grads.dWeight, dWeight, "dWeight")
    }

    @Test func matmulWithBias() {
        var rng = SplitMix64(seed: 3)
        let (rows, inputs, outputs) = (3, 4, 5)
        let input = doubles(normals(rows * inputs, &rng))
        let weight = doubles(normals(outputs * inputs, &rng))
        let bias = doubles(normals(outputs, &rng))
        let cotangent = doubles(normals(rows * outputs, &rng))
        func loss(_ x: [Double], _ w: [Double], _ b: [Double]) -> Double {
            dot(
                Oracle.matmulForward(
                    input: x, weight: w, bias: b, rows: rows, inputChannels: inputs,
                    outputChannels: outputs), cotangent)
        }
        let grads = Oracle.matmulBackward(
            dOut: cotangent, input: input, weight: weight, rows: rows, inputChannels: inputs,
            outputChannels: outputs)
        expectGradient(grads.dInput, numericGradient(input) { loss($0, weight, bias) }, "dInput")
        expectGradient(grads.dWeight, numericGradient(weight) { loss(input, $0, bias) }, "dWeight")
        expectGradient(grads.dBias, numericGradient(bias) { loss(input, weight, $0) }, "dBias")
    }

    @Test func rope() {
        var rng = SplitMix64(seed: 4)
        let (heads, headDim) = (2, 6)
        let positions: [Int32] = [0, 3, 17]
        let x = doubles(normals(positions.count * heads * headDim, &rng))
        let cotangent = doubles(normals(x.count, &rng))
        let numeric = numericGradient(x) { v in
            dot(
                Oracle.ropeForward(
                    v, positions: positions, heads: heads, headDim: headDim, theta: 10000),
                cotangent)
        }
        let analytic = Oracle.ropeBackward(
            cotangent, positions: positions, heads: heads, headDim: headDim, theta: 10000)
        expectGradient(analytic, numeric, "dX")
    }

    @Test func swiglu() {
        var rng = SplitMix64(seed: 5)
        let gate = doubles(normals(9, &rng, scale: 2))
        let up = doubles(normals(9, &rng))
        let cotangent = doubles(normals(9, &rng))
        let grads = Oracle.swigluBackward(dOut: cotangent, gate: gate, up: up)
        let dGate = numericGradient(gate) { dot(Oracle.swigluForward(gate: $0, up: up), cotangent) }
        let dUp = numericGradient(up) { dot(Oracle.swigluForward(gate: gate, up: $0), cotangent) }
        expectGradient(grads.dGate, dGate, "dGate")
        expectGradient(grads.dUp, dUp, "dUp")
    }

    @Test func crossEntropyWithIgnoredTarget() {
        var rng = SplitMix64(seed: 6)
        let (rows, vocab) = (4, 7)
        let logits = doubles(normals(rows * vocab, &rng, scale: 3))
        let targets: [Int32] = [3, -1, 0, 6]
        let cotangent = doubles(normals(rows, &rng))
        let numeric = numericGradient(logits) { l in
            dot(
                Oracle.crossEntropyForward(logits: l, targets: targets, rows: rows, vocab: vocab),
                cotangent)
        }
        let analytic = Oracle.crossEntropyBackward(
            logits: logits, targets: targets, rowScale: cotangent, rows: rows, vocab: vocab)
        expectGradient(analytic, numeric, "dLogits")
        // The ignored row has exactly zero gradient.
        #expect(analytic[vocab..<2 * vocab].allSatisfy { $0 == 0 })
    }
}

// MARK: - fp32 kernels vs oracle

/// Backward outputs start from random values so the checks also cover accumulation (`+=`).
@Suite struct KernelVersusOracleTests {
    @Test(arguments: shapes) func embedding(rows: Int, channels: Int) {
        var rng = SplitMix64(seed: 10)
        let vocab = 7
        let tokens = (0..<rows).map { _ in Int32(rng.next() % UInt64(vocab)) }
        let table = normals(vocab * channels, &rng)
        var out = [Float](repeating: .nan, count: rows * channels)
        CPU.embeddingForward(
            out: &out, tokens: tokens, table: table, rows: rows, channels: channels)
        expectClose(
            out, Oracle.embeddingForward(tokens: tokens, table: doubles(table), channels: channels),
            atol: 0, rtol: 0, "out")

        let dOut = normals(rows * channels, &rng)
        let initial = normals(vocab * channels, &rng)
        var dTable = initial
        CPU.embeddingBackward(
            dTable: &dTable, dOut: dOut, tokens: tokens, rows: rows, channels: channels)
        let expected = Oracle.embeddingBackward(
            dOut: doubles(dOut), tokens: tokens, vocab: vocab, channels: channels)
        expectClose(dTable, zip(initial, expected).map { Double($0) + $1 }, "dTable")
    }

    @Test(arguments: shapes) func rmsNorm(rows: Int, channels: Int) {
        var rng = SplitMix64(seed: 11)
        let input = normals(rows * channels, &rng)
        let weight = normals(channels, &rng)
        var out = [Float](repeating: .nan, count: rows * channels)
        var rstd = [Float](repeating: .nan, count: rows)
        CPU.rmsNormForward(
            out: &out, rstd: &rstd, input: input, weight: weight, rows: rows, channels: channels)
        let forward = Oracle.rmsNormForward(
            input: doubles(input), weight: doubles(weight), rows: rows, channels: channels)
        expectClose(out, forward.out, "out")
        expectClose(rstd, forward.rstd, "rstd")

        let dOut = normals(rows * channels, &rng)
        let initialInput = normals(rows * channels, &rng)
        let initialWeight = normals(channels, &rng)
        var dInput = initialInput
        var dWeight = initialWeight
        CPU.rmsNormBackward(
            dInput: &dInput, dWeight: &dWeight, dOut: dOut, input: input, weight: weight,
            rstd: rstd, rows: rows, channels: channels)
        let grads = Oracle.rmsNormBackward(
            dOut: doubles(dOut), input: doubles(input), weight: doubles(weight), rows: rows,
            channels: channels)
        expectClose(dInput, zip(initialInput, grads.dInput).map { Double($0) + $1 }, "dInput")
        // dWeight sums over rows: allow the fp32 summation error of `rows` terms.
        expectClose(
            dWeight, zip(initialWeight, grads.dWeight).map { Double($0) + $1 },
            atol: 1e-5 * Double(rows).squareRoot(), "dWeight")
    }

    @Test(arguments: [true, false]) func matmul(withBias: Bool) {
        var rng = SplitMix64(seed: 12)
        let (rows, inputs, outputs) = (5, 7, 3)
        let input = normals(rows * inputs, &rng)
        let weight = normals(outputs * inputs, &rng)
        let bias = normals(outputs, &rng)
        var out = [Float](repeating: .nan, count: rows * outputs)
        if withBias {
            CPU.matmulForward(
                out: &out, input: input, weight: weight, bias: bias, rows: rows,
                inputChannels: inputs, outputChannels: outputs)
        } else {
            CPU.matmulForward(
                out: &out, input: input, weight: weight, bias: nil, rows: rows,
                inputChannels: inputs, outputChannels: outputs)
        }
        let expectedOut = Oracle.matmulForward(
            input: doubles(input), weight: doubles(weight), bias: withBias ? doubles(bias) : nil,
            rows: rows, inputChannels: inputs, outputChannels: outputs)
        expectClose(out, expectedOut, "out")

        let dOut = normals(rows * outputs, &rng)
        let initialInput = normals(rows * inputs, &rng)
        let initialWeight = normals(outputs * inputs, &rng)
        let initialBias = normals(outputs, &rng)
        var dInput = initialInput
        var dWeight = initialWeight
        var dBias = initialBias
        let grads = Oracle.matmulBackward(
            dOut: doubles(dOut), input: doubles(input), weight: doubles(weight), rows: rows,
            inputChannels: inputs, outputChannels: outputs)
        if withBias {
            CPU.matmulBackward(
                dInput: &dInput, dWeight: &dWeight, dBias: &dBias, dOut: dOut, input: input,
                weight: weight, rows: rows, inputChannels: inputs, outputChannels: outputs)
            expectClose(dBias, zip(initialBias, grads.dBias).map { Double($0) + $1 }, "dBias")
            expectClose(dInput, zip(initialInput, grads.dInput).map { Double($0) + $1 }, "dInput")
        } else {
            // Both optional outputs skipped: they must stay untouched.
            CPU.matmulBackward(
                dInput: nil, dWeight: &dWeight, dBias: nil, dOut: dOut, input: input,
                weight: weight, rows: rows, inputChannels: inputs, outputChannels: outputs)
            #expect(dInput == initialInput && dBias == initialBias)
        }
        expectClose(dWeight, zip(initialWeight, grads.dWeight).map { Double($0) + $1 }, "dWeight")
    }

    @Test(arguments: [(3, 2, 8), (600, 2, 16)]) func rope(rows: Int, heads: Int, headDim: Int) {
        var rng = SplitMix64(seed: 13)
        // Long positions included: the angles are where fp32 would drift.
        let positions = (0..<rows).map { _ in Int32(rng.next() % 5000) }
        let x = normals(rows * heads * headDim, &rng)
        var rotated = x
        CPU.rope(
            &rotated, positions: positions, rows: rows, heads: heads, headDim: headDim,
            rotary: RotaryEmbedding(theta: 10000), direction: .forward)
        let expected = Oracle.ropeForward(
            doubles(x), positions: positions, heads: heads, headDim: headDim, theta: 10000)
        expectClose(rotated, expected, "rope forward")

        let dOut = normals(x.count, &rng)
        var dX = dOut
        CPU.rope(
            &dX, positions: positions, rows: rows, heads: heads, headDim: headDim,
            rotary: RotaryEmbedding(theta: 10000), direction: .backward)
        let expectedDX = Oracle.ropeBackward(
            doubles(dOut), positions: positions, heads: heads, headDim: headDim, theta: 10000)
        expectClose(dX, expectedDX, "rope backward")
    }

    @Test(arguments: [9, 20000]) func swiglu(count: Int) {
        var rng = SplitMix64(seed: 14)
        let gate = normals(count, &rng, scale: 3)
        let up = normals(count, &rng)
        var out = [Float](repeating: .nan, count: count)
        CPU.swigluForward(out: &out, gate: gate, up: up, count: count)
        expectClose(out, Oracle.swigluForward(gate: doubles(gate), up: doubles(up)), "out")

        let dOut = normals(count, &rng)
        // Garbage in the outputs: they are overwritten, not accumulated.
        var dGate = [Float](repeating: 7, count: count)
        var dUp = [Float](repeating: 7, count: count)
        CPU.swigluBackward(dGate: &dGate, dUp: &dUp, dOut: dOut, gate: gate, up: up, count: count)
        let grads = Oracle.swigluBackward(dOut: doubles(dOut), gate: doubles(gate), up: doubles(up))
        expectClose(dGate, grads.dGate, "dGate")
        expectClose(dUp, grads.dUp, "dUp")
    }

    @Test(arguments: [(4, 7), (70, 259)]) func crossEntropy(rows: Int, vocab: Int) {
        var rng = SplitMix64(seed: 15)
        let logits = normals(rows * vocab, &rng, scale: 3)
        // Every third row is ignored (target -1).
        let targets = (0..<rows).map { n in n % 3 == 1 ? -1 : Int32(rng.next() % UInt64(vocab)) }
        let rowScale = (0..<rows).map { _ in Float(rng.nextUniform()) }
        var losses = [Float](repeating: .nan, count: rows)
        CPU.crossEntropyForward(
            losses: &losses, logits: logits, targets: targets, rows: rows, vocab: vocab)
        let expected = Oracle.crossEntropyForward(
            logits: doubles(logits), targets: targets, rows: rows, vocab: vocab)
        expectClose(losses, expected, "losses")

        var dLogits = [Float](repeating: .nan, count: rows * vocab)
        CPU.crossEntropyBackward(
            dLogits: &dLogits, logits: logits, targets: targets, rowScale: rowScale, rows: rows,
            vocab: vocab)
        let expectedD = Oracle.crossEntropyBackward(
            logits: doubles(logits), targets: targets, rowScale: doubles(rowScale), rows: rows,
            vocab: vocab)
        expectClose(dLogits, expectedD, "dLogits")
    }

    @Test(arguments: [10, 70000]) func elementwise(count: Int) {
        var rng = SplitMix64(seed: 16)
        let a = normals(count, &rng)
        let b = normals(count, &rng)
        var sum = [Float](repeating: .nan, count: count)
        CPU.add(out: &sum, a, b, count: count)
        #expect(sum == zip(a, b).map { $0 + $1 })

        var accumulated = a
        CPU.accumulate(&accumulated, b, count: count)
        #expect(accumulated == sum)

        var scaled = a
        CPU.scale(&scaled, by: 0.5, count: count)
        #expect(scaled == a.map { $0 * 0.5 })

        let squares = CPU.sumOfSquares(a, count: count)
        let expected = a.reduce(0.0) { $0 + Double($1) * Double($1) }
        #expect(abs(squares - expected) <= 1e-12 * expected)
    }
}

// MARK: - Properties

@Suite struct BasicOpsPropertyTests {
    /// ropeBackward undoes ropeForward (rotations are orthogonal), and it is the transpose:
    /// <R, rope(x)> == <ropeBackward(R), x>.
    @Test func ropeBackwardIsInverseTranspose() {
        var rng = SplitMix64(seed: 20)
        let (rows, heads, headDim) = (5, 3, 10)
        let positions = (0..<rows).map { _ in Int32(rng.next() % 2000) }
        let x = normals(rows * heads * headDim, &rng)
        var roundTrip = x
        CPU.rope(
            &roundTrip, positions: positions, rows: rows, heads: heads, headDim: headDim,
            rotary: RotaryEmbedding(theta: 500), direction: .forward)
        #expect(roundTrip != x)
        CPU.rope(
            &roundTrip, positions: positions, rows: rows, heads: heads, headDim: headDim,
            rotary: RotaryEmbedding(theta: 500), direction: .backward)
        expectClose(roundTrip, doubles(x), atol: 1e-6, rtol: 0, "round trip")

        let cotangent = normals(x.count, &rng)
        var rotated = x
        CPU.rope(
            &rotated, positions: positions, rows: rows, heads: heads, headDim: headDim,
            rotary: RotaryEmbedding(theta: 500), direction: .forward)
        var pulledBack = cotangent
        CPU.rope(
            &pulledBack, positions: positions, rows: rows, heads: heads, headDim: headDim,
            rotary: RotaryEmbedding(theta: 500), direction: .backward)
        let left = dot(doubles(rotated), doubles(cotangent))
        let right = dot(doubles(pulledBack), doubles(x))
        #expect(abs(left - right) <= 1e-5 * Double(x.count).squareRoot())
    }

    /// Three AdamW steps (with weight decay) against the same steps written out in Double.
    @Test func adamWThreeSteps() {
        var rng = SplitMix64(seed: 21)
        let count = 11
        var parameters = normals(count, &rng)
        var m = [Float](repeating: 0, count: count)
        var v = [Float](repeating: 0, count: count)
        var expectedParameters = doubles(parameters)
        var expectedM = [Double](repeating: 0, count: count)
        var expectedV = [Double](repeating: 0, count: count)
        let (lr, beta1, beta2, eps, wd): (Float, Float, Float, Float, Float) =
            (1e-2, 0.9, 0.95, 1e-8, 0.1)
        for step in 1...3 {
            let gradients = normals(count, &rng, scale: 0.1)
            CPU.adamWUpdate(
                parameters: &parameters, gradients: gradients, m: &m, v: &v, count: count,
                learningRate: lr, beta1: beta1, beta2: beta2, epsilon: eps, weightDecay: wd,
                step: step)
            // Hand-written torch.optim.AdamW step in Double.
            for i in 0..<count {
                let g = Double(gradients[i])
                expectedParameters[i] -= Double(lr) * Double(wd) * expectedParameters[i]
                expectedM[i] = Double(beta1) * expectedM[i] + (1 - Double(beta1)) * g
                expectedV[i] = Double(beta2) * expectedV[i] + (1 - Double(beta2)) * g * g
                let mHat = expectedM[i] / (1 - pow(Double(beta1), Double(step)))
                let vHat = expectedV[i] / (1 - pow(Double(beta2), Double(step)))
                expectedParameters[i] -= Double(lr) * mHat / (vHat.squareRoot() + Double(eps))
            }
        }
        expectClose(parameters, expectedParameters, atol: 1e-6, rtol: 1e-5, "parameters")
        expectClose(m, expectedM, atol: 1e-7, rtol: 1e-5, "m")
        expectClose(v, expectedV, atol: 1e-9, rtol: 1e-5, "v")
        // The oracle's AdamW agrees with the hand-written steps (same inputs, one step).
        var oracleParameters = [1.0, -2.0]
        var oracleM = [0.0, 0.0]
        var oracleV = [0.0, 0.0]
        Oracle.adamWUpdate(
            parameters: &oracleParameters, gradients: [0.5, -0.25], m: &oracleM, v: &oracleV,
            learningRate: 0.1, beta1: 0.9, beta2: 0.95, epsilon: 0, weightDecay: 0, step: 1)
        // First step without decay or eps moves each parameter by -lr * sign(g).
        #expect(abs(oracleParameters[0] - 0.9) < 1e-12 && abs(oracleParameters[1] + 1.9) < 1e-12)
    }

    /// Calling a backward twice accumulates twice: dWeight doubles.
    @Test func backwardsAccumulate() {
        var rng = SplitMix64(seed: 22)
        let (rows, channels, outputs, vocab) = (6, 9, 4, 5)
        let input = normals(rows * channels, &rng)
        let weight = normals(channels, &rng)
        let dOut = normals(rows * channels, &rng)
        var out = [Float](repeating: 0, count: rows * channels)
        var rstd = [Float](repeating: 0, count: rows)
        CPU.rmsNormForward(
            out: &out, rstd: &rstd, input: input, weight: weight, rows: rows, channels: channels)
        var dInput = [Float](repeating: 0, count: rows * channels)
        var once = [Float](repeating: 0, count: channels)
        CPU.rmsNormBackward(
            dInput: &dInput, dWeight: &once, dOut: dOut, input: input, weight: weight,
            rstd: rstd, rows: rows, channels: channels)
        var twice = [Float](repeating: 0, count: channels)
        for _ in 0..<2 {
            CPU.rmsNormBackward(
                dInput: &dInput, dWeight: &twice, dOut: dOut, input: input, weight: weight,
                rstd: rstd, rows: rows, channels: channels)
        }
        expectClose(twice, once.map { 2 * Double($0) }, atol: 1e-6, rtol: 1e-5, "rmsnorm dWeight")

        let matrix = normals(outputs * channels, &rng)
        let dLinear = normals(rows * outputs, &rng)
        var dMatrixOnce = [Float](repeating: 0, count: outputs * channels)
        var dMatrixTwice = dMatrixOnce
        var dBiasOnce = [Float](repeating: 0, count: outputs)
        var dBiasTwice = dBiasOnce
        CPU.matmulBackward(
            dInput: nil, dWeight: &dMatrixOnce, dBias: &dBiasOnce, dOut: dLinear, input: input,
            weight: matrix, rows: rows, inputChannels: channels, outputChannels: outputs)
        for _ in 0..<2 {
            CPU.matmulBackward(
                dInput: nil, dWeight: &dMatrixTwice, dBias: &dBiasTwice, dOut: dLinear,
                input: input, weight: matrix, rows: rows, inputChannels: channels,
                outputChannels: outputs)
        }
        expectClose(
            dMatrixTwice, dMatrixOnce.map { 2 * Double($0) }, atol: 1e-6, rtol: 1e-5,
            "matmul dWeight")
        expectClose(dBiasTwice, dBiasOnce.map { 2 * Double($0) }, atol: 1e-6, rtol: 1e-5, "dBias")

        let tokens = (0..<rows).map { _ in Int32(rng.next() % UInt64(vocab)) }
        var tableOnce = [Float](repeating: 0, count: vocab * channels)
        var tableTwice = tableOnce
        CPU.embeddingBackward(
            dTable: &tableOnce, dOut: dOut, tokens: tokens, rows: rows, channels: channels)
        for _ in 0..<2 {
            CPU.embeddingBackward(
                dTable: &tableTwice, dOut: dOut, tokens: tokens, rows: rows, channels: channels)
        }
        expectClose(
            tableTwice, tableOnce.map { 2 * Double($0) }, atol: 1e-6, rtol: 1e-5, "dTable")
    }

    /// The reductions give bit-identical results with 1 and 2 threads (shapes large enough to
    /// take the parallel paths, several channel blocks, repeated tokens).
    @Test func threadCountInvariance() {
        var rng = SplitMix64(seed: 23)
        let (rows, channels, vocab) = (200, 150, 6)
        let input = normals(rows * channels, &rng)
        let weight = normals(channels, &rng)
        let dOut = normals(rows * channels, &rng)
        let tokens = (0..<rows).map { _ in Int32(rng.next() % UInt64(vocab)) }
        var rstd = [Float](repeating: 0, count: rows)
        var out = [Float](repeating: 0, count: rows * channels)
        CPU.rmsNormForward(
            out: &out, rstd: &rstd, input: input, weight: weight, rows: rows, channels: channels)

        func run(threads: Int) -> (dInput: [Float], dWeight: [Float], dTable: [Float]) {
            Threads.set(threads)
            defer { Threads.set(nil) }
            var dInput = [Float](repeating: 0.5, count: rows * channels)
            var dWeight = [Float](repeating: 0.25, count: channels)
            CPU.rmsNormBackward(
                dInput: &dInput, dWeight: &dWeight, dOut: dOut, input: input, weight: weight,
                rstd: rstd, rows: rows, channels: channels)
            var dTable = [Float](repeating: 0.125, count: vocab * channels)
            CPU.embeddingBackward(
                dTable: &dTable, dOut: dOut, tokens: tokens, rows: rows, channels: channels)
            return (dInput, dWeight, dTable)
        }
        let serial = run(threads: 1)
        let parallel = run(threads: 2)
        #expect(serial.dInput == parallel.dInput)
        #expect(serial.dWeight == parallel.dWeight)
        #expect(serial.dTable == parallel.dTable)
        let large = normals(50000, &rng)
        Threads.set(1)
        let squaresSerial = CPU.sumOfSquares(large, count: large.count)
        Threads.set(2)
        let squaresParallel = CPU.sumOfSquares(large, count: large.count)
        Threads.set(nil)
        #expect(squaresSerial == squaresParallel)
    }

    /// BLAS reports its threads and names the library. (Its thread count is not changed here:
    /// doing so while other tests of this process run GEMMs is a race inside OpenBLAS.)
    @Test func blasReportsItsConfiguration() {
        #expect(BLAS.threads >= 1)
        #expect(BLAS.configuration.contains("OpenBLAS"))
    }
}
