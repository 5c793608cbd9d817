import Foundation

extension StepReport {
    /// The plain progress line, with stable keys for tools that parse it.
    public var line: String {
        String(
            format: "step=%d/%d loss=%.4f lr=%.3e norm=%.3f tok/s=%.0f ms=%.0f", step, totalSteps,
            loss, learningRate, gradientNorm, tokensPerSecond, milliseconds)
    }
}
