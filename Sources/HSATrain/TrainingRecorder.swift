import Foundation
import HSACore
import HSAReport

/// Writes a run's `log.jsonl` (one object per step, evaluation and checkpoint) and draws
/// `loss.svg` from it, so the plot also covers steps logged before a resume.
public final class TrainingRecorder {
    public let runDirectory: URL
    let log: JSONLinesWriter
    /// A warning about damaged lines dropped from the log on resume, for the caller to print.
    public private(set) var warning: String?

    /// Opens `log.jsonl` in `runDirectory`: a new, empty one, or with `resumedStep` the
    /// existing one cut back to that step (`TrainingLogTruncation`) and appended to.
    public init(runDirectory: URL, resumedStep: Int?) throws {
        self.runDirectory = runDirectory
        let url = runDirectory.appendingPathComponent("log.jsonl")
        if let resumedStep {
            warning = try TrainingLogTruncation.truncate(url, toStep: resumedStep)
        } else {
            try? FileManager.default.removeItem(at: url)
        }
        log = try JSONLinesWriter(url: url, append: resumedStep != nil)
    }

    /// Appends one event to the log.
    public func record(_ event: TrainingEvent) throws {
        switch event {
        case .step(let report):
            var row: [String: Any] = [
                "event": "step", "step": report.step, "loss": report.loss,
                "lr": report.learningRate, "grad_norm": report.gradientNorm,
                "tokens_per_s": report.tokensPerSecond, "ms": report.milliseconds,
                "skipped_steps": report.skippedSteps,
            ]
            if report.skipped { row["skipped"] = true }
            if !report.fusionMass.isEmpty {
                row["hsa_mass"] = report.fusionMass
                row["hsa_peak"] = report.fusionPeak
            }
            try log.write(dictionary: row)
        case .evaluation(let report):
            try log.write(dictionary: [
                "event": "eval", "step": report.step, "val_loss": report.validationLoss,
            ])
        case .checkpoint(let step, let directory):
            try log.write(dictionary: ["event": "checkpoint", "step": step, "path": directory.path])
        }
    }

    /// Draws training and validation loss against step into `loss.svg`.
    public func writePlot() throws {
        let rows = try JSONLines.read(runDirectory.appendingPathComponent("log.jsonl"))
        func points(_ event: String, _ key: String) -> [(x: Double, y: Double)] {
            rows.compactMap { row in
                guard row["event"] as? String == event,
                    let step = row["step"] as? Double ?? (row["step"] as? Int).map(Double.init),
                    let value = row[key] as? Double, value.isFinite
                else { return nil }
                return (step, value)
            }
        }
        let plot = LinePlot(
            title: "Training loss", xLabel: "step", yLabel: "cross-entropy (nats/token)",
            series: [
                .init(name: "train", points: points("step", "loss")),
                .init(name: "validation", points: points("eval", "val_loss")),
            ])
        try plot.write(to: runDirectory.appendingPathComponent("loss.svg"))
    }
}
