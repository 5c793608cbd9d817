import Foundation
import HSA
import HSATestSupport
import Testing

// The whole tiny model on the CUDA managed backend against the CPU; skipped without CUDA.
// (`hsa selftest --backend cuda` runs every knob variant and the small preset.)

@Suite(.enabled(if: CUDA.isAvailable, "needs a CUDA driver and GPU"), .serialized)
struct ManagedBackendTests {
    @Test func tinyModelLossAndGradientsMatchCPU() throws {
        let gpu = try CUDAManagedBackend(device: try CUDADevice(), fallback: CPUBackend.shared)
        let (batch, length) = (2, 32)
        var rng = SplitMix64(seed: 3)
        let tokens = (0..<(batch * length)).map { _ in Int32(rng.next() % 259) }
        let targets = (0..<(batch * length)).map { _ in Int32(rng.next() % 259) }
        func run() -> (Float, [Float]) {
            let model = LanguageModel(config: .tiny, seed: 1)
            let pass = model.forward(
                tokens: tokens, targets: targets, batch: batch, sequenceLength: length)
            model.backward(pass)
            return (pass.loss, model.gradients.storage.toArray())
        }
        let previous = ComputeBackends.current
        defer { ComputeBackends.current = previous }
        ComputeBackends.current = CPUBackend.shared
        let (cpuLoss, cpuGradients) = run()
        ComputeBackends.current = gpu
        let (gpuLoss, gpuGradients) = run()
        #expect(abs(cpuLoss - gpuLoss) <= 1e-4 * abs(cpuLoss))
        var difference = 0.0
        var reference = 0.0
        for (c, g) in zip(cpuGradients, gpuGradients) {
            difference += Double(g - c) * Double(g - c)
            reference += Double(c) * Double(c)
        }
        #expect((difference / reference).squareRoot() < 1e-3)
    }
}
