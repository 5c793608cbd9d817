import Foundation

extension StepReport {
    /// The plain progress line, with stable keys for tools that parse it.
    public var line: String {
        var text = String(
            format: "step=%d/%d loss=%.4f lr=%.3e norm=%.3f tok/s=%.0f ms=%.0f", step, totalSteps,
            loss, learningRate, gradientNorm, tokensPerSecond, milliseconds)
        if skippedSteps > 0 {
            // Only once a step was skipped, so the usual line stays as it was.
            text += (skipped ? " skipped" : "") + " skipped_steps=\(skippedSteps)"
        }
        if !fusionMass.isEmpty {
            // e.g. " hsa_mass=0.512,0.498 hsa_peak=0.301,0.276", one value per HSA layer
            let list = { (values: [Double]) in
                values.map { String(format: "%.3f", $0) }.joined(separator: ",")
            }
            text += " hsa_mass=\(list(fusionMass)) hsa_peak=\(list(fusionPeak))"
        }
        return text
    }
}
