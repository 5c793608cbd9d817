import ArgumentParser
import Foundation
import HSA

/// `hsa ask`: continues a prompt after the documents of a document memory, restoring the
/// streaming state instead of reading them again.
struct Ask: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue a prompt after a document memory's documents (hsa memory build).")

    @Option(help: "The document memory's directory.")
    var memory: String
    @Option(help: "Checkpoint directory (default: the one the memory was built with).")
    var model: String?
    @OptionGroup var prompt: PromptOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var device: BackendOptions

    func validate() throws {
        guard prompt.isGiven else {
            throw ValidationError("give one of --prompt and --prompt-file")
        }
    }

    func run() throws {
        let promptBytes = try prompt.bytes()
        try device.install()
        let memory = try DocumentMemory(at: URL(fileURLWithPath: self.memory))
        let checkpoint = try memory.checkpoint(given: model.map { URL(fileURLWithPath: $0) })
        let network = try LanguageModel.load(from: checkpoint)
        try sampling.check(vocabularySize: network.config.vocabSize)
        let tokenizer = try TokenizerLoader.loadStreaming(checkpoint: checkpoint)
        let session = try memory.session(
            model: network, identity: ModelIdentity(checkpoint: checkpoint))
        try session.prefill(
            tokens: DocumentMemory.promptTokens(promptBytes, tokenizer: tokenizer))
        try printContinuation(of: session, sampling: sampling, tokenizer: tokenizer)
    }
}
