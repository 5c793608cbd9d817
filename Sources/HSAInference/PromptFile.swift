import Foundation
import HSACore

/// A prompt to stream from a file, or from standard input when the path is `-`.
public struct PromptFile: Sendable, Equatable {
    /// The path as given (`-`: standard input).
    public let path: String

    /// A prompt read from `path` (`-`: standard input).
    public init(path: String) {
        self.path = path
    }

    /// Whether the prompt is standard input.
    public var isStandardInput: Bool { path == "-" }

    /// How messages name the prompt: its path, or `stdin`.
    public var name: String { isStandardInput ? "stdin" : path }

    /// The file's size in bytes; nil for standard input (whose size is unknown) or a file whose
    /// attributes cannot be read.
    public var byteCount: Int? {
        guard !isStandardInput else { return nil }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        return (attributes?[.size] as? NSNumber)?.intValue
    }

    /// All the prompt's bytes, for a short prompt read at once (`hsa generate`, `hsa ask`),
    /// refused past `limit` bytes before more is read: an endless stdin must not grow memory
    /// without bound (long prompts are streamed instead).
    /// - Throws: ``InferenceError/promptFileTooLong(prompt:limit:)``,
    ///   ``InferenceError/unreadableFile(path:reason:)``.
    public func contents(limit: Int = 1 << 26) throws -> Data {
        let tooLong = InferenceError.promptFileTooLong(
            prompt: isStandardInput ? "(stdin)" : path, limit: limit)
        guard isStandardInput else {
            if let byteCount, byteCount > limit { throw tooLong }
            do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw InferenceError.unreadableFile(path: path, reason: fileErrorReason(error))
            }
        }
        var data = Data()
        while let block = try FileHandle.standardInput.read(upToCount: 1 << 20), !block.isEmpty {
            data.append(block)
            if data.count > limit { throw tooLong }
        }
        return data
    }
}
