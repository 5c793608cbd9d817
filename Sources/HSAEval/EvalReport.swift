import Foundation
import HSACore
import HSAReport

/// Writes summary.json, results.md, accuracy_vs_length.svg, when NIAH samples have
/// controlled depths niah_depth_heatmap.svg, and with retrieval diagnostics
/// retrieval_recall_vs_length.svg and retrieval_mass_vs_length.svg.
public enum EvalReport {
    /// Writes every report of `summary` into `directory`.
    public static func write(
        summary: EvalSummary, results: [EvalResult], to directory: URL
    ) throws {
        try AtomicFile.writeJSON(summary, to: directory.appendingPathComponent("summary.json"))
        try AtomicFile.write(
            Data(markdown(summary).utf8), to: directory.appendingPathComponent("results.md"))
        try accuracyPlot(summary).write(
            to: directory.appendingPathComponent("accuracy_vs_length.svg"))
        if let heatMap = depthHeatMap(summary) {
            try heatMap.write(to: directory.appendingPathComponent("niah_depth_heatmap.svg"))
        }
        for metric in ["recall", "mass"] {
            if let plot = retrievalPlot(summary, metric: metric) {
                try plot.write(
                    to: directory.appendingPathComponent("retrieval_\(metric)_vs_length.svg"))
            }
        }
    }

    /// A task x length table of mean scores in percent, with an average row.
    public static func markdown(_ summary: EvalSummary) -> String {
        let header = ["task"] + summary.lengths.map(ContextLength.format)
        var lines = [
            "| " + header.joined(separator: " | ") + " |",
            "|" + Array(repeating: "---|", count: header.count).joined(),
        ]
        func percent(_ value: Double?) -> String {
            guard let value else { return "-" }
            return String(format: "%.1f", value * 100)
        }
        for task in summary.tasks {
            let row = summary.lengths.map { percent(summary.score(task: task, length: $0)) }
            lines.append("| " + ([task] + row).joined(separator: " | ") + " |")
        }
        let averages = summary.lengths.map { length -> String in
            let scores = summary.cells.filter { $0.length == length }.map(\.score)
            return percent(scores.isEmpty ? nil : scores.reduce(0, +) / Double(scores.count))
        }
        lines.append("| **average** | " + averages.joined(separator: " | ") + " |")
        var text = lines.joined(separator: "\n") + "\n\n"
        text += "Scores in percent (mean over samples); \(summary.samples) samples, overall "
        text += percent(summary.overall) + ".\n"
        text += intervalsMarkdown(summary)
        for (name, value) in summary.diagnostics.sorted(by: { $0.key < $1.key }) {
            text += "\nMean \(name): " + String(format: "%.3f", value) + "\n"
        }
        return text + diagnosticsMarkdown(summary)
    }

    /// The table of 95% intervals (Wilson, see `ScoreInterval`), "low-high" in percent.
    public static func intervalsMarkdown(_ summary: EvalSummary) -> String {
        let header = ["task"] + summary.lengths.map(ContextLength.format)
        var lines = [
            "", "95% confidence intervals (Wilson score interval over the cell's samples):", "",
            "| " + header.joined(separator: " | ") + " |",
            "|" + Array(repeating: "---|", count: header.count).joined(),
        ]
        for task in summary.tasks {
            let row = summary.lengths.map { length -> String in
                let cell = summary.cells.first { $0.task == task && $0.length == length }
                guard let cell else { return "-" }
                let interval = ScoreInterval(score: cell.score, samples: cell.samples)
                return String(format: "%.1f-%.1f", interval.low * 100, interval.high * 100)
            }
            lines.append("| " + ([task] + row).joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Per (task, length): the mean per-layer retrieval diagnostics; empty without them.
    public static func diagnosticsMarkdown(_ summary: EvalSummary) -> String {
        let names = summary.layerDiagnosticNames
        guard !names.isEmpty else { return "" }
        var lines = [
            "",
            "Retrieval at the answer position (HSA layer recall@top-k of the answer needle's "
                + "chunk, the fusion mass on it and, with several keys, on the distractor "
                + "needles' chunks; mean over samples with diagnostics):", "",
            "| task | length | samples | " + names.joined(separator: " | ") + " |",
            "|" + Array(repeating: "---|", count: names.count + 3).joined(),
        ]
        for cell in summary.cells {
            guard let values = cell.diagnostics else { continue }
            let row = names.map { name in
                values[name].map { String(format: "%.3f", $0) } ?? "-"
            }
            lines.append(
                "| \(cell.task) | \(ContextLength.format(cell.length)) | \(cell.samples) | "
                    + row.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Mean `layer{i}.{metric}` ("recall" or "mass") against length (log axis), one line per
    /// HSA layer, averaged over the tasks at each length; nil without diagnostics.
    public static func retrievalPlot(_ summary: EvalSummary, metric: String) -> LinePlot? {
        let names = summary.layerDiagnosticNames.filter { $0.hasSuffix("." + metric) }
        guard !names.isEmpty else { return nil }
        let series = names.map { name in
            LinePlot.Series(
                name: String(name.prefix { $0 != "." }),
                points: summary.lengths.compactMap { length -> (x: Double, y: Double)? in
                    let values = summary.cells.filter { $0.length == length }
                        .compactMap { $0.diagnostics?[name] }
                    guard !values.isEmpty else { return nil }
                    return (Double(length), values.reduce(0, +) / Double(values.count))
                })
        }
        let title =
            metric == "recall"
            ? "Needle chunk recall@top-k per HSA layer" : "Fusion mass on the needle chunk"
        return LinePlot(
            title: title, xLabel: "context length (tokens)", yLabel: metric, xLog: true,
            series: series)
    }

    /// Mean score against length (log axis), one line per task.
    public static func accuracyPlot(_ summary: EvalSummary) -> LinePlot {
        let series = summary.tasks.map { task in
            LinePlot.Series(
                name: task,
                points: summary.cells.filter { $0.task == task }.map {
                    (x: Double($0.length), y: $0.score)
                })
        }
        return LinePlot(
            title: "Accuracy vs context length", xLabel: "context length (tokens)",
            yLabel: "score", xLog: true, series: series)
    }

    /// Mean NIAH score by depth (rows) and length (columns) over all tasks with depths.
    public static func depthHeatMap(_ summary: EvalSummary) -> HeatMap? {
        let cells = summary.depthCells
        guard !cells.isEmpty else { return nil }
        let depths = Array(Set(cells.map(\.depth))).sorted()
        let lengths = Array(Set(cells.map(\.length))).sorted()
        let values = depths.map { depth in
            lengths.map { length -> Double in
                let group = cells.filter { $0.depth == depth && $0.length == length }
                let count = group.reduce(0) { $0 + $1.samples }
                guard count > 0 else { return .nan }
                return group.reduce(0) { $0 + $1.score * Double($1.samples) } / Double(count)
            }
        }
        return HeatMap(
            title: "Needle retrieval by depth and length", xLabel: "context length",
            yLabel: "needle depth (%)", rowLabels: depths.map { String(format: "%.0f", $0) },
            columnLabels: lengths.map(ContextLength.format), values: values)
    }
}
