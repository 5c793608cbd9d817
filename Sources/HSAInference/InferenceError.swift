import Foundation

/// Why streaming inference could not proceed.
public enum InferenceError: Error, CustomStringConvertible, Equatable {
    /// A token id outside `0 ..< vocabularySize`.
    case invalidToken(token: Int32, position: Int, vocabularySize: Int)
    /// `logits()` before any token was consumed.
    case emptyContext
    /// A system call on the key/value file failed.
    case kvFile(path: String, operation: String, code: Int32)
    /// A key/value file holds fewer bytes than the records it is opened for.
    case kvFileShort(path: String, bytes: Int, neededBytes: Int)
    /// The chunk memory of a prompt would not fit (see `MemoryPlan`).
    case insufficientSpace(resource: String, neededBytes: Int, availableBytes: Int, tokens: Int)
    /// The chunk memory's key/value store cannot be read by the backend that runs the session
    /// (a device store with the CPU backend, or the reverse).
    case storeNotReadable(store: String)
    /// Snapshots are taken and restored on the CPU backend only.
    case snapshotNeedsCPU
    /// A snapshot that is not the state of a session of this model (`reason` says what
    /// disagrees).
    case snapshotMismatch(reason: String)
    /// `--kv-path` (or the temporary directory) is not an existing directory.
    case kvPathNotDirectory(path: String)
    /// The prompt file cannot be opened.
    case promptUnreadable(path: String)
    /// A streamed prompt longer than its `PromptTokenLimit` (`derived`: from the free space).
    case promptTooLong(prompt: String, limit: Int, derived: Bool)
    /// A prompt read at once is longer than `limit` bytes.
    case promptFileTooLong(prompt: String, limit: Int)
    /// A file that could not be read (`reason` says why).
    case unreadableFile(path: String, reason: String)
    /// Streaming inference of `attention` (e.g. `landmark`) runs on the CPU only.
    case streamingUnsupported(attention: String)
    /// Streaming inference of `mixer` (e.g. `mamba2`) runs on the CPU only.
    case streamingUnsupportedMixer(String)
    /// Snapshots (document memories) do not hold the recurrent state of `mixer` models yet.
    case snapshotUnsupportedMixer(String)
    /// Snapshots (document memories) do not hold the block caches of `attention` (e.g.
    /// `landmark`) models yet.
    case snapshotUnsupportedAttention(String)

    /// The message, naming the file or token, with a hint where one is known.
    public var description: String {
        switch self {
        case .invalidToken(let token, let position, let vocabularySize):
            return "token \(token) at position \(position) is outside the vocabulary "
                + "0..<\(vocabularySize); hint: tokenize with the model's tokenizer"
        case .emptyContext:
            return "logits requested before any token; hint: prefill at least one token (BOS)"
        case .kvFile(let path, let operation, let code):
            return "\(path): \(operation) failed (\(String(cString: strerror(code)))); "
                + "hint: check free space and permissions of its directory (--kv-path, or "
                + "the document memory's)"
        case .kvFileShort(let path, let bytes, let needed):
            return "\(path): holds \(bytes) bytes, its records need \(needed); the file was "
                + "truncated"
        case .insufficientSpace(let resource, let needed, let available, let tokens):
            return "a \(tokens)-token prompt needs \(megabytes(needed)) of \(resource) for its "
                + "chunk memory, \(megabytes(available)) available; hint: use --kv-store disk "
                + "with a --kv-path on a larger disk, or --kv-precision bf16 to halve it"
        case .storeNotReadable(let store):
            return "the chunk memory's \(store) cannot be read by the current backend "
                + "(expected a host store for the CPU, a device store for an accelerator); "
                + "hint: create the session after setting ComputeBackends.current"
        case .snapshotNeedsCPU:
            return "streaming snapshots (document memories) run on the CPU backend only for "
                + "now; hint: use --backend cpu"
        case .snapshotMismatch(let reason):
            return "the streaming snapshot does not fit the model: \(reason)"
        case .kvPathNotDirectory(let path):
            return "--kv-path \(path): not a directory; hint: create it first"
        case .promptUnreadable(let path):
            return "\(path): cannot open the prompt file"
        case .promptTooLong(let prompt, let limit, let derived):
            let origin = derived ? "(what free RAM/disk holds now)" : "\(limit)"
            return "--max-prompt-tokens \(origin): the prompt (\(prompt)) is longer than "
                + "\(limit) tokens (BOS included); hint: "
                + (derived ? "free memory or disk, or " : "raise --max-prompt-tokens or ")
                + "shorten the prompt"
        case .promptFileTooLong(let prompt, let limit):
            return "--prompt-file \(prompt): longer than \(limit) bytes; hint: stream long "
                + "inputs with `hsa complete` or `hsa memory build`"
        case .unreadableFile(let path, let reason):
            return "\(path): cannot read (\(reason))"
        case .streamingUnsupported(let attention):
            return "streaming inference of attention '\(attention)' models runs on the CPU only "
                + "for now (its block retrieval has no CUDA kernel yet); hint: use --backend cpu"
        case .streamingUnsupportedMixer(let mixer):
            return "streaming inference of mixer '\(mixer)' models runs on the CPU only for now "
                + "(its scan has no CUDA kernel yet); hint: use --backend cpu"
        case .snapshotUnsupportedMixer(let mixer):
            return "document memories do not hold the recurrent state of mixer '\(mixer)' "
                + "models yet; hint: pass the document with the prompt instead"
        case .snapshotUnsupportedAttention(let attention):
            return "document memories do not hold the block caches of attention "
                + "'\(attention)' models yet; hint: pass the document with the prompt instead"
        }
    }
}

private func megabytes(_ bytes: Int) -> String {
    String(format: "%.1f MB", Double(bytes) / 1e6)
}
