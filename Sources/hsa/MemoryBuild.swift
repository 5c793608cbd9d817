import ArgumentParser
import Foundation
import HSA

/// `hsa memory build`: a new document memory from files.
struct MemoryBuild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Read files once into a new document memory.")

    @Option(help: "Checkpoint directory (config.json + model.safetensors).")
    var model: String
    @Option(help: "The memory's directory (created; must be new or empty).")
    var out: String
    @Argument(help: "Files, read in this order: BOS, then their text back to back.")
    var files: [String]
    @Option(help: "Key/value element type: fp32 (exact) or bf16 (half the disk).")
    var kvPrecision: String = "fp32"
    @OptionGroup var reading: DocumentReadingOptions
    @OptionGroup var device: BackendOptions

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one file to read") }
        _ = try parseKVPrecision(kvPrecision)
    }

    func run() throws {
        try requireOutputDirectory(out, option: "--out")
        for file in files { try requireInputFile(file, option: "document") }
        try device.install()
        let checkpoint = URL(fileURLWithPath: model)
        let network = try LanguageModel.load(from: checkpoint)
        let tokenizer = try TokenizerLoader.loadStreaming(checkpoint: checkpoint)
        let writer = try DocumentMemoryWriter(
            creating: URL(fileURLWithPath: out), model: network,
            identity: ModelIdentity(checkpoint: checkpoint),
            precision: try parseKVPrecision(kvPrecision), maxBlock: reading.maxBlock)
        try reading.read(files, into: writer, tokenizer: tokenizer)
    }
}
