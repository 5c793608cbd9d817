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
        guard ["ram", "disk", "auto"].contains(kvStore) else {
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
        let tokenizer = try streamingTokenizer(checkpoint: directory)
        let precision = try parseKVPrecision(kvPrecision)
        // On a GPU the keys/values go to the device store (spilling to pinned RAM) and large
        // blocks keep it busy; on the CPU blocks above 4096 rows only cost scratch memory.
        let accelerated = ComputeBackends.current is any StreamingAccelerator
        let storage =
            accelerated ? .ram : try plannedStorage(config: network.config, precision: precision)
        let session = try StreamingSession(
            model: network, storage: storage, precision: precision,
            maxBlock: accelerated ? block : min(block, 4096))
        let limit = PromptLimit(
            tokens: maxPromptTokens
                ?? MemoryPlan.largestPrompt(
                    config: network.config, precision: precision, storage: storage),
            derived: maxPromptTokens == nil)
        try prefill(session, limit: limit, tokenizer: tokenizer)
        try printContinuation(of: session, sampling: sampling, tokenizer: tokenizer)
    }

    /// The key/value store for this prompt, checked against free RAM and disk before any work:
    /// a file's size plus BOS bounds its token count (exact for byte tokens; a BPE token is at
    /// least one byte, so a BPE prompt needs no more); stdin's is unknown, so `auto` keeps it on
    /// disk.
    private func plannedStorage(config: ModelConfig, precision: KVPrecision) throws -> KVStorage {
        let diskDirectory = try kvStorage("disk", path: kvPath)
        guard promptFile != "-",
            let size = (try? FileManager.default.attributesOfItem(atPath: promptFile))?[.size]
                as? NSNumber
        else { return kvStore == "ram" ? .ram : diskDirectory }
        let plan = MemoryPlan(config: config, tokens: size.intValue + 1, precision: precision)
        let storage: KVStorage
        switch kvStore {
        case "ram": storage = .ram
        case "disk": storage = diskDirectory
        default:
            guard case .disk(let directory) = diskDirectory else { return .ram }
            storage = plan.automaticStorage(diskDirectory: directory)
        }
        try plan.check(storage: storage)
        return storage
    }

    /// The most prompt tokens `complete` reads: `--max-prompt-tokens`, or what the free RAM
    /// and disk hold.
    private struct PromptLimit {
        let tokens: Int
        /// Whether `tokens` was derived from free space (no --max-prompt-tokens given).
        let derived: Bool
    }

    /// The error for a prompt longer than the limit.
    private func promptTooLong(_ limit: PromptLimit) -> UserError {
        let source = promptFile == "-" ? "stdin" : promptFile
        let origin = limit.derived ? "(what free RAM/disk holds now)" : "\(limit.tokens)"
        return UserError(
            "--max-prompt-tokens \(origin): the prompt (\(source)) is longer than "
                + "\(limit.tokens) tokens (BOS included); hint: "
                + (limit.derived ? "free memory or disk, or " : "raise --max-prompt-tokens or ")
                + "shorten the prompt")
    }

    /// Reads the prompt in blocks of `block` bytes, tokenizes and prefills each as it comes.
    private func prefill(
        _ session: StreamingSession, limit: PromptLimit, tokenizer: any Tokenizer
    ) throws {
        let handle: FileHandle
        var totalBytes: Int?
        if promptFile == "-" {
            handle = FileHandle.standardInput
        } else {
            guard let file = FileHandle(forReadingAtPath: promptFile) else {
                throw UserError("\(promptFile): cannot open the prompt file")
            }
            handle = file
            let attributes = try? FileManager.default.attributesOfItem(atPath: promptFile)
            totalBytes = (attributes?[.size] as? NSNumber)?.intValue
        }
        defer { if promptFile != "-" { try? handle.close() } }
        // Byte tokens: a file's size is its token count, refused before any work. BPE tokens
        // are fewer than bytes, so a larger file may still fit: checked as it is read.
        if tokenizer is ByteTokenizer, let totalBytes, totalBytes + 1 > limit.tokens {
            throw promptTooLong(limit)
        }
        guard var encoder = makeStreamingEncoder(for: tokenizer) else {
            preconditionFailure("streamingTokenizer(checkpoint:) checked the tokenizer")
        }
        // The bar counts bytes read (the file size gives the ETA), the rate tokens.
        let bar = ProgressBar(
            total: (totalBytes ?? 0) + 1, enabled: Terminal.isInteractive && totalBytes != nil)
        let start = Date()
        var bytesRead = 0
        while true {
            let data = handle.readData(ofLength: block)
            if data.isEmpty { break }
            bytesRead += data.count
            let tokens = encoder.encode(data)
            // Checked before the block is prefilled: the store never grows past the limit.
            guard session.position + tokens.count <= limit.tokens else {
                throw promptTooLong(limit)
            }
            try session.prefill(tokens: tokens)
            let rate = Double(session.position) / max(Date().timeIntervalSince(start), 1e-9)
            bar.update(completed: 1 + bytesRead, text: String(format: "%.0f tok/s", rate))
        }
        let rest = encoder.finish(addEOS: false)
        guard session.position + rest.count <= limit.tokens else { throw promptTooLong(limit) }
        try session.prefill(tokens: rest)
        let seconds = Date().timeIntervalSince(start)
        let rate = Double(session.position) / max(seconds, 1e-9)
        bar.finish(text: String(format: "%.0f tok/s", rate))
    }
}
