/// A contiguous, row-major fp32 tensor in host memory.
///
/// A tensor either owns its storage (allocated zeroed, 64-byte aligned, freed on deinit) or is a
/// view into another tensor's storage (an arena slice), in which case it keeps that owner alive.
public final class Tensor: @unchecked Sendable {
    /// Dimensions, outermost first.
    public let shape: [Int]
    /// Number of elements (product of `shape`).
    public let count: Int
    /// First element. Valid for `count` elements while this tensor is alive.
    public let data: UnsafeMutablePointer<Float>
    /// The tensor whose storage this one views; nil when this tensor owns its storage.
    private let owner: Tensor?

    /// Allocates a zero-filled tensor.
    public init(shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        raw.initializeMemory(as: Float.self, repeating: 0, count: max(count, 1))
        self.data = raw.assumingMemoryBound(to: Float.self)
        self.owner = nil
    }

    /// Creates a tensor holding a copy of `values`.
    public convenience init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { data.update(from: base, count: count) }
        }
    }

    /// A view of `shape.product` elements of `owner`, starting at element `offset`.
    public init(viewing owner: Tensor, offset: Int, shape: [Int]) {
        let count = shape.reduce(1, *)
        precondition(offset >= 0 && offset + count <= owner.count, "view out of bounds")
        self.shape = shape
        self.count = count
        self.data = owner.data + offset
        self.owner = owner
    }

    deinit {
        if owner == nil { UnsafeMutableRawPointer(data).deallocate() }
    }

    /// The elements as a buffer pointer.
    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: data, count: count)
    }

    /// Sets every element to zero.
    public func zero() { data.update(repeating: 0, count: count) }

    /// Copies all elements of `other`, which must have the same element count.
    public func copy(from other: Tensor) {
        precondition(other.count == count, "copy of \(other.shape) into \(shape)")
        data.update(from: other.data, count: count)
    }

    /// The elements as an array (for tests and serialisation).
    public func toArray() -> [Float] { Array(buffer) }

    /// A new tensor with the same elements and another shape of equal element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(viewing: owner ?? self, offset: data - (owner ?? self).data, shape: newShape)
    }

    /// Element `index` (flat, row-major).
    public subscript(index: Int) -> Float {
        get { data[index] }
        set { data[index] = newValue }
    }
}
