import Foundation

// MARK: - Progress bar

/// A one-line progress bar on standard error, redrawn in place with `\r`:
/// `[#########...........] 42% 123/456 ETA 3m12s text`.
///
/// It draws only when enabled (by default: when standard error is a terminal), at most once
/// per `minimumInterval` seconds, so it costs nothing in logs and pipes. Plain progress lines
/// for logs belong on stdout through `Terminal.printLine`.
public final class ProgressBar: @unchecked Sendable {
    /// Units of work in total (steps, tokens, examples).
    public let total: Int
    /// Characters between the brackets.
    public let width: Int
    /// Whether anything is drawn.
    public let isEnabled: Bool
    /// Smallest time between two redraws, in seconds.
    public let minimumInterval: Double

    private let lock = NSLock()
    private let start: Date
    private var lastDraw: Date?
    private var lastLength = 0
    private var finished = false

    /// Creates a bar for `total` units; `enabled` defaults to `Terminal.isInteractive`.
    public init(
        total: Int, width: Int = 30, enabled: Bool = Terminal.isInteractive,
        minimumInterval: Double = 0.1
    ) {
        self.total = max(0, total)
        self.width = max(1, width)
        self.isEnabled = enabled
        self.minimumInterval = minimumInterval
        self.start = Date()
    }

    /// Reports `completed` units done, redrawing if enabled and the last redraw is old enough
    /// (the final unit always redraws).
    public func update(completed: Int, text: String = "") {
        guard isEnabled else { return }
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        let now = Date()
        if let lastDraw, now.timeIntervalSince(lastDraw) < minimumInterval, completed < total {
            return
        }
        lastDraw = now
        draw(render(completed: completed, elapsed: now.timeIntervalSince(start), text: text))
    }

    /// Draws the final state and ends the line.
    public func finish(text: String = "") {
        guard isEnabled else { return }
        lock.lock()
        defer { lock.unlock() }
        guard !finished else { return }
        finished = true
        draw(render(completed: total, elapsed: Date().timeIntervalSince(start), text: text))
        Terminal.writeError("\n")
    }

    /// The bar's text for `completed` units after `elapsed` seconds (no `\r`; pure, for tests).
    public func render(completed: Int, elapsed: Double, text: String = "") -> String {
        let done = min(max(0, completed), total)
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let filled = min(width, Int((fraction * Double(width)).rounded(.down)))
        let bar =
            String(repeating: "#", count: filled)
            + String(repeating: ".", count: width - filled)
        let percent = Int((fraction * 100).rounded(.down))
        let eta = Self.eta(done: done, total: total, elapsed: elapsed)
        let line = "[\(bar)] \(percent)% \(done)/\(total) \(eta)"
        return text.isEmpty ? line : line + " " + text
    }

    /// `in 3m12s` when done, else `ETA 1m05s` at the rate so far (`ETA --` before any unit).
    public static func eta(done: Int, total: Int, elapsed: Double) -> String {
        if done >= total { return "in " + formatDuration(elapsed) }
        if done > 0 {
            return "ETA " + formatDuration(elapsed / Double(done) * Double(total - done))
        }
        return "ETA --"
    }

    private func draw(_ line: String) {
        // Pad with spaces to erase the rest of a longer previous line.
        let padding = String(repeating: " ", count: max(0, lastLength - line.count))
        lastLength = line.count
        Terminal.writeError("\r" + line + padding)
    }
}

// MARK: - Durations

/// A compact human duration: `0s`, `59s`, `3m12s`, `1h02m05s`; `--` when not finite.
/// Fractions of a second are rounded to the nearest second; negative values read as `0s`.
public func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "--" }
    // Clamp so absurd ETAs (a stalled run) cannot overflow Int.
    let total = Int(min(max(seconds, 0), 1e12).rounded())
    let hours = total / 3600
    let minutes = (total % 3600) / 60
    let secs = total % 60
    func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
    if hours > 0 { return "\(hours)h\(twoDigits(minutes))m\(twoDigits(secs))s" }
    if minutes > 0 { return "\(minutes)m\(twoDigits(secs))s" }
    return "\(secs)s"
}
