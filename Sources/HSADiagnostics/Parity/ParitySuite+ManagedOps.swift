import HSACPU
import HSACUDA
import HSACore

// Part of `hsa selftest --backend cuda`: the managed backend's elementwise ops, bitwise against
// the CPU backend's.

extension ParitySuite {
    /// add, accumulate, scale, sumOfSquares, sum, copy, zero of the managed backend against
    /// the CPU backend on managed tensors.
    mutating func managedOps(_ gpu: CUDAManagedBackend) {
        let count = 100_003
        let a = random(count)
        let b = random(count)
        let cpu = CPUBackend.shared
        let previous = ComputeBackends.current
        defer { ComputeBackends.current = previous }
        ComputeBackends.current = gpu
        let x = Tensor(shape: [count], values: a)
        let y = Tensor(shape: [count], values: b)
        let out = Tensor(shape: [count])
        var expected = [Float](repeating: 0, count: count)
        gpu.add(out: out.data, x.data, y.data, count: count)
        expected.withUnsafeMutableBufferPointer { e in
            guard let e = e.baseAddress else { return }
            cpu.add(out: e, a, b, count: count)
        }
        appendExact("managed add", out.toArray(), expected)
        gpu.accumulate(out.data, x.data, count: count)
        expected.withUnsafeMutableBufferPointer { e in
            guard let e = e.baseAddress else { return }
            cpu.accumulate(e, a, count: count)
        }
        appendExact("managed accumulate", out.toArray(), expected)
        gpu.scale(out.data, by: 0.37, count: count)
        expected.withUnsafeMutableBufferPointer { e in
            guard let e = e.baseAddress else { return }
            cpu.scale(e, by: 0.37, count: count)
        }
        appendExact("managed scale", out.toArray(), expected)
        let squares = gpu.sumOfSquares(out.data, count: count)
        let cpuSquares = expected.withUnsafeBufferPointer { e in
            e.baseAddress.map { cpu.sumOfSquares($0, count: count) } ?? 0
        }
        appendLossRow("managed sumOfSquares", [Float(cpuSquares)], [Float(squares)])
        let copied = Tensor(shape: [count])
        gpu.copy(copied.data + 1, out.data, count: count - 2)
        var expectedCopy = [Float](repeating: 0, count: count)
        for i in 0..<(count - 2) { expectedCopy[i + 1] = expected[i] }
        appendExact("managed copy (offset 1)", copied.toArray(), expectedCopy)
        gpu.zero(copied.data + 5, count: 100)
        for i in 5..<105 { expectedCopy[i] = 0 }
        appendExact("managed zero (offset 5)", copied.toArray(), expectedCopy)
    }

    /// Bitwise comparison (elementwise fp32 ops round identically on both sides).
    mutating func appendExact(_ op: String, _ actual: [Float], _ expected: [Float]) {
        var row = ParityRow(
            op: op, count: expected.count, maxAbsolute: 0, maxRelative: 0, atol: 0, rtol: 0,
            failures: 0)
        for (a, e) in zip(actual, expected) {
            let error = abs(Double(a) - Double(e))
            if !(error == 0) { row.failures += 1 }
            row.maxAbsolute = max(row.maxAbsolute, error.isNaN ? .infinity : error)
        }
        rows.append(row)
    }
}
