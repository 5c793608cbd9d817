import ArgumentParser
import Foundation
import HSA

/// `hsa bench prefill`: streaming prefill of long random prompts, with time, peak memory, disk
/// use and decode speed per length, as JSON and an SVG log-log plot.
struct BenchPrefill: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prefill",
        abstract: "Time streaming prefill (and decode) of long random prompts.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var device: BackendOptions
    @Option(help: "Comma-separated prompt lengths; K = 1024, M = 1048576 (e.g. 64K,256K,1M).")
    var lengths: String = "64K,256K"
    @Option(help: "Where the chunk keys/values live: ram or disk.")
    var kvStore: String = "ram"
    @Option(help: "Directory of the disk key/value file (default: the temporary directory).")
    var kvPath: String?
    @Option(help: "Key/value element type: fp32 (exact) or bf16 (half the memory).")
    var kvPrecision: String = "fp32"
    @Option(help: "Tokens per prefill block.")
    var block: Int = 2048
    @Option(help: "Decode steps timed after each prefill.")
    var decodeSteps: Int = 16
    @Option var seed: UInt64 = 1
    @Option(help: "JSON output file.")
    var out: String = "bench-prefill.json"
    @Option(help: "SVG plot of time and memory against length.")
    var plot: String = "bench-prefill.svg"

    func validate() throws {
        guard ["ram", "disk"].contains(kvStore) else {
            throw ValidationError("--kv-store must be ram or disk, got '\(kvStore)'")
        }
        guard KVPrecision(rawValue: kvPrecision) != nil else {
            throw ValidationError("--kv-precision must be fp32 or bf16, got '\(kvPrecision)'")
        }
        guard block > 0, decodeSteps >= 0 else {
            throw ValidationError("need --block > 0 and --decode-steps >= 0")
        }
        _ = try parseLengths()
    }

    func run() throws {
        try device.install()
        let config = try model.resolve()
        let network = LanguageModel(config: config, seed: seed)
        let storage = try kvStorage(kvStore, path: kvPath)
        let lengths = try parseLengths()
        // Fail before hours of prefill if the longest prompt's chunk memory cannot fit (on a
        // GPU the keys/values go to the device store instead, which spills to pinned RAM).
        if !(ComputeBackends.current is any StreamingAccelerator) {
            try MemoryPlan(
                config: config, tokens: lengths.max() ?? 0,
                precision: KVPrecision(rawValue: kvPrecision) ?? .fp32
            ).check(storage: storage)
        }
        var records: [[String: Any]] = []
        for length in lengths {
            records.append(try measure(network, storage: storage, length: length))
        }
        let result: [String: Any] = [
            "impl": device.implementation + "-streaming",
            "preset": model.config == nil ? model.presetName : "custom",
            "kv_store": kvStore,
            "kv_precision": kvPrecision,
            "block": block,
            "threads": Threads.count,
            "machine": machineDescription(),
            "results": records,
        ]
        let data = try JSONSerialization.data(
            withJSONObject: result, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: URL(fileURLWithPath: out))
        try writePlot(records)
        Terminal.printLine(String(decoding: data, as: UTF8.self))
    }

    // MARK: - Measurement

    /// Prefills `length` random tokens, takes the logits, and times `decodeSteps` decode steps.
    private func measure(_ network: LanguageModel, storage: KVStorage, length: Int) throws
        -> [String: Any]
    {
        resetPeakResident()
        var rng = SplitMix64(seed: seed &+ UInt64(length))
        let vocab = UInt64(network.config.vocabSize)
        let session = try StreamingSession(
            model: network, storage: storage,
            precision: KVPrecision(rawValue: kvPrecision) ?? .fp32, maxBlock: block)
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
            title: "Streaming prefill (\(kvStore) K/V store)", xLabel: "prompt length (tokens)",
            yLabel: "seconds / MB", xLog: true, yLog: true,
            series: [
                .init(name: "prefill time (s)", points: series("seconds")),
                .init(name: "peak RSS (MB)", points: series("peak_rss_mb")),
            ])
        try chart.write(to: URL(fileURLWithPath: plot))
    }

    private func parseLengths() throws -> [Int] {
        let values = lengths.split(separator: ",").map { parseTokenCount(String($0)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--lengths: expected e.g. 64K,256K,1M, got '\(lengths)'")
        }
        return values.compactMap { $0 }
    }
}

// MARK: - Helpers shared with `complete`

/// "4096", "64K" (x1024) or "1M" (x1048576) as a count; nil when malformed.
func parseTokenCount(_ text: String) -> Int? {
    let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
    if trimmed.hasSuffix("K") { return Int(trimmed.dropLast()).map { $0 * 1024 } }
    if trimmed.hasSuffix("M") { return Int(trimmed.dropLast()).map { $0 * 1024 * 1024 } }
    return Int(trimmed)
}

/// The key/value storage named by `--kv-store` (and `--kv-path` for disk).
func kvStorage(_ name: String, path: String?) throws -> KVStorage {
    switch name {
    case "ram": return .ram
    case "disk":
        let directory =
            path.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
            isDirectory.boolValue
        else {
            throw UserError("--kv-path \(directory.path): not a directory; hint: create it first")
        }
        return .disk(directory: directory)
    default:
        throw UserError("--kv-store must be ram or disk, got '\(name)'")
    }
}
