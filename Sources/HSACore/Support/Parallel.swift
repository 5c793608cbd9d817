import Dispatch
import Foundation

/// Wraps a value that is not `Sendable` so it can cross into `concurrentPerform`.
/// Safe here because `parallelFor` does not return before every iteration has finished.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}

/// The number of worker threads our own parallel loops use: `HSA_NUM_THREADS` if set, else the
/// number of active processors (which respects cgroup CPU quotas).
public enum Threads {
    nonisolated(unsafe) private static var override: Int?

    /// Current thread count for `parallelFor`. An invalid `HSA_NUM_THREADS` counts as unset
    /// here; the `hsa` command refuses it at start (`requestedCount()`).
    public static var count: Int {
        if let override { return override }
        return (try? requestedCount()) ?? processorCount
    }

    /// The active processors (which respects cgroup CPU quotas), at least 1.
    public static var processorCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// The largest `HSA_NUM_THREADS` accepted: 4 threads per processor. More only adds
    /// scheduling overhead, and a typo like 100000 would start that many threads per loop.
    public static var maximumCount: Int { 4 * processorCount }

    /// The thread count `HSA_NUM_THREADS` asks for, or nil when it is unset.
    /// - Throws: `ThreadCountError` unless it is an integer in `1...maximumCount`.
    public static func requestedCount() throws -> Int? {
        guard let text = HSAEnvironment.numThreads.value else {
            return nil
        }
        guard let n = Int(text.trimmingCharacters(in: .whitespaces)),
            (1...maximumCount).contains(n)
        else {
            throw ThreadCountError(value: text, maximum: maximumCount, processors: processorCount)
        }
        return n
    }

    /// Sets the thread count for the rest of the process (tests use it to check invariance).
    public static func set(_ n: Int?) { override = n }
}

/// `HSA_NUM_THREADS` is not an integer in the allowed range.
public struct ThreadCountError: Error, CustomStringConvertible, Equatable {
    public let value: String
    public let maximum: Int
    public let processors: Int

    public var description: String {
        "HSA_NUM_THREADS='\(value)': must be an integer in 1...\(maximum) (4 × the "
            + "\(processors) processors); hint: unset it to use one thread per processor"
    }
}

/// Runs `body(i)` for every `i` in `0..<count`, split into contiguous ranges over `Threads.count`
/// threads. Each index must write disjoint memory; results never depend on the thread count as
/// long as `body` itself does not.
///
/// Never call BLAS inside `body`: BLAS has its own threads and would oversubscribe the cores.
public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    let threads = min(Threads.count, count)
    if threads <= 1 {
        for i in 0..<count { body(i) }
        return
    }
    withoutActuallyEscaping(body) { escapable in
        let work = UncheckedSendable(value: escapable)
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            let start = worker * count / threads
            let end = (worker + 1) * count / threads
            for i in start..<end { work.value(i) }
        }
    }
}
