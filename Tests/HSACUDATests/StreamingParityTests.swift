import Foundation
import HSA
import HSATestSupport
import Testing

// A streamed prefill on the GPU (`StreamingAccelerator`) against the CPU; skipped without CUDA.
// (`hsa selftest --backend cuda` runs every fusion, per_chunk, bf16, spilling and `small`.)

@Suite(.enabled(if: CUDA.isAvailable, "needs a CUDA driver and GPU"), .serialized)
struct StreamingParityTests {
    @Test func tinyStreamedPrefillMatchesCPU() throws {
        let gpu = try CUDAManagedBackend(device: try CUDADevice(), fallback: CPUBackend.shared)
        var rng = SplitMix64(seed: 5)
        let tokens = (0..<157).map { _ in Int32(rng.next() % 259) }
        func run() throws -> ([Float], [[Int32]]) {
            let session = try StreamingSession(
                model: LanguageModel(config: .tiny, seed: 1), maxBlock: 40)
            session.recordsSelections = true
            try session.prefill(tokens: tokens)
            return (try session.logits(), session.lastSelections)
        }
        let previous = ComputeBackends.current
        defer { ComputeBackends.current = previous }
        ComputeBackends.current = CPUBackend.shared
        let (cpuLogits, cpuSelections) = try run()
        ComputeBackends.current = gpu
        let (gpuLogits, gpuSelections) = try run()
        #expect(gpuSelections == cpuSelections)
        #expect(!cpuSelections.isEmpty)
        var difference = 0.0
        var reference = 0.0
        for (c, g) in zip(cpuLogits, gpuLogits) {
            difference += Double(g - c) * Double(g - c)
            reference += Double(c) * Double(c)
        }
        #expect(gpuLogits.count == cpuLogits.count)
        #expect((difference / reference).squareRoot() < 1e-3)
    }
}
