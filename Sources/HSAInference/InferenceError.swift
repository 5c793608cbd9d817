import Foundation

/// Why streaming inference could not proceed.
public enum InferenceError: Error, CustomStringConvertible, Equatable {
    /// A token id outside `0 ..< vocabularySize`.
    case invalidToken(token: Int32, position: Int, vocabularySize: Int)
    /// `logits()` before any token was consumed.
    case emptyContext
    /// A system call on the key/value file failed.
    case kvFile(path: String, operation: String, code: Int32)

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
                + "hint: check free space and permissions of the --kv-path directory"
        }
    }
}
