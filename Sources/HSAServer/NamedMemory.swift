import Foundation
import HSAInference
import HSAModel

/// A document memory served under a model id: opened and checked once at start (memory.json,
/// the model, every file's checksums), then shared read-only by every request that names it.
/// Each request gets its own session restored from `snapshot`, its keys/values mapped
/// copy-on-write, so nothing a request does reaches the memory's files or another request.
struct NamedMemory: Sendable {
    /// The model id requests use (`"model": name`).
    let name: String
    let memory: DocumentMemory
    /// The verified streaming state after the documents.
    let snapshot: StreamingSnapshot

    /// Opens the memory in `directory` for `model`, the checkpoint `identity` the server runs.
    /// - Throws: `ServerSetupError` naming the memory and what is wrong with it.
    init(name: String, directory: URL, model: LanguageModel, identity: ModelIdentity) throws {
        self.name = name
        do {
            memory = try DocumentMemory(at: directory)
            try memory.requireModel(identity, config: model.config)
            snapshot = try memory.verifiedSnapshot()
        } catch {
            throw ServerSetupError("--memory \(name)=\(directory.path): \(error)")
        }
    }

    /// A fresh session positioned after the documents.
    func session(model: LanguageModel) throws -> StreamingSession {
        try memory.session(model: model, restoring: snapshot)
    }
}
