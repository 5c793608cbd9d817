// Where tensor storage comes from. The host allocator is the default (64-byte aligned, zeroed
// host memory, exactly as tensors always were); a device backend hands out memory that both the
// host and its device can address (CUDA managed memory).

/// Allocates, clears and copies tensor storage.
public protocol TensorAllocator: AnyObject, Sendable {
    /// `count` zero-filled Floats (room for at least one).
    func allocate(count: Int) -> UnsafeMutablePointer<Float>
    /// Releases memory from `allocate` (same `count`).
    func free(_ pointer: UnsafeMutablePointer<Float>, count: Int)
    /// Waits until every queued op is done, so that the host may read or write results.
    func synchronize()
    /// x[0..<count] = 0.
    func zero(_ x: UnsafeMutablePointer<Float>, count: Int)
    /// dst[0..<count] = src[0..<count] (no overlap).
    func copy(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int)
}

// MARK: - Host memory

/// Plain host memory: 64-byte aligned, zero-filled, freed with `deallocate`.
public final class HostAllocator: TensorAllocator {
    /// The one instance (it holds no state).
    public static let shared = HostAllocator()

    /// Creates a host allocator (stateless; `shared` is enough).
    public init() {}

    public func allocate(count: Int) -> UnsafeMutablePointer<Float> {
        let elements = max(count, 1)
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: elements * MemoryLayout<Float>.stride, alignment: 64)
        raw.initializeMemory(as: Float.self, repeating: 0, count: elements)
        return raw.assumingMemoryBound(to: Float.self)
    }

    public func free(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        UnsafeMutableRawPointer(pointer).deallocate()
    }

    public func synchronize() {}

    public func zero(_ x: UnsafeMutablePointer<Float>, count: Int) {
        x.update(repeating: 0, count: count)
    }

    public func copy(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
        dst.update(from: src, count: count)
    }
}
