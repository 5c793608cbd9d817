import Foundation
import HSACPU
import HSACore
import Testing

/// The small ops of the Mamba2 block (Mamba2Ops.swift): each backward against central
/// differences of its forward, for every input and parameter element, with loss Σ dOut · out.
@Suite struct Mamba2OpsTests {
    static func random(_ count: Int, _ rng: inout SplitMix64, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in Float(2 * rng.nextUniform() - 1) * scale }
    }

    /// Every element of every tensor in `values`: the analytic gradient `analytic[t][i]` must
    /// match (loss(+h) - loss(-h)) / 2h with one Richardson step.
    static func expectMatchesDifferences(
        _ values: [[Float]], analytic: [[Float]], name: String,
        loss: ([[Float]]) -> Double
    ) {
        var failures: [String] = []
        var checked = 0
        for t in values.indices {
            for i in values[t].indices {
                func difference(_ h: Float) -> Double {
                    var plus = values
                    plus[t][i] += h
                    var minus = values
                    minus[t][i] -= h
                    return (loss(plus) - loss(minus)) / Double(2 * h)
                }
                let numeric = (4 * difference(5e-3) - difference(1e-2)) / 3
                let expected = Double(analytic[t][i])
                if abs(numeric - expected) > 2e-3 + 1e-2 * abs(expected) {
                    failures.append("\(name)[\(t)][\(i)]: analytic \(expected) numeric \(numeric)")
                }
                if abs(expected) > 1e-3 { checked += 1 }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5).joined(separator: "; "))")
        #expect(checked > values.map(\.count).reduce(0, +) / 2, "\(name): gradients mostly zero")
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    @Test func causalConv1dBackwardMatchesDifferences() {
        let (batch, length, channels, kernel) = (2, 7, 3, 4)
        var rng = SplitMix64(seed: 1)
        let n = batch * length * channels
        let input = Self.random(n, &rng)
        let weight = Self.random(channels * kernel, &rng)
        let bias = Self.random(channels, &rng)
        let dOut = Self.random(n, &rng)
        func forward(_ v: [[Float]]) -> [Float] {
            var out = [Float](repeating: 0, count: n)
            CPU.causalConv1dForward(
                out: &out, input: v[0], weight: v[1], bias: v[2], batch: batch, length: length,
                channels: channels, kernel: kernel)
            return out
        }
        // Causal: out at t never reads input after t.
        var later = [input, weight, bias]
        later[0][(length - 1) * channels] += 5  // batch 0, last token, channel 0
        let (a, b) = (forward([input, weight, bias]), forward(later))
        #expect(a[0..<((length - 1) * channels)] == b[0..<((length - 1) * channels)])
        #expect(a[(length - 1) * channels] != b[(length - 1) * channels])

        var dInput = [Float](repeating: 7, count: n)  // overwritten
        var dWeight = [Float](repeating: 0, count: channels * kernel)
        var dBias = [Float](repeating: 0, count: channels)
        CPU.causalConv1dBackward(
            dInput: &dInput, dWeight: &dWeight, dBias: &dBias, dOut: dOut, input: input,
            weight: weight, batch: batch, length: length, channels: channels, kernel: kernel)
        Self.expectMatchesDifferences(
            [input, weight, bias], analytic: [dInput, dWeight, dBias], name: "conv"
        ) { Self.dot(forward($0), dOut) }
    }

    @Test func siluBackwardMatchesDifferences() {
        var rng = SplitMix64(seed: 2)
        let input = Self.random(20, &rng, scale: 4)
        let dOut = Self.random(20, &rng)
        var dInput = [Float](repeating: 0, count: 20)
        CPU.siluBackward(dInput: &dInput, dOut: dOut, input: input, count: 20)
        Self.expectMatchesDifferences([input], analytic: [dInput], name: "silu") { v in
            var out = [Float](repeating: 0, count: 20)
            CPU.siluForward(out: &out, input: v[0], count: 20)
            return Self.dot(out, dOut)
        }
    }

    /// dt = softplus(raw + bias) with raw read at a row stride (in_proj's last H columns).
    @Test func softplusBackwardMatchesDifferences() {
        let (rows, heads, stride) = (5, 3, 4)
        var rng = SplitMix64(seed: 3)
        let raw = Self.random(rows * stride, &rng, scale: 3)
        let bias = Self.random(heads, &rng, scale: 2)
        let dOut = Self.random(rows * heads, &rng)
        var dRaw = [Float](repeating: 0, count: rows * stride)
        var dBias = [Float](repeating: 0, count: heads)
        CPU.softplusBackward(
            dRaw: &dRaw, rawStride: stride, dBias: &dBias, dOut: dOut, raw: raw, bias: bias,
            rows: rows, heads: heads)
        // The column outside the H heads gets no gradient: check it is untouched, then drop it.
        #expect((0..<rows).allSatisfy { dRaw[$0 * stride + heads] == 0 })
        Self.expectMatchesDifferences([raw, bias], analytic: [dRaw, dBias], name: "softplus") {
            v in
            var out = [Float](repeating: 0, count: rows * heads)
            CPU.softplusForward(
                out: &out, raw: v[0], rawStride: stride, bias: v[1], rows: rows, heads: heads)
            #expect(out.allSatisfy { $0 > 0 })
            return Self.dot(out, dOut)
        }
    }

    @Test(arguments: [6, 3])  // one group, two groups
    func gatedRMSNormBackwardMatchesDifferences(groupSize: Int) {
        let (rows, channels) = (4, 6)
        var rng = SplitMix64(seed: 4)
        let y = Self.random(rows * channels, &rng, scale: 2)
        let z = Self.random(rows * channels, &rng, scale: 2)
        let weight = (0..<channels).map { _ in Float(0.5 + rng.nextUniform()) }
        let dOut = Self.random(rows * channels, &rng)
        func forward(_ v: [[Float]]) -> [Float] {
            var out = [Float](repeating: 0, count: rows * channels)
            var rstd = [Float](repeating: 0, count: rows * channels / groupSize)
            CPU.gatedRMSNormForward(
                out: &out, rstd: &rstd, y: v[0], z: v[1], weight: v[2], rows: rows,
                channels: channels, groupSize: groupSize, eps: 1e-5)
            return out
        }
        var rstd = [Float](repeating: 0, count: rows * channels / groupSize)
        var out = [Float](repeating: 0, count: rows * channels)
        CPU.gatedRMSNormForward(
            out: &out, rstd: &rstd, y: y, z: z, weight: weight, rows: rows, channels: channels,
            groupSize: groupSize, eps: 1e-5)
        var dY = [Float](repeating: 0, count: rows * channels)
        var dZ = [Float](repeating: 0, count: rows * channels)
        var dWeight = [Float](repeating: 0, count: channels)
        CPU.gatedRMSNormBackward(
            dY: &dY, dZ: &dZ, dWeight: &dWeight, dOut: dOut, y: y, z: z, weight: weight,
            rstd: rstd, rows: rows, channels: channels, groupSize: groupSize)
        Self.expectMatchesDifferences(
            [y, z, weight], analytic: [dY, dZ, dWeight], name: "gated norm G=\(6 / groupSize)"
        ) { Self.dot(forward($0), dOut) }
    }
}
