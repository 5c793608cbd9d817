import Foundation
import HSACPU
import HSACUDA
import HSACore
import HSAModel
import HSAReport

/// `hsa bench train`: forward+backward training steps on random tokens, timed after warm-up,
/// with the median step time written as JSON.
public struct TrainStepBenchmark {
    /// The model to time (on the installed backend).
    public var config: ModelConfig
    /// The preset the config came from, or "custom", for the record.
    public var presetName: String
    public var sequenceLength: Int
    public var batchSize: Int
    /// Untimed steps first (kernel compilation, allocations).
    public var warmupSteps: Int
    public var timedSteps: Int
    /// The JSON record's file.
    public var output: URL

    public init(
        config: ModelConfig, presetName: String, sequenceLength: Int, batchSize: Int,
        warmupSteps: Int, timedSteps: Int, output: URL
    ) {
        self.config = config
        self.presetName = presetName
        self.sequenceLength = sequenceLength
        self.batchSize = batchSize
        self.warmupSteps = warmupSteps
        self.timedSteps = timedSteps
        self.output = output
    }

    /// Runs the steps on `ComputeBackends.current`, printing each, then writes and prints the
    /// record.
    public func run() throws {
        let network = LanguageModel(config: config, seed: 1)
        var rng = SplitMix64(seed: 2)
        let n = batchSize * sequenceLength
        let tokens = (0..<n).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }
        let targets = (0..<n).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }
        var timings: [Double] = []
        // HSA_CUDA_PROFILE=1: per-op times of the timed steps only.
        let profiler = (ComputeBackends.current as? CUDAManagedBackend)?.profiler
        for step in 0..<(warmupSteps + timedSteps) {
            if step == warmupSteps { profiler?.reset() }
            let start = Date()
            network.zeroGradients()
            let pass = network.forward(
                tokens: tokens, targets: targets, batch: batchSize, sequenceLength: sequenceLength)
            network.backward(pass)
            ComputeBackends.current?.synchronize()
            let seconds = Date().timeIntervalSince(start)
            if step >= warmupSteps { timings.append(seconds) }
            Terminal.printLine(
                String(
                    format: "step %d: %.0f ms%@", step, seconds * 1000,
                    step < warmupSteps ? " (warm-up)" : ""))
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
            "impl": BenchmarkHost.implementation,
            "preset": presetName,
            "seq_len": sequenceLength,
            "batch_size": batchSize,
            "parameters": network.layout.totalCount,
            "step_ms": median * 1000,
            "tokens_per_s": Double(n) / median,
            "peak_rss_mb": Double(peakResidentBytes()) / 1e6,
            "threads": Threads.count,
            "blas": BLAS.configuration,
            "machine": BenchmarkHost.machine,
        ]
        let data = try BenchmarkHost.writeRecord(result, to: output)
        Terminal.printLine(String(decoding: data, as: UTF8.self))
    }
}
