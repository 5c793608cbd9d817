import Foundation
import HSAData
import HSAInference

/// What a completion reads before its prompt.
enum CompletionSource: Sendable {
    /// Nothing: BOS, then the prompt.
    case model
    /// The documents of a memory: the prompt continues them (no BOS).
    case memory(NamedMemory)

    /// The tokens `prompt` is read as after this source: BOS and the prompt for the model; for
    /// a memory, the prompt encoded as `hsa ask` encodes one.
    func promptTokens(_ prompt: String, tokenizer: any Tokenizer) -> [Int32] {
        switch self {
        case .model: [tokenizer.bos] + tokenizer.encode(prompt)
        case .memory: DocumentMemory.promptTokens(Data(prompt.utf8), tokenizer: tokenizer)
        }
    }
}
