import Testing

@testable import HSACore

@Suite struct TensorTests {
    @Test func initViewsAndReshape() {
        let tensor = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        #expect(tensor.count == 6)
        let row = Tensor(viewing: tensor, offset: 3, shape: [3])
        #expect(row.toArray() == [4, 5, 6])
        row[0] = 40  // views share storage
        #expect(tensor[3] == 40)
        let reshaped = row.reshaped([3, 1])
        #expect(reshaped.shape == [3, 1] && reshaped.toArray() == [40, 5, 6])
        let copy = Tensor(shape: [6])
        copy.copy(from: tensor)
        tensor.zero()
        #expect(copy.toArray() == [1, 2, 3, 40, 5, 6] && tensor.toArray().allSatisfy { $0 == 0 })
        #expect(Tensor(shape: [0, 4]).count == 0 && Tensor(shape: []).count == 1)
    }
}

@Suite struct SplitMix64Tests {
    @Test func sameSeedSameStreamDifferentSeedDifferentStream() {
        var a = SplitMix64(seed: 42)
        var b = SplitMix64(seed: 42)
        var c = SplitMix64(seed: 43)
        let streamA = (0..<16).map { _ in a.next() }
        #expect(streamA == (0..<16).map { _ in b.next() })
        #expect(streamA != (0..<16).map { _ in c.next() })
        #expect(Set(streamA).count == 16)
        // Resuming from a stored state continues the same stream.
        var resumed = SplitMix64(seed: 0)
        resumed.state = a.state
        #expect(a.next() == resumed.next())
    }

    @Test func uniformAndNormalMoments() {
        var rng = SplitMix64(seed: 7)
        let n = 10_000
        let uniforms = (0..<n).map { _ in rng.nextUniform() }
        #expect(uniforms.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(abs(uniforms.reduce(0, +) / Double(n) - 0.5) < 0.02)
        let normals = (0..<n).map { _ in rng.nextNormal() }
        let mean = normals.reduce(0, +) / Double(n)
        let variance = normals.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        // Standard errors: 0.01 for the mean, about 0.014 for the variance.
        #expect(abs(mean) < 0.05)
        #expect(abs(variance - 1) < 0.07)
        #expect(normals.allSatisfy { $0.isFinite })
    }
}
