import Foundation
import HSA
import HSATestSupport
import Testing

@Suite struct ComparisonTests {
    /// One result per (task, length) with the given score and, optionally, diagnostics.
    func summary(_ scores: [(String, Int, Double)], mass: Double? = nil) -> EvalSummary {
        EvalSummary(
            results: scores.enumerated().map { i, entry in
                EvalResult(
                    suite: "ruler", task: entry.0, length: entry.1, index: i, depth: nil,
                    score: entry.2, prediction: "", outputs: [], promptTokens: 1, seconds: 0,
                    needlePositions: [],
                    diagnostics: mass.map { ["layer0.mass": $0, "layer1.mass": $0 / 2] })
            })
    }

    @Test func tablesHaveOneRowPerRunAndMarkMissingCells() {
        let comparison = EvalComparison(runs: [
            .init(
                name: "hsa",
                summary: summary(
                    [("niah_single_1", 4096, 1), ("niah_single_1", 65536, 0.5), ("vt", 4096, 0)],
                    mass: 0.8)),
            .init(name: "dense", summary: summary([("niah_single_1", 4096, 1)])),
        ])
        #expect(comparison.lengths == [4096, 65536])
        #expect(comparison.tasks == ["niah_single_1", "vt"])
        let text = comparison.markdown()
        #expect(text.contains("| run | 4K | 64K |"))
        #expect(text.contains("| hsa | 100.0 | 50.0 |"))
        #expect(text.contains("| dense | 100.0 | - |"))
        // mean over tasks: hsa at 4K = (1 + 0) / 2; the diagnostics average the layers.
        #expect(text.contains("| hsa | 50.0 | 50.0 |"))
        #expect(text.contains("retrieval mass"))
        #expect(text.contains("| hsa | 0.600 | 0.600 |"))
        #expect(!text.contains("retrieval recall"))
        let plot = comparison.accuracyPlot()
        #expect(plot.series.map(\.name) == ["hsa", "dense"])
        #expect(plot.series[1].points.count == 1)
    }

    /// Runs that share a name are one row's seeds: mean first, then each seed in run order.
    @Test func runsWithOneNameAreSeedsOfOneRow() {
        let comparison = EvalComparison(runs: [
            .init(name: "hsa", summary: summary([("vt", 4096, 1)], mass: 0.8)),
            .init(name: "dense", summary: summary([("vt", 4096, 0)])),
            .init(name: "hsa", summary: summary([("vt", 4096, 0.5), ("vt", 65536, 0.5)])),
        ])
        #expect(comparison.rows.map(\.name) == ["hsa", "dense"])
        #expect(comparison.rows[0].runs.count == 2)
        let text = comparison.markdown()
        #expect(text.contains("| hsa | 75.0 (100.0 / 50.0) | 50.0 (- / 50.0) |"))
        #expect(text.contains("| dense | 0.0 | - |"))
        // the second seed has no diagnostics: the first seed's alone, marked per seed
        #expect(text.contains("| hsa | 0.600 (0.600 / -) | - |"))
        let plot = comparison.accuracyPlot()
        #expect(plot.series.map(\.name) == ["hsa", "dense"])
        #expect(plot.series[0].points.map(\.y) == [0.75, 0.5])
    }

    @Test func loadingNamesRunsAndRejectsOtherDirectories() throws {
        let root = try TemporaryDirectory()
        defer { root.remove() }
        for name in ["a", "b"] {
            let directory = root.url.appendingPathComponent(name)
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true)
            try EvalReport.write(
                summary: summary([("niah_single_1", 1024, name == "a" ? 1 : 0)]), results: [],
                to: directory)
        }
        let directories = ["a", "b"].map { root.url.appendingPathComponent($0) }
        let loaded = try EvalComparison.load(directories: directories)
        #expect(loaded.runs.map(\.name) == ["a", "b"])
        #expect(loaded.markdown().contains("| b | 0.0 |"))
        let named = try EvalComparison.load(directories: directories, names: ["x", "y"])
        #expect(named.runs.map(\.name) == ["x", "y"])
        #expect(throws: EvalError.self) {
            try EvalComparison.load(directories: directories, names: ["x"])
        }
        #expect(throws: EvalError.self) {
            try EvalComparison.load(directories: [root.url])  // no summary.json
        }
    }
}
