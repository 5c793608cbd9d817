import Foundation
import HSACore

/// Rows of `width` floats for the consecutive absolute positions
/// `firstPosition ..< endPosition`, contiguous in memory: an append-only buffer whose oldest
/// rows can be dropped (a sliding window of keys, values or hidden rows).
///
/// Dropping is O(1) (an offset moves); the survivors are moved to the front only when an
/// append would not fit, so appends cost amortised O(rows appended).
///
/// The rows live in the memory of `ComputeBackends.allocator` at creation (a device's, under an
/// accelerator) and every move goes through its `copy`, which need not handle overlap: a move
/// whose source and target overlap goes through a fresh buffer.
final class RowWindow {
    /// Floats per row.
    let width: Int
    /// Absolute position of the first kept row.
    private(set) var firstPosition: Int
    /// Rows kept.
    private(set) var count = 0
    private var storage: UnsafeMutablePointer<Float>
    private var capacity: Int  // rows
    private var head = 0  // index of the first kept row in `storage`
    private let allocator: any TensorAllocator

    /// An empty window whose first appended row will sit at `firstPosition`.
    init(width: Int, firstPosition: Int = 0, capacity: Int = 16) {
        self.width = width
        self.firstPosition = firstPosition
        self.capacity = max(capacity, 1)
        allocator = ComputeBackends.allocator
        storage = allocator.allocate(count: self.capacity * max(width, 1))
    }

    deinit { allocator.free(storage, count: capacity * max(width, 1)) }

    /// One past the last kept position.
    var endPosition: Int { firstPosition + count }
    /// The first kept row; (count, width) rows follow contiguously. Valid until the next append.
    var rows: UnsafeMutablePointer<Float> { storage + head * width }
    /// Bytes allocated.
    var allocatedBytes: Int { capacity * width * MemoryLayout<Float>.stride }

    /// Room for `n` more rows at the end; returns where they go (the caller fills them).
    func appendUninitialized(_ n: Int) -> UnsafeMutablePointer<Float> {
        if head + count + n > capacity {
            let fits = count + n <= capacity / 2 || (count + n <= capacity && head > 0)
            if fits && head >= count {
                // Enough room once the survivors move to the front, and they do not overlap it.
                allocator.copy(storage, storage + head * width, count: count * width)
            } else {
                let newCapacity = fits ? capacity : max(capacity * 2, count + n)
                let moved = allocator.allocate(count: newCapacity * max(width, 1))
                allocator.copy(moved, storage + head * width, count: count * width)
                allocator.free(storage, count: capacity * max(width, 1))
                storage = moved
                capacity = newCapacity
            }
            head = 0
        }
        let target = storage + (head + count) * width
        count += n
        return target
    }

    /// Appends `n` rows copied from `source` (n, width).
    func append(_ source: UnsafePointer<Float>, rows n: Int) {
        allocator.copy(appendUninitialized(n), source, count: n * width)
    }

    /// Drops all but the last `n` rows (no-op when fewer are kept).
    func keepLast(_ n: Int) {
        guard count > n else { return }
        let dropped = count - n
        head += dropped
        firstPosition += dropped
        count = n
    }

    /// Replaces the rows by `values` (whole rows, host memory), the first at `position`.
    func restore(firstPosition position: Int, rows values: [Float]) {
        reset(firstPosition: position)
        values.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            append(base, rows: values.count / width)
        }
    }

    /// The kept rows, copied into an array (the window must live in host memory).
    var hostRows: [Float] { Array(UnsafeBufferPointer(start: rows, count: count * width)) }

    /// Empties the window; the next row will sit at `position`.
    func reset(firstPosition position: Int) {
        head = 0
        count = 0
        firstPosition = position
    }
}
