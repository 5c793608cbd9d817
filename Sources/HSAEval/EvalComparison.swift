import Foundation
import HSACore
import HSAReport

/// Several evaluations side by side, one row per run name (an ablation table): per task a
/// row x length table of scores, their mean over tasks, the retrieval diagnostics averaged over
/// HSA layers, and accuracy against length with one line per row. Runs that share a name are
/// seeds of one row: its cells show their mean and then each seed's value. Written by
/// `hsa compare`.
public struct EvalComparison: Sendable {
    /// One evaluated model.
    public struct Run: Sendable {
        public var name: String
        public var summary: EvalSummary

        public init(name: String, summary: EvalSummary) {
            self.name = name
            self.summary = summary
        }
    }

    public var runs: [Run]

    public init(runs: [Run]) { self.runs = runs }

    /// Reads the `summary.json` of each `hsa eval --out` directory, named by `names`, else by
    /// the directories' last path components (their paths as given when those repeat).
    public static func load(directories: [URL], names: [String]? = nil) throws -> EvalComparison {
        if let names, names.count != directories.count {
            throw EvalError.invalidComparison(
                "\(names.count) names for \(directories.count) evaluation directories")
        }
        let lastComponents = directories.map(\.lastPathComponent)
        let defaults =
            Set(lastComponents).count == lastComponents.count
            ? lastComponents : directories.map(\.relativePath)
        let runs = try directories.enumerated().map { i, directory -> Run in
            let file = directory.appendingPathComponent("summary.json")
            guard let data = FileManager.default.contents(atPath: file.path) else {
                throw EvalError.invalidComparison(
                    "\(directory.path): no summary.json (give `hsa eval --out` directories)")
            }
            let summary: EvalSummary
            do {
                summary = try JSONDecoder().decode(EvalSummary.self, from: data)
            } catch {
                throw EvalError.invalidComparison("\(file.path): not an eval summary (\(error))")
            }
            return Run(name: names?[i] ?? defaults[i], summary: summary)
        }
        return EvalComparison(runs: runs)
    }

    /// Tasks of any run, in first-seen order.
    public var tasks: [String] {
        var order: [String] = []
        for task in runs.flatMap(\.summary.tasks) where !order.contains(task) { order.append(task) }
        return order
    }

    /// Lengths of any run, ascending.
    public var lengths: [Int] { Array(Set(runs.flatMap(\.summary.lengths))).sorted() }

    /// The table rows: run names in first-seen order, each with its runs (its seeds).
    public var rows: [(name: String, runs: [Run])] {
        var order: [String] = []
        var byName: [String: [Run]] = [:]
        for run in runs {
            if byName[run.name] == nil { order.append(run.name) }
            byName[run.name, default: []].append(run)
        }
        return order.map { ($0, byName[$0] ?? []) }
    }

    /// Mean score of a run's tasks at `length` (nil when it has none there).
    public func meanScore(_ run: Run, length: Int) -> Double? {
        mean(run.summary.cells.filter { $0.length == length }.map(\.score))
    }

    /// Mean of `layer{i}.{metric}` over HSA layers and tasks at `length` (nil without it).
    public func meanDiagnostic(_ run: Run, metric: String, length: Int) -> Double? {
        let values = run.summary.cells.filter { $0.length == length }.flatMap { cell in
            (cell.diagnostics ?? [:]).filter { name, _ in
                name.hasPrefix("layer") && name.hasSuffix("." + metric)
            }.map(\.value)
        }
        return mean(values)
    }

    /// The tables in Markdown: one per task, the mean over tasks, then one per diagnostic.
    public func markdown() -> String {
        let columns = lengths
        func table(_ title: String, format: (Double) -> String, value: (Run, Int) -> Double?)
            -> String
        {
            let header = ["run"] + columns.map(ContextLength.format)
            var lines = [
                "### " + title, "",
                "| " + header.joined(separator: " | ") + " |",
                "|" + Array(repeating: "---|", count: header.count).joined(),
            ]
            for row in rows {
                let cells = columns.map { length in
                    cell(row.runs.map { value($0, length) }, format: format)
                }
                lines.append("| " + ([row.name] + cells).joined(separator: " | ") + " |")
            }
            return lines.joined(separator: "\n") + "\n"
        }
        let percent = { (value: Double) in String(format: "%.1f", value * 100) }
        let fraction = { (value: Double) in String(format: "%.3f", value) }
        var sections = tasks.map { task in
            table(task + " (percent)", format: percent) { run, length in
                run.summary.score(task: task, length: length)
            }
        }
        if tasks.count > 1 {
            sections.append(
                table("mean over tasks (percent)", format: percent) { meanScore($0, length: $1) })
        }
        let titles = [
            ("recall", "retrieval recall at the answer position"),
            ("mass", "retrieval mass at the answer position"),
            ("distractor_mass", "retrieval distractor_mass at the answer position"),
            ("reach_recall", "best retrieval recall within the answer's reach"),
            ("reach_mass", "best retrieval mass within the answer's reach"),
        ]
        for (metric, title) in titles
        where runs.contains(where: { run in
            columns.contains { meanDiagnostic(run, metric: metric, length: $0) != nil }
        }) {
            sections.append(
                table(title + " (mean over HSA layers and tasks)", format: fraction) {
                    meanDiagnostic($0, metric: metric, length: $1)
                })
        }
        return sections.joined(separator: "\n")
    }

    /// Mean score over tasks against length (log axis), one line per row (seeds averaged).
    public func accuracyPlot() -> LinePlot {
        let series = rows.map { row in
            LinePlot.Series(
                name: row.name,
                points: lengths.compactMap { length in
                    mean(row.runs.compactMap { meanScore($0, length: length) }).map {
                        (x: Double(length), y: $0)
                    }
                })
        }
        return LinePlot(
            title: "Accuracy vs context length", xLabel: "context length (tokens)",
            yLabel: "mean score over tasks", xLog: true, series: series)
    }

    /// Writes comparison.md and comparison_accuracy_vs_length.svg into `directory`.
    public func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try AtomicFile.write(
            Data(markdown().utf8), to: directory.appendingPathComponent("comparison.md"))
        try accuracyPlot().write(
            to: directory.appendingPathComponent("comparison_accuracy_vs_length.svg"))
    }

    /// One table cell: "-" without values; one run's value; several seeds' mean, then each
    /// seed's value in run order ("-" where a seed lacks it).
    private func cell(_ values: [Double?], format: (Double) -> String) -> String {
        guard let average = mean(values.compactMap { $0 }) else { return "-" }
        guard values.count > 1 else { return format(average) }
        let seeds = values.map { $0.map(format) ?? "-" }.joined(separator: " / ")
        return "\(format(average)) (\(seeds))"
    }

    private func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }
}
