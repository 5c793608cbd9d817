import Foundation
import HSACore

// Per-op timing for `CUDAManagedBackend` (HSA_CUDA_PROFILE=1): a pair of events around every
// op's launches gives its GPU time (kernels plus the gaps between its own launches), and the
// wall clock around the call gives its host time (launch overhead, host sorts, waits). Events
// are read back only when the stream is idle anyway (at `synchronize`), so profiling adds no
// waits of its own. Totals are printed at exit, or by the caller (`hsa bench train`).

/// Per-op GPU and host time of a `CUDAManagedBackend`.
public final class CUDAOpProfiler: @unchecked Sendable {
    /// Totals for one op name.
    public struct Entry: Sendable {
        /// Number of calls.
        public var calls = 0
        /// GPU milliseconds between the events recorded around the op's launches.
        public var gpuMilliseconds = 0.0
        /// Host milliseconds spent inside the op call.
        public var hostMilliseconds = 0.0
    }

    private let device: CUDADevice
    private let lock = NSLock()
    private var idleEvents: [CUDAEvent] = []
    private var pending: [(op: String, start: CUDAEvent, end: CUDAEvent)] = []
    private var totals: [String: Entry] = [:]
    /// What the table counts and the variable that asked for it, e.g. "per-op time
    /// (HSA_CUDA_PROFILE)".
    private let title: String

    /// Creates a profiler for ops on `device`; `registerForExit` prints its table at exit.
    init(device: CUDADevice, registerForExit: Bool, title: String = "per-op time") {
        self.device = device
        self.title = title
        if registerForExit { CUDAOpProfiler.exitRegistry.add(self) }
    }

    /// True when `HSA_CUDA_PROFILE=1`.
    public static var isRequested: Bool {
        HSAEnvironment.cudaProfile.isOn
    }

    /// True when `HSA_CUDA_KERNEL_PROFILE=1`: `CUDABackend` times every kernel launch.
    public static var isKernelProfileRequested: Bool {
        HSAEnvironment.cudaKernelProfile.isOn
    }

    // MARK: - Recording

    /// Records a start event on `stream` (nil when events cannot be made: timing is skipped).
    func begin(on stream: CUDAStream) -> CUDAEvent? {
        let event = lock.withLock { idleEvents.popLast() } ?? (try? CUDAEvent(device: device))
        guard let event, (try? event.record(on: stream)) != nil else { return nil }
        return event
    }

    /// Records the end of `op` (started by `begin`) and its host time.
    func end(_ op: String, start: CUDAEvent?, on stream: CUDAStream, hostSeconds: Double) {
        let event = start.flatMap { _ in
            lock.withLock { idleEvents.popLast() } ?? (try? CUDAEvent(device: device))
        }
        lock.withLock { totals[op, default: Entry()].hostMilliseconds += hostSeconds * 1000 }
        lock.withLock { totals[op, default: Entry()].calls += 1 }
        guard let start, let event, (try? event.record(on: stream)) != nil else { return }
        lock.withLock { pending.append((op, start, event)) }
    }

    /// Adds the GPU times of every recorded op (call when the stream is idle).
    func collect() {
        let done = lock.withLock { () -> [(op: String, start: CUDAEvent, end: CUDAEvent)] in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        var times: [(String, Double)] = []
        for item in done {
            if let ms = try? item.end.milliseconds(since: item.start) {
                times.append((item.op, ms))
            }
        }
        lock.withLock {
            for (op, ms) in times { totals[op, default: Entry()].gpuMilliseconds += ms }
            for item in done { idleEvents.append(contentsOf: [item.start, item.end]) }
        }
    }

    // MARK: - Reports

    /// Totals by op name (after collecting outstanding events).
    public func snapshot() -> [String: Entry] {
        collect()
        return lock.withLock { totals }
    }

    /// Forgets every total (e.g. after warm-up steps).
    public func reset() {
        collect()
        lock.withLock { totals.removeAll() }
    }

    /// A table of the totals, largest GPU time first, divided by `steps` (per-step numbers).
    public func table(steps: Int = 1, title: String? = nil) -> String {
        let entries = snapshot().sorted { $0.value.gpuMilliseconds > $1.value.gpuMilliseconds }
        let divisor = Double(max(steps, 1))
        let gpuTotal = entries.reduce(0) { $0 + $1.value.gpuMilliseconds } / divisor
        let hostTotal = entries.reduce(0) { $0 + $1.value.hostMilliseconds } / divisor
        let width = max(26, entries.map(\.key.count).max() ?? 0)
        var lines = [
            "\(title ?? self.title), per step over \(max(steps, 1)) step(s)",
            "op".padding(toLength: width + 2, withPad: " ", startingAt: 0)
                + "calls   gpu ms  gpu %   host ms",
        ]
        for (op, entry) in entries {
            let share = gpuTotal > 0 ? 100 * entry.gpuMilliseconds / divisor / gpuTotal : 0
            lines.append(
                op.padding(toLength: width, withPad: " ", startingAt: 0)
                    + String(
                        format: " %6.0f %8.3f %5.1f %9.3f", Double(entry.calls) / divisor,
                        entry.gpuMilliseconds / divisor, share, entry.hostMilliseconds / divisor))
        }
        lines.append(
            "total".padding(toLength: width + 7, withPad: " ", startingAt: 0)
                + String(format: " %8.3f %5.1f %9.3f", gpuTotal, 100.0, hostTotal))
        return lines.joined(separator: "\n")
    }

    // MARK: - Exit report

    /// Profilers whose tables are printed when the process exits.
    static let exitRegistry = ExitRegistry()

    /// Holds the profilers to report at exit (`atexit` takes no context).
    final class ExitRegistry: @unchecked Sendable {
        private let lock = NSLock()
        private var profilers: [CUDAOpProfiler] = []
        private var installed = false

        func add(_ profiler: CUDAOpProfiler) {
            let install = lock.withLock { () -> Bool in
                profilers.append(profiler)
                defer { installed = true }
                return !installed
            }
            if install { atexit { CUDAOpProfiler.exitRegistry.printAll() } }
        }

        func printAll() {
            for profiler in lock.withLock({ profilers })
            where !profiler.snapshot().isEmpty {
                FileHandle.standardError.write(Data((profiler.table() + "\n").utf8))
            }
        }
    }
}
