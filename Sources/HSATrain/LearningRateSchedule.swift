import Foundation

/// Linear warm-up to `peak`, then cosine decay to `minimum` at `totalSteps`.
public struct LearningRateSchedule: Codable, Sendable, Equatable {
    public var peak: Double
    public var minimum: Double
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(peak: Double, minimum: Double, warmupSteps: Int, totalSteps: Int) {
        self.peak = peak
        self.minimum = minimum
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// The learning rate of (0-based) `step`.
    public func rate(at step: Int) -> Double {
        if step < warmupSteps { return peak * Double(step + 1) / Double(warmupSteps) }
        let decaySteps = max(1, totalSteps - warmupSteps)
        let progress = min(1, Double(step - warmupSteps) / Double(decaySteps))
        return minimum + 0.5 * (peak - minimum) * (1 + cos(Double.pi * progress))
    }
}
