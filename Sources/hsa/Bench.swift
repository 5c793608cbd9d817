import ArgumentParser
import Foundation
import HSADiagnostics

extension HSACommand {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Benchmarks that write JSON.",
            subcommands: [TrainStep.self, BenchPrefill.self])
    }
}

extension HSACommand.Bench {
    struct TrainStep: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "Time forward+backward training steps on random tokens.")

        @OptionGroup var model: ModelOptions
        @OptionGroup var device: BackendOptions
        @Option var seqLen: Int = 4096
        @Option var batchSize: Int = 1
        @Option var warmup: Int = 1
        @Option var steps: Int = 3
        @Option(help: "JSON output file.")
        var out: String = "bench-train.json"

        func run() throws {
            let config = try model.resolve()
            try device.install()
            try TrainStepBenchmark(
                config: config, presetName: model.config == nil ? model.presetName : "custom",
                sequenceLength: seqLen, batchSize: batchSize, warmupSteps: warmup,
                timedSteps: steps, output: URL(fileURLWithPath: out)
            ).run()
        }
    }
}
