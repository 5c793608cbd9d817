import Foundation

// Data parallelism inside one process: N threads, each with its own model, meeting at a
// barrier. Used by the tests to check that N-rank training equals 1-rank training on the CPU,
// and usable to try the trainer's distributed path without GPUs. Sums run in rank order in
// Float, so every rank gets identical bits and the result never depends on thread timing.

// MARK: - Group

/// The shared state of `worldSize` in-process ranks; hand `reducer(rank:)` to each thread.
public final class InProcessReducerGroup: @unchecked Sendable {
    /// Number of ranks (threads) in the group.
    public let worldSize: Int
    /// How long a rank waits at a barrier for the others before throwing.
    public let timeout: TimeInterval
    private let condition = NSCondition()
    private var arrived = 0
    private var generation = 0
    /// Each rank's buffer of the current reduction (valid between two barriers).
    private var buffers: [UnsafeMutablePointer<Float>?]
    private var scalars: [[Double]]

    /// Creates a group of `worldSize` ranks.
    public init(worldSize: Int, timeout: TimeInterval = 120) {
        precondition(worldSize > 0, "worldSize must be > 0")
        self.worldSize = worldSize
        self.timeout = timeout
        buffers = Array(repeating: nil, count: worldSize)
        scalars = Array(repeating: [], count: worldSize)
    }

    /// The reducer rank `rank` uses.
    public func reducer(rank: Int) -> InProcessReducer {
        InProcessReducer(group: self, rank: rank)
    }

    /// Blocks until all `worldSize` ranks arrived.
    func barrier(rank: Int, operation: String) throws {
        condition.lock()
        defer { condition.unlock() }
        let mine = generation
        arrived += 1
        if arrived == worldSize {
            arrived = 0
            generation += 1
            condition.broadcast()
            return
        }
        let deadline = Date().addingTimeInterval(timeout)
        while generation == mine {
            if !condition.wait(until: deadline) {
                throw DistributedTrainingError.timeout(
                    rank: rank, operation: operation, seconds: timeout)
            }
        }
    }

    func publish(rank: Int, buffer: UnsafeMutablePointer<Float>) {
        condition.withLock { buffers[rank] = buffer }
    }

    func publish(rank: Int, scalars values: [Double]) {
        condition.withLock { scalars[rank] = values }
    }

    /// The buffers of all ranks, in rank order (read between two barriers only).
    func publishedBuffers() -> [UnsafeMutablePointer<Float>?] { condition.withLock { buffers } }

    /// The scalars of all ranks, in rank order (read between two barriers only).
    func publishedScalars() -> [[Double]] { condition.withLock { scalars } }
}

// MARK: - Reducer

/// One thread's `GradientReducer` in an `InProcessReducerGroup`. Reductions complete before
/// `allReduceSum` returns, so `waitForReductions` has nothing to wait for.
public final class InProcessReducer: GradientReducer, @unchecked Sendable {
    public let rank: Int
    public var worldSize: Int { group.worldSize }
    private let group: InProcessReducerGroup

    init(group: InProcessReducerGroup, rank: Int) {
        precondition((0..<group.worldSize).contains(rank), "rank \(rank) out of range")
        self.group = group
        self.rank = rank
    }

    public func allReduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) throws {
        group.publish(rank: rank, buffer: values)
        try group.barrier(rank: rank, operation: "all-reduce of \(count) values")
        // Every rank sums all buffers into its own copy, in rank order (deterministic) ...
        var sum = [Float](repeating: 0, count: count)
        let buffers = group.publishedBuffers()
        for case let buffer? in buffers {
            for i in 0..<count { sum[i] += buffer[i] }
        }
        // ... and writes it back only once nobody reads the buffers any more.
        try group.barrier(rank: rank, operation: "all-reduce of \(count) values")
        sum.withUnsafeBufferPointer { source in
            guard let base = source.baseAddress else { return }
            values.update(from: base, count: count)
        }
    }

    public func waitForReductions() throws {}

    public func allReduceSum(_ values: [Double]) throws -> [Double] {
        group.publish(rank: rank, scalars: values)
        try group.barrier(rank: rank, operation: "all-reduce of \(values.count) numbers")
        var sum = [Double](repeating: 0, count: values.count)
        for contribution in group.publishedScalars() {
            for i in sum.indices { sum[i] += contribution[i] }
        }
        try group.barrier(rank: rank, operation: "all-reduce of \(values.count) numbers")
        return sum
    }
}
