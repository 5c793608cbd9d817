import HSACore

// Elementwise ops over flat fp32 buffers of `count` elements, plus the two parallel helpers the
// other op files of this module use.

// MARK: - Elementwise

extension CPU {
    /// `out = a + b`, elementwise over `count` elements. `out` may alias `a` or `b`.
    /// - Parameters:
    ///   - out: (count) result.
    ///   - a: (count) first addend.
    ///   - b: (count) second addend.
    ///   - count: number of elements.
    public static func add(
        out: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        count: Int
    ) {
        blockParallel(count: count, blockSize: cheapBlockSize) { range in
            for i in range { out[i] = a[i] + b[i] }
        }
    }

    /// `dst += src`, elementwise over `count` elements.
    /// - Parameters:
    ///   - dst: (count) accumulator, updated in place.
    ///   - src: (count) values to add.
    ///   - count: number of elements.
    public static func accumulate(
        _ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int
    ) {
        blockParallel(count: count, blockSize: cheapBlockSize) { range in
            for i in range { dst[i] += src[i] }
        }
    }

    /// `x *= factor`, elementwise over `count` elements.
    /// - Parameters:
    ///   - x: (count) values, scaled in place.
    ///   - factor: the multiplier.
    ///   - count: number of elements.
    public static func scale(_ x: UnsafeMutablePointer<Float>, by factor: Float, count: Int) {
        blockParallel(count: count, blockSize: cheapBlockSize) { range in
            for i in range { x[i] *= factor }
        }
    }

    /// The sum of squares of `count` fp32 values, accumulated in Double (for gradient norms).
    ///
    /// The order is fixed: blocks of `reductionBlockSize` elements are summed separately, then
    /// the block sums are added in block order, so the result does not depend on the thread count.
    /// - Parameters:
    ///   - x: (count) values.
    ///   - count: number of elements.
    /// - Returns: `Σ x[i]^2` in Double.
    public static func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
        let blocks = (count + reductionBlockSize - 1) / reductionBlockSize
        if blocks == 0 { return 0 }
        var partials = [Double](repeating: 0, count: blocks)
        partials.withUnsafeMutableBufferPointer { partialBuffer in
            guard let sums = partialBuffer.baseAddress else { return }
            // Each block writes its own partial; the split over threads changes nothing.
            blockParallel(count: blocks, blockSize: 1, minimumCount: 4) { range in
                for block in range {
                    let start = block * reductionBlockSize
                    let end = min(start + reductionBlockSize, count)
                    sums[block] = sumOfSquaresSerial(x + start, count: end - start)
                }
            }
        }
        var total = 0.0
        for partial in partials { total += partial }
        return total
    }
}

// MARK: - Helpers

extension CPU {
    /// Elements per block for cheap elementwise ops split over threads.
    static let cheapBlockSize = 4096
    /// Elements per block of deterministic reductions (fixed: part of the numerics).
    static let reductionBlockSize = 4096
    /// Below this many elements of work, ops run on the calling thread: dispatching costs more.
    static let parallelThreshold = 16384

    /// Runs `body(range)` over contiguous ranges of `blockSize` elements covering `0..<count`,
    /// in parallel when `count` is large enough. Each range must write disjoint memory.
    /// `minimumCount` overrides the size below which it stays on the calling thread.
    static func blockParallel(
        count: Int, blockSize: Int, minimumCount: Int = parallelThreshold,
        _ body: (Range<Int>) -> Void
    ) {
        if count <= 0 { return }
        if count < minimumCount {
            body(0..<count)
            return
        }
        let blocks = (count + blockSize - 1) / blockSize
        HSACore.parallelFor(blocks) { block in
            let start = block * blockSize
            body(start..<min(start + blockSize, count))
        }
    }

    /// Runs `body(row)` for every row, in parallel when `rows * workPerRow` is large enough.
    /// Each row must write disjoint memory, so the results never depend on the thread count.
    static func rowParallel(_ rows: Int, workPerRow: Int, _ body: (Int) -> Void) {
        if rows <= 0 { return }
        if rows * max(workPerRow, 1) < parallelThreshold {
            for row in 0..<rows { body(row) }
            return
        }
        HSACore.parallelFor(rows, body)
    }

    /// Serial sum of squares in Double with four accumulators (breaks the add latency chain).
    static func sumOfSquaresSerial(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var s0 = 0.0
        var s1 = 0.0
        var s2 = 0.0
        var s3 = 0.0
        var i = 0
        while i + 4 <= count {
            let a = Double(x[i])
            let b = Double(x[i + 1])
            let c = Double(x[i + 2])
            let d = Double(x[i + 3])
            s0 += a * a
            s1 += b * b
            s2 += c * c
            s3 += d * d
            i += 4
        }
        while i < count {
            let a = Double(x[i])
            s0 += a * a
            i += 1
        }
        return (s0 + s1) + (s2 + s3)
    }

    /// Dot product of two fp32 rows with eight independent Float accumulators, in a fixed order.
    static func rowDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD8<Float>(repeating: 0)
        let rawA = UnsafeRawPointer(a)
        let rawB = UnsafeRawPointer(b)
        var i = 0
        while i + 8 <= count {
            let offset = i * MemoryLayout<Float>.stride
            let va = rawA.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            let vb = rawB.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            acc += va * vb
            i += 8
        }
        var tail: Float = 0
        while i < count {
            tail += a[i] * b[i]
            i += 1
        }
        return acc.sum() + tail
    }
}
