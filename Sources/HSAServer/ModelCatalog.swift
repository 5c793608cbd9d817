import Foundation
import HSAData
import HSAInference
import HSAModel

/// What a server answers with: one checkpoint, listed under its id, and the document memories
/// named at start, listed under their names. Requests choose among these ids only: a request
/// can never make the server open a path.
public struct ModelCatalog: Sendable {
    /// The checkpoint's model id (`--model-name`, else the directory's name).
    public let modelID: String
    /// The checkpoint directory (each worker loads its own copy of the model from it).
    let checkpoint: URL
    let config: ModelConfig
    let tokenizer: any Tokenizer
    let memories: [String: NamedMemory]

    /// Loads the checkpoint and opens `memories` (name → directory), checking every memory
    /// against the checkpoint.
    /// - Throws: `ServerSetupError`.
    public init(checkpoint: URL, modelID: String? = nil, memories: [(String, URL)] = []) throws {
        self.checkpoint = checkpoint
        self.modelID = modelID ?? checkpoint.standardizedFileURL.lastPathComponent
        let model: LanguageModel
        do {
            model = try LanguageModel.load(from: checkpoint)
            // With memories, the tokenizer `hsa ask` loads: one that encodes streamed text, as
            // the memories' documents were read.
            tokenizer =
                try memories.isEmpty
                ? TokenizerLoader.load(checkpoint: checkpoint)
                : TokenizerLoader.loadStreaming(checkpoint: checkpoint)
        } catch {
            throw ServerSetupError("--model \(checkpoint.path): \(error)")
        }
        config = model.config
        var opened: [String: NamedMemory] = [:]
        if !memories.isEmpty {
            let identity = try ModelIdentity(checkpoint: checkpoint)
            for (name, directory) in memories {
                try Self.checkName(name, taken: Set(opened.keys).union([self.modelID]))
                opened[name] = try NamedMemory(
                    name: name, directory: directory, model: model, identity: identity)
            }
        }
        self.memories = opened
    }

    /// Throws unless `name` can be a model id: letters, digits, `.`, `_`, `-`, `:`, not
    /// already taken.
    private static func checkName(_ name: String, taken: Set<String>) throws {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-:"))
        guard !name.isEmpty, name.unicodeScalars.allSatisfy(allowed.contains) else {
            throw ServerSetupError(
                "--memory \(name): a name is letters, digits, '.', '_', '-' or ':'")
        }
        guard !taken.contains(name) else {
            throw ServerSetupError("--memory \(name): the name is already taken")
        }
    }

    /// Every model id, the checkpoint's first, then the memories' by name.
    public var ids: [String] { [modelID] + memories.keys.sorted() }

    /// What the id `id` reads before the prompt, or nil for an unknown id.
    func source(_ id: String) -> CompletionSource? {
        if id == modelID { return .model }
        return memories[id].map { .memory($0) }
    }

    /// A new copy of the model, for one worker (sessions are not thread-safe, and a model's
    /// inference weights are built lazily, so workers never share one).
    func loadModel() throws -> LanguageModel { try LanguageModel.load(from: checkpoint) }
}
