import ArgumentParser
import Foundation
import HSA

/// `hsa complete`: streams a prompt of any size through the streaming engine (bounded memory,
/// O(T) time), then generates, printing tokens as they come.
struct Complete: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "complete",
        abstract: "Continue a prompt file of any length with streaming long-context inference.")

    @Option(help: "Checkpoint directory (config.json + model.safetensors).")
    var model: String
    @Option(help: "Prompt file, read in blocks ('-' for stdin).")
    var promptFile: String
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var device: BackendOptions
    @Option(help: "Where the chunk keys/values live: ram, disk, or auto (by prompt size).")
    var kvStore: String = "auto"
    @Option(help: "Directory of the disk key/value file (default: the temporary directory).")
    var kvPath: String?
    @Option(help: "Key/value element type: fp32 (exact) or bf16 (half the memory).")
    var kvPrecision: String = "fp32"
    @Option(help: "Bytes read (and tokens prefilled) per block.")
    var block: Int = 1 << 16
    @Option(
        help: """
            Longest prompt in model tokens, BOS included (one per byte for a byte-level \
            model); a longer prompt (an endless stdin) stops with an error before its \
            key/value memory grows past it. Default: as many as the chunk memory's store \
            (RAM or disk) and RAM have room for now.
            """)
    var maxPromptTokens: Int?

    func validate() throws {
        guard block > 0 else { throw ValidationError("--block must be > 0") }
        if let maxPromptTokens, maxPromptTokens < 2 {
            throw ValidationError("--max-prompt-tokens \(maxPromptTokens): must be at least 2")
        }
        guard KVStoreChoice(rawValue: kvStore) != nil else {
            throw ValidationError("--kv-store must be ram, disk or auto, got '\(kvStore)'")
        }
        _ = try parseKVPrecision(kvPrecision)
    }

    func run() throws {
        try requireInputFile(promptFile, option: "--prompt-file")
        try device.install()
        let directory = URL(fileURLWithPath: model)
        let network = try LanguageModel.load(from: directory)
        try sampling.check(vocabularySize: network.config.vocabSize)
        let tokenizer = try TokenizerLoader.loadStreaming(checkpoint: directory)
        let precision = try parseKVPrecision(kvPrecision)
        let prompt = PromptFile(path: promptFile)
        // On a GPU the keys/values go to the device store (spilling to pinned RAM) and large
        // blocks keep it busy; on the CPU blocks above 4096 rows only cost scratch memory.
        let accelerated = ComputeBackends.current is any StreamingAccelerator
        let choice = KVStoreChoice(rawValue: kvStore) ?? .auto  // checked by validate()
        let storage =
            accelerated
            ? .ram
            : try choice.storage(
                for: prompt, diskPath: kvPath, config: network.config, precision: precision)
        let session = try StreamingSession(
            model: network, storage: storage, precision: precision,
            maxBlock: accelerated ? block : min(block, 4096))
        let limit = PromptTokenLimit(
            given: maxPromptTokens, config: network.config, precision: precision,
            storage: storage)
        // The bar counts bytes read (the file size gives the ETA), the rate tokens.
        let totalBytes = prompt.byteCount
        let bar = ProgressBar(
            total: (totalBytes ?? 0) + 1, enabled: Terminal.isInteractive && totalBytes != nil)
        let start = Date()
        func rate() -> String {
            let seconds = max(Date().timeIntervalSince(start), 1e-9)
            return String(format: "%.0f tok/s", Double(session.position) / seconds)
        }
        try session.prefill(prompt, tokenizer: tokenizer, blockBytes: block, limit: limit) {
            bar.update(completed: 1 + $0, text: rate())
        }
        bar.finish(text: rate())
        try printContinuation(of: session, sampling: sampling, tokenizer: tokenizer)
    }
}
