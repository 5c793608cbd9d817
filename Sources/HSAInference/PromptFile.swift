import Foundation

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
}
