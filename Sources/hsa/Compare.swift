import ArgumentParser
import Foundation
import HSA

extension HSACommand {
    struct Compare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put several `hsa eval` results side by side (ablation tables and plot).",
            discussion: """
                Reads summary.json from each evaluation directory and writes comparison.md \
                (per task a run x length table, their mean over tasks, and the retrieval \
                diagnostics averaged over HSA layers) and comparison_accuracy_vs_length.svg \
                (one line per run) into --out. Runs given the same name in --names are seeds \
                of one row: its cells show their mean, then each seed's value. See \
                docs/EVAL.md.
                """)

        @Argument(help: "`hsa eval --out` directories, one per model.")
        var evaluations: [String]
        @Option(
            help:
                "Comma-separated run names, one per directory (default: the directories; repeat: seeds)."
        )
        var names: String?
        @Option(help: "Output directory.")
        var out: String = "runs/compare"

        func validate() throws {
            guard !evaluations.isEmpty else {
                throw ValidationError("give at least one evaluation directory")
            }
        }

        func run() throws {

            try requireOutputDirectory(out, option: "--out")
            let comparison = try EvalComparison.load(
                directories: evaluations.map { URL(fileURLWithPath: $0) },
                names: names?.split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces)
                })
            try comparison.write(to: URL(fileURLWithPath: out))
            Terminal.printLine(comparison.markdown())
            Terminal.printLine("comparison in \(out)")
        }
    }
}
