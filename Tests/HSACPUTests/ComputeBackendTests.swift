import HSACPU
import HSACore
import HSATestSupport
import Testing

// The backend seam on the CPU: default tensor storage, and CPUBackend forwarding to CPU.*.

@Suite struct ComputeBackendTests {
    @Test func tensorsDefaultToZeroedHostMemory() {
        // No test sets ComputeBackends.current, so tensors use the host allocator.
        let tensor = Tensor(shape: [3, 5])
        #expect(tensor.allocator is HostAllocator || tensor.allocator is CPUBackend)
        #expect(tensor.toArray() == [Float](repeating: 0, count: 15))
        #expect(Int(bitPattern: tensor.data) % 64 == 0)
        let view = tensor.reshaped([15])
        #expect(view.allocator === tensor.allocator)
    }

    @Test func tensorCopyAndZeroGoThroughTheAllocator() {
        let source = Tensor(shape: [4], values: [1, 2, 3, 4])
        let target = Tensor(shape: [2, 2])
        target.copy(from: source)
        #expect(target.toArray() == [1, 2, 3, 4])
        target.zero()
        #expect(target.toArray() == [0, 0, 0, 0])
    }

    @Test func cpuBackendMatchesCPUOps() {
        var rng = SplitMix64(seed: 5)
        let (rows, channels) = (3, 7)
        let input = (0..<(rows * channels)).map { _ in Float(rng.nextNormal()) }
        let weight = (0..<channels).map { _ in Float(rng.nextNormal()) }
        var viaBackend = [Float](repeating: .nan, count: rows * channels)
        var viaCPU = viaBackend
        var rstdBackend = [Float](repeating: .nan, count: rows)
        var rstdCPU = rstdBackend
        CPUBackend.shared.rmsNormForward(
            out: &viaBackend, rstd: &rstdBackend, input: input, weight: weight, rows: rows,
            channels: channels, eps: 1e-6)
        CPU.rmsNormForward(
            out: &viaCPU, rstd: &rstdCPU, input: input, weight: weight, rows: rows,
            channels: channels)
        #expect(viaBackend == viaCPU)
        #expect(rstdBackend == rstdCPU)
        let values: [Float] = [1, -2, 3.5]
        #expect(CPUBackend.shared.sum(values, count: 3) == 2.5)
        #expect(CPUBackend.shared.sumOfSquares(values, count: 3) == 1 + 4 + 12.25)
    }

    @Test func sharedEnumsKeepTheirSpellings() {
        #expect(FusionKind.stickBreaking.rawValue == "stick_breaking")
        #expect(RetrievalGranularity.perChunk.rawValue == "per_chunk")
        #expect(AttentionMask.causal(window: 3) != .bidirectional)
    }
}
