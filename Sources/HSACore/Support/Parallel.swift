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

    /// Current thread count for `parallelFor`.
    public static var count: Int {
        if let override { return override }
        if let text = ProcessInfo.processInfo.environment["HSA_NUM_THREADS"], let n = Int(text),
            n > 0
        {
            return n
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Sets the thread count for the rest of the process (tests use it to check invariance).
    public static func set(_ n: Int?) { override = n }
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
