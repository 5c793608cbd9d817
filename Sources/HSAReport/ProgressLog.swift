import Foundation

/// Progress as plain lines on standard output, for logs and pipes where a redrawn bar cannot
/// show: `eval 12/40 (30%) ETA 2m10s niah_single_1 4K #3`, at most one line per `interval`
/// seconds, plus the first and the last unit.
public final class ProgressLog: @unchecked Sendable {
    /// The line's first word (what progresses).
    public let label: String
    /// Units of work in total.
    public let total: Int
    /// Whether anything is printed.
    public let isEnabled: Bool
    /// Smallest time between two lines, in seconds.
    public let interval: Double

    private let lock = NSLock()
    private let start = Date()
    private var lastLine: Date?

    /// Creates a log for `total` units; `enabled` defaults to "standard error is not a
    /// terminal" (where a `ProgressBar` would draw instead).
    public init(
        label: String, total: Int, interval: Double = 10,
        enabled: Bool = !Terminal.isInteractive
    ) {
        self.label = label
        self.total = max(0, total)
        self.interval = interval
        self.isEnabled = enabled
    }

    /// Reports `completed` units done; prints a line when the last one is old enough (or
    /// this is the first or the last unit).
    public func update(completed: Int, text: String = "") {
        guard isEnabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        if let lastLine, now.timeIntervalSince(lastLine) < interval, completed < total { return }
        lastLine = now
        let elapsed = now.timeIntervalSince(start)
        Terminal.printLine(render(completed: completed, elapsed: elapsed, text: text))
    }

    /// The line for `completed` units after `elapsed` seconds (pure, for tests).
    public func render(completed: Int, elapsed: Double, text: String = "") -> String {
        let done = min(max(0, completed), total)
        let percent = total > 0 ? done * 100 / total : 100
        let line =
            "\(label) \(done)/\(total) (\(percent)%) "
            + ProgressBar.eta(done: done, total: total, elapsed: elapsed)
        return text.isEmpty ? line : line + " " + text
    }
}
