import Foundation
import HSACPU
import HSACore
import HSAInference
import HSAModel
import HSAReport

/// `hsa bench prefill`: streaming prefill of long random prompts, with time, peak memory, disk
/// use and decode speed per length, as JSON and an SVG log-log plot.
public struct PrefillBenchmark {
    /// The model (random weights from `seed`) on the installed backend.
    public var config: ModelConfig
    /// The preset the config came from, or "custom", for the record.
    public var presetName: String
    /// Prompt lengths in tokens, measured in this order.
    public var lengths: [Int]
    /// Where the chunk keys/values live (a GPU backend keeps them in its device store).
    public var storage: KVStorage
    public var precision: KVPrecision
    /// Tokens per prefill block.
    public var block: Int
    /// Decode steps timed after each prefill.
    public var decodeSteps: Int
    /// Seed of the weights and (with the length) of each prompt's tokens.
    public var seed: UInt64
    /// The JSON record's file.
    public var output: URL
    /// The SVG plot of time and memory against length.
    public var plot: URL

    public init(
        config: ModelConfig, presetName: String, lengths: [Int], storage: KVStorage,
        precision: KVPrecision, block: Int, decodeSteps: Int, seed: UInt64, output: URL,
        plot: URL
    ) {
        self.config = config
        self.presetName = presetName
        self.lengths = lengths
        self.storage = storage
        self.precision = precision
        self.block = block
        self.decodeSteps = decodeSteps
        self.seed = seed
        self.output = output
        self.plot = plot
    }

    /// "ram" or "disk", as `--kv-store` names the storage.
    var storageName: String {
        switch storage {
        case .ram: return "ram"
        case .disk: return "disk"
        }
    }

    /// Measures every length, then writes the JSON record and the plot and prints the record.
    /// - Throws: before any prefill, when the longest prompt's chunk memory cannot fit.
    public func run() throws {
        let network = LanguageModel(config: config, seed: seed)
        // Fail before hours of prefill if the longest prompt's chunk memory cannot fit (on a
        // GPU the keys/values go to the device store instead, which spills to pinned RAM).
        if !(ComputeBackends.current is any StreamingAccelerator) {
            try MemoryPlan(config: config, tokens: lengths.max() ?? 0, precision: precision)
                .check(storage: storage)
        }
        var records: [[String: Any]] = []
        for length in lengths {
            records.append(try measure(network, length: length))
        }
        let result: [String: Any] = [
            "impl": BenchmarkHost.implementation + "-streaming",
            "preset": presetName,
            "kv_store": storageName,
            "kv_precision": precision.rawValue,
            "block": block,
            "threads": Threads.count,
            "machine": BenchmarkHost.machine,
            "results": records,
        ]
        let data = try BenchmarkHost.writeRecord(result, to: output)
        try writePlot(records)
        Terminal.printLine(String(decoding: data, as: UTF8.self))
    }

    // MARK: - Measurement

    /// Prefills `length` random tokens, takes the logits, and times `decodeSteps` decode steps.
    private func measure(_ network: LanguageModel, length: Int) throws -> [String: Any] {
        resetPeakResident()
        var rng = SplitMix64(seed: seed &+ UInt64(length))
        let vocab = UInt64(network.config.vocabSize)
        let session = try StreamingSession(
            model: network, storage: storage, precision: precision, maxBlock: block)
        let bar = ProgressBar(total: length)
        let start = Date()
        var done = 0
        while done < length {
            let n = min(block, length - done)
            try session.prefill(tokens: (0..<n).map { _ in Int32(rng.next() % vocab) })
            done += n
            let rate = Double(done) / max(Date().timeIntervalSince(start), 1e-9)
            bar.update(completed: done, text: String(format: "%.0f tok/s", rate))
        }
        let prefillSeconds = Date().timeIntervalSince(start)
        var logits = try session.logits()
        let seconds = Date().timeIntervalSince(start)
        bar.finish(text: String(format: "%.0f tok/s", Double(length) / seconds))
        let decodeStart = Date()
        for _ in 0..<decodeSteps {
            var best = 0
            for i in 1..<logits.count where logits[i] > logits[best] { best = i }
            logits = try session.decodeNext(token: Int32(best))
        }
        let decodeSeconds = Date().timeIntervalSince(decodeStart)
        let diskBytes = session.memory.map { $0.store is DiskKVStore ? $0.store.storedBytes : 0 }
        let deviceStore = (session.memory?.store as? DeviceKVStore)?.device
        let record: [String: Any] = [
            "length": length,
            "seconds": seconds,
            "prefill_seconds": prefillSeconds,
            "first_logits_seconds": seconds - prefillSeconds,
            "tokens_per_s": Double(length) / seconds,
            "peak_rss_mb": Double(peakResidentBytes()) / 1e6,
            "rss_anon_mb": Double(statusKilobytes("RssAnon")) / 1e3,
            "rss_file_mb": Double(statusKilobytes("RssFile")) / 1e3,
            "cache_mb": Double(session.cacheBytes) / 1e6,
            "disk_bytes": diskBytes ?? 0,
            "chunks": session.memory?.chunkCount ?? 0,
            "kv_device_mb": Double(deviceStore?.deviceBytes ?? 0) / 1e6,
            "kv_host_mb": Double(deviceStore?.hostBytes ?? 0) / 1e6,
            "decode_ms_per_token": decodeSteps > 0 ? decodeSeconds * 1000 / Double(decodeSteps) : 0,
        ]
        Terminal.printAboveProgress(
            String(
                format: "length %d: %.1f s (%.0f tok/s), peak RSS %.0f MB, decode %.1f ms/token",
                length, seconds, Double(length) / seconds, Double(peakResidentBytes()) / 1e6,
                decodeSteps > 0 ? decodeSeconds * 1000 / Double(decodeSteps) : 0))
        return record
    }

    /// Time and peak memory against length, log-log.
    private func writePlot(_ records: [[String: Any]]) throws {
        func series(_ key: String) -> [(x: Double, y: Double)] {
            records.compactMap { record in
                guard let length = record["length"] as? Int, let value = record[key] as? Double
                else { return nil }
                return (x: Double(length), y: value)
            }
        }
        let chart = LinePlot(
            title: "Streaming prefill (\(storageName) K/V store)",
            xLabel: "prompt length (tokens)",
            yLabel: "seconds / MB", xLog: true, yLog: true,
            series: [
                .init(name: "prefill time (s)", points: series("seconds")),
                .init(name: "peak RSS (MB)", points: series("peak_rss_mb")),
            ])
        try chart.write(to: plot)
    }
}
