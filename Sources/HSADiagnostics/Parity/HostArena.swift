/// Host buffers for the CPU side, freed together when the suite ends.
final class HostArena {
    private var floatBlocks: [UnsafeMutableBufferPointer<Float>] = []
    private var intBlocks: [UnsafeMutableBufferPointer<Int32>] = []

    deinit {
        for block in floatBlocks { block.deallocate() }
        for block in intBlocks { block.deallocate() }
    }

    /// Zero-filled Floats.
    func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
        copy([Float](repeating: 0, count: count))
    }

    /// A mutable copy of `values`.
    func copy(_ values: [Float]) -> UnsafeMutablePointer<Float> {
        let block = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(values.count, 1))
        _ = block.initialize(from: values)
        floatBlocks.append(block)
        return block.baseAddress ?? UnsafeMutablePointer<Float>.allocate(capacity: 1)
    }

    /// A copy of `values`.
    func ints(_ values: [Int32]) -> UnsafeMutablePointer<Int32> {
        let block = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(values.count, 1))
        _ = block.initialize(from: values)
        intBlocks.append(block)
        return block.baseAddress ?? UnsafeMutablePointer<Int32>.allocate(capacity: 1)
    }
}
