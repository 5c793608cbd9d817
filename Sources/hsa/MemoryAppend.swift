import ArgumentParser
import Foundation
import HSA

/// `hsa memory append`: more files into an existing document memory.
struct MemoryAppend: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Read more files into a document memory, after what it holds.")

    @Argument(help: "The memory's directory.")
    var memory: String
    @Argument(help: "Files, read in this order after the memory's documents.")
    var files: [String]
    @Option(help: "Checkpoint directory (default: the one the memory was built with).")
    var model: String?
    @OptionGroup var reading: DocumentReadingOptions
    @OptionGroup var device: BackendOptions

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one file to read") }
    }

    func run() throws {
        for file in files { try requireInputFile(file, option: "document") }
        try device.install()
        let directory = URL(fileURLWithPath: memory)
        let checkpoint = try DocumentMemory(at: directory).checkpoint(
            given: model.map { URL(fileURLWithPath: $0) })
        let network = try LanguageModel.load(from: checkpoint)
        let tokenizer = try TokenizerLoader.loadStreaming(checkpoint: checkpoint)
        let writer = try DocumentMemoryWriter(
            appendingTo: directory, model: network,
            identity: ModelIdentity(checkpoint: checkpoint), maxBlock: reading.maxBlock)
        try reading.read(files, into: writer, tokenizer: tokenizer)
    }
}
