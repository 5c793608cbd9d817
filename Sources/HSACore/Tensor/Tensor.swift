/// A contiguous, row-major fp32 tensor.
///
/// A tensor either owns its storage (allocated zeroed by `ComputeBackends.allocator` — 64-byte
/// aligned host memory by default, managed memory on a device backend — and freed on deinit by
/// the allocator that made it) or is a view into another tensor's storage (an arena slice), in
/// which case it keeps that owner alive. On a device backend, call `synchronize()` before the
/// host reads elements that device ops wrote.
public final class Tensor: @unchecked Sendable {
    /// Dimensions, outermost first.
    public let shape: [Int]
    /// Number of elements (product of `shape`).
    public let count: Int
    /// First element. Valid for `count` elements while this tensor is alive.
    public let data: UnsafeMutablePointer<Float>
    /// The tensor whose storage this one views; nil when this tensor owns its storage.
    private let owner: Tensor?
    /// Where the storage came from (a view uses its owner's).
    public let allocator: any TensorAllocator

    /// Allocates a zero-filled tensor.
    public init(shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        let allocator = ComputeBackends.allocator
        self.allocator = allocator
        self.data = allocator.allocate(count: count)
        self.owner = nil
    }

    /// Creates a tensor holding a copy of `values`.
    public convenience init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        allocator.synchronize()  // the zero fill may still be queued on a device
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
        self.allocator = owner.allocator
    }

    deinit {
        if owner == nil { allocator.free(data, count: count) }
    }

    /// The elements as a buffer pointer.
    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: data, count: count)
    }

    /// Sets every element to zero.
    public func zero() { allocator.zero(data, count: count) }

    /// Copies all elements of `other`, which must have the same element count.
    public func copy(from other: Tensor) {
        precondition(other.count == count, "copy of \(other.shape) into \(shape)")
        allocator.copy(data, other.data, count: count)
    }

    /// Waits for the device ops queued by this tensor's allocator (no-op in host memory).
    public func synchronize() { allocator.synchronize() }

    /// The elements as an array (for tests and serialisation); synchronizes first.
    public func toArray() -> [Float] {
        allocator.synchronize()
        return Array(buffer)
    }

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
