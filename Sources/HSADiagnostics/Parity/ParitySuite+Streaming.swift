import Foundation
import HSACPU
import HSACUDA
import HSACore
import HSAInference
import HSAModel
import HSAReport

// MARK: - Streaming inference

/// One streamed-prefill parity case: a config, a prompt length, a block size, the key/value
/// precision, and whether the device store's budget is 0 (every record spilled to host memory).
struct StreamingCase {
    var label: String
    var config: ModelConfig
    var length: Int
    var block: Int
    var precision: KVPrecision
    var spill: Bool
}

extension ParitySuite {
    /// CPU vs GPU `StreamingSession`: logits after the prefill and after 3 decode steps
    /// (relative L2), and the chunks each HSA layer's last row selected (identical).
    mutating func streamingParity(gpu: CUDAManagedBackend) throws {
        var tiny = ModelConfig.tiny
        tiny.vocabSize = 97
        func variant(_ name: String, _ change: (inout ModelConfig) -> Void) -> (
            String, ModelConfig
        ) {
            var config = tiny
            change(&config)
            return (name, config)
        }
        var cases: [StreamingCase] = []
        for (name, config) in [
            variant("default") { _ in },
            variant("fusion softmax") { $0.fusion = .softmax },
            variant("fusion joint") { $0.fusion = .joint },
            variant("per_chunk") { $0.retrieval = .perChunk },
            variant("qk_norm off") { $0.qkNorm = false },
            // dense attention over the whole cache, YaRN's frequencies from the host's table
            variant("full YaRN x8") {
                $0.attention = .full
                $0.yarn = YaRNScaling(factor: 8, originalLength: 64)
            },
        ] {
            cases.append(
                StreamingCase(
                    label: "tiny \(name)", config: config, length: 301, block: 64,
                    precision: .fp32, spill: false))
        }
        cases.append(
            StreamingCase(
                label: "tiny bf16", config: tiny, length: 301, block: 64, precision: .bf16,
                spill: false))
        cases.append(
            StreamingCase(
                label: "tiny bf16 spilled", config: tiny, length: 301, block: 100,
                precision: .bf16, spill: true))
        // K past 32 (two list slots a lane) over more chunks than K: 87 chunks of 8.
        for (name, config) in [
            variant("top_k 64") { $0.topK = 64 },
            variant("top_k 40 softmax") {
                $0.topK = 40
                $0.fusion = .softmax
            },
        ] {
            cases.append(
                StreamingCase(
                    label: "tiny \(name)", config: config, length: 700, block: 256,
                    precision: .fp32, spill: false))
        }
        var small = ModelConfig.small
        small.vocabSize = 512
        cases.append(
            StreamingCase(
                label: "small", config: small, length: 2600, block: 1024, precision: .fp32,
                spill: false))
        for item in cases { try streamingCase(item, gpu: gpu) }
    }

    private mutating func streamingCase(_ c: StreamingCase, gpu: CUDAManagedBackend) throws {
        var tokenRng = SplitMix64(seed: rng.next())
        let vocab = UInt64(c.config.vocabSize)
        let tokens = (0..<c.length).map { _ in Int32(tokenRng.next() % vocab) }
        let decoded = (0..<3).map { _ in Int32(tokenRng.next() % vocab) }
        let previous = ComputeBackends.current
        defer { ComputeBackends.current = previous }
        ComputeBackends.current = CPUBackend.shared
        let cpu = try Self.stream(c, tokens: tokens, decoded: decoded)
        ComputeBackends.current = gpu
        if c.spill { setenv(HSAEnvironment.kvDeviceBytes.rawValue, "0", 1) }
        defer { if c.spill { unsetenv(HSAEnvironment.kvDeviceBytes.rawValue) } }
        let device = try Self.stream(c, tokens: tokens, decoded: decoded)
        ComputeBackends.current = previous
        let label = "stream \(c.label) T=\(c.length) block \(c.block) \(c.precision.rawValue)"
        let before = rows.count
        for (step, (a, b)) in zip(cpu.logits, device.logits).enumerated() {
            let (relative, absolute) = Self.errors(a, b)
            let tolerance = c.precision == .bf16 ? 1e-2 : Self.modelNorm
            rows.append(
                ParityRow(
                    op: "\(label) logits \(step == 0 ? "prefill" : "decode \(step)")",
                    count: a.count, maxAbsolute: absolute, maxRelative: relative, atol: 0,
                    rtol: tolerance, failures: relative <= tolerance ? 0 : 1))
        }
        let expected = cpu.selections.flatMap { $0 }
        let actual = device.selections.flatMap { $0 }
        var mismatches = expected.count == actual.count ? 0 : max(expected.count, 1)
        for (a, b) in zip(expected, actual) where a != b { mismatches += 1 }
        rows.append(
            ParityRow(
                op: "\(label) selected chunks (\(expected.count))", count: expected.count,
                maxAbsolute: Double(mismatches), maxRelative: 0, atol: 0, rtol: 0,
                failures: mismatches))
        printRows(from: before)
    }

    /// Prefill in blocks, logits, 3 decode steps, on the current backend; the selections are
    /// those of the prefill's last position (after the upper rebuild).
    private static func stream(_ c: StreamingCase, tokens: [Int32], decoded: [Int32]) throws -> (
        logits: [[Float]], selections: [[Int32]]
    ) {
        let model = LanguageModel(config: c.config, seed: 7)
        let session = try StreamingSession(
            model: model, precision: c.precision, maxBlock: c.block)
        session.recordsSelections = true
        var start = 0
        while start < tokens.count {
            let n = min(c.block, tokens.count - start)
            try session.prefill(tokens: Array(tokens[start..<(start + n)]))
            start += n
        }
        var logits = [try session.logits()]
        let selections = session.lastSelections
        for token in decoded { logits.append(try session.decodeNext(token: token)) }
        return (logits, selections)
    }
}
