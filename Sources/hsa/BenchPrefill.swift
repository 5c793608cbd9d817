import ArgumentParser
import Foundation
import HSA
import HSADiagnostics

/// `hsa bench prefill`: the options of HSADiagnostics' `PrefillBenchmark`.
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
        _ = try parseKVPrecision(kvPrecision)
        guard block > 0, decodeSteps >= 0 else {
            throw ValidationError("need --block > 0 and --decode-steps >= 0")
        }
        _ = try parseLengths()
    }

    func run() throws {
        try device.install()
        let config = try model.resolve()
        try PrefillBenchmark(
            config: config, presetName: model.config == nil ? model.presetName : "custom",
            lengths: try parseLengths(),
            storage: kvStore == "disk"
                ? .disk(directory: try KVStorage.diskDirectory(path: kvPath)) : .ram,
            precision: try parseKVPrecision(kvPrecision), block: block,
            decodeSteps: decodeSteps, seed: seed, output: URL(fileURLWithPath: out),
            plot: URL(fileURLWithPath: plot)
        ).run()
    }

    private func parseLengths() throws -> [Int] {
        let values = lengths.split(separator: ",").map { parseTokenCount(String($0)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--lengths: expected e.g. 64K,256K,1M, got '\(lengths)'")
        }
        return values.compactMap { $0 }
    }
}

/// "4096", "64K" (x1024) or "1M" (x1048576) as a count; nil when malformed.
private func parseTokenCount(_ text: String) -> Int? {
    let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
    if trimmed.hasSuffix("K") { return Int(trimmed.dropLast()).map { $0 * 1024 } }
    if trimmed.hasSuffix("M") { return Int(trimmed.dropLast()).map { $0 * 1024 * 1024 } }
    return Int(trimmed)
}

// MARK: - Shared with `complete`

/// The `--kv-precision` value: fp32 or bf16.
func parseKVPrecision(_ value: String) throws -> KVPrecision {
    guard let precision = KVPrecision(rawValue: value) else {
        throw ValidationError("--kv-precision must be fp32 or bf16, got '\(value)'")
    }
    return precision
}
