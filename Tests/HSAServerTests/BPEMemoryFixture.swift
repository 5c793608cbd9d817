import Foundation
import HSA
import HSATestSupport

@testable import HSAServer

/// A tiny checkpoint with a BPE tokenizer (trained here, random weights) and a document memory
/// built from it, with what `hsa ask` answers a question about the memory.
struct BPEMemoryFixture {
    static let modelID = "bpe-model"
    static let memoryName = "notes"
    /// The documents: words the tokenizer merges, and multi-byte characters that fall across
    /// the 64-byte read blocks.
    static let document = String(
        repeating: "the cat sat on the mat; 東京 naïve. the dog ate 42 bones 🚀 ", count: 4)
    /// Starts with a line break, a new pre-token, as a question after a memory should.
    static let question = "\nthe cat ate"

    let directory: TemporaryDirectory
    let checkpoint: URL
    let memory: URL
    let tokenizer: any Tokenizer

    /// Saves the checkpoint and builds the memory of `document` in a fresh directory.
    init() throws {
        directory = try TemporaryDirectory("serve-bpe")
        var trainer = try BPETrainer(vocabularySize: 320)
        for _ in 0..<20 { trainer.add(Self.document) }
        let bpe = trainer.train()
        var config = ModelConfig.tiny
        config.vocabSize = bpe.vocabularySize
        checkpoint = directory.file(Self.modelID)
        try Self.sharpModel(config).save(to: checkpoint)
        try bpe.save(to: checkpoint.appendingPathComponent("tokenizer.json"))
        tokenizer = try TokenizerLoader.loadStreaming(checkpoint: checkpoint)

        memory = directory.file(Self.memoryName)
        let writer = try DocumentMemoryWriter(
            creating: memory, model: LanguageModel.load(from: checkpoint),
            identity: ModelIdentity(checkpoint: checkpoint))
        try writer.read(
            documents: [directory.write("document.txt", Self.document)], tokenizer: tokenizer,
            blockBytes: 64)
        try writer.commit()
    }

    /// A model of `config` with random weights 15 times their initial size, so that its
    /// greedy text depends on what it read (at the initial size it barely does).
    static func sharpModel(_ config: ModelConfig) -> LanguageModel {
        let model = LanguageModel(config: config, seed: 11)
        for spec in model.layout.specs {
            guard case .normal = spec.initialization else { continue }
            let tensor = model.parameters.tensor(spec.name)
            for i in 0..<tensor.count { tensor[i] *= 15 }
        }
        return model
    }

    /// What `hsa ask --memory MEM --prompt PROMPT --max-tokens N --temperature 0` prints
    /// (without its final line break), through the library calls `Ask` makes.
    func ask(_ prompt: String, maxTokens: Int) throws -> String {
        let model = try LanguageModel.load(from: checkpoint)
        let session = try DocumentMemory(at: memory).session(
            model: model, identity: ModelIdentity(checkpoint: checkpoint))
        try session.prefill(
            tokens: DocumentMemory.promptTokens(Data(prompt.utf8), tokenizer: tokenizer))
        var sampler = Sampler(temperature: 0)
        var text = ""
        try session.continueText(maxTokens: maxTokens, sampler: &sampler, tokenizer: tokenizer) {
            text += $0
            return true
        }
        return text
    }

    /// Starts a server on a free loopback port serving the checkpoint and the memory; stopping
    /// it deletes the directory.
    func startServer() async throws -> ServerFixture {
        var configuration = ServerConfiguration()
        configuration.port = 0
        let catalog = try ModelCatalog(
            checkpoint: checkpoint, memories: [(Self.memoryName, memory)])
        let server = try await CompletionServer.start(configuration, catalog: catalog)
        return ServerFixture(server: server, directory: directory)
    }
}
