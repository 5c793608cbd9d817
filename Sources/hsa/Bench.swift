import ArgumentParser
import Foundation
import HSA

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
            let network = LanguageModel(config: config, seed: 1)
            var rng = SplitMix64(seed: 2)
            let n = batchSize * seqLen
            let tokens = (0..<n).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }
            let targets = (0..<n).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }
            var timings: [Double] = []
            // HSA_CUDA_PROFILE=1: per-op times of the timed steps only.
            let profiler = (ComputeBackends.current as? CUDAManagedBackend)?.profiler
            for step in 0..<(warmup + steps) {
                if step == warmup { profiler?.reset() }
                let start = Date()
                network.zeroGradients()
                let pass = network.forward(
                    tokens: tokens, targets: targets, batch: batchSize, sequenceLength: seqLen)
                network.backward(pass)
                ComputeBackends.current?.synchronize()
                let seconds = Date().timeIntervalSince(start)
                if step >= warmup { timings.append(seconds) }
                Terminal.printLine(
                    String(
                        format: "step %d: %.0f ms%@", step, seconds * 1000,
                        step < warmup ? " (warm-up)" : ""))
            }
            let median = timings.sorted()[timings.count / 2]
            if let profiler {
                let mean = timings.reduce(0, +) / Double(max(timings.count, 1))
                Terminal.printLine(
                    profiler.table(
                        steps: timings.count, title: "bench train per-op time (HSA_CUDA_PROFILE)")
                        + String(format: "\nmean step wall time %.3f ms", mean * 1000))
                profiler.reset()
            }
            let result: [String: Any] = [
                "impl": device.implementation,
                "preset": model.config == nil ? model.presetName : "custom",
                "seq_len": seqLen,
                "batch_size": batchSize,
                "parameters": network.layout.totalCount,
                "step_ms": median * 1000,
                "tokens_per_s": Double(n) / median,
                "peak_rss_mb": Double(peakResidentBytes()) / 1e6,
                "threads": Threads.count,
                "blas": BLAS.configuration,
                "machine": machineDescription(),
            ]
            let data = try JSONSerialization.data(
                withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
            try AtomicFile.write(data, to: URL(fileURLWithPath: out))
            Terminal.printLine(String(decoding: data, as: UTF8.self))
        }
    }
}

/// CPU model and core count, for benchmark records.
func machineDescription() -> String {
    let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let model =
        cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
        .map {
            String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(
                in: .whitespaces)
        }
        ?? "unknown CPU"
    return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) cores"
}
