import Foundation
import HSACore

/// The on-disk description of a tokenizer (`tokenizer.json`).
///
/// `{"type": "byte", "version": 1, "vocab_size": 259,
///   "special_tokens": {"bos": 256, "eos": 257, "pad": 258}}`
public struct TokenizerFile: Codable, Equatable, Sendable {
    /// The ids of the special tokens.
    public struct SpecialTokens: Codable, Equatable, Sendable {
        /// Beginning-of-sequence id.
        public var bos: Int32
        /// End-of-sequence id.
        public var eos: Int32
        /// Padding id.
        public var pad: Int32
    }

    /// `"byte"` for ``ByteTokenizer``.
    public var type: String
    /// Format version, currently 1.
    public var version: Int
    /// Vocabulary size including specials.
    public var vocabSize: Int
    /// The special token ids.
    public var specialTokens: SpecialTokens

    /// The type name of ``ByteTokenizer``.
    public static let byteType = "byte"
    /// The newest format version this build reads and writes.
    public static let currentVersion = 1

    enum CodingKeys: String, CodingKey {
        case type, version
        case vocabSize = "vocab_size"
        case specialTokens = "special_tokens"
    }

    /// Writes the description as pretty-printed JSON with sorted keys (stable diffs).
    public func write(to url: URL) throws {
        try writeTokenizerJSON(self, to: url)
    }
}

/// Reads `tokenizer.json` files and builds the tokenizer they describe: hsa's own byte format
/// (`{"type": "byte", ...}`) or a Hugging Face byte-level BPE file (one with a `model` object,
/// as `hsa tokenizer train` writes).
public enum TokenizerLoader {
    /// Tokenizer types this build can load.
    public static let supportedTypes = [TokenizerFile.byteType]

    /// The tokenizer of the checkpoint in `directory`: its tokenizer.json, or the byte
    /// tokenizer when it has none (the checkpoints of byte-level runs write none).
    /// - Throws: ``TokenizerError`` as `load(from:)`.
    public static func load(checkpoint directory: URL) throws -> any Tokenizer {
        let url = directory.appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: url.path) else { return ByteTokenizer() }
        return try load(from: url)
    }

    /// The tokenizer of the checkpoint in `directory`, which must be one that encodes text
    /// streamed in blocks (`makeStreamingEncoder(for:addBOS:)`: byte or BPE), as prompts and
    /// documents of any length are read.
    /// - Throws: ``TokenizerError/notStreamable(path:)``, or as `load(checkpoint:)`.
    public static func loadStreaming(checkpoint directory: URL) throws -> any Tokenizer {
        let tokenizer = try load(checkpoint: directory)
        guard makeStreamingEncoder(for: tokenizer) != nil else {
            throw TokenizerError.notStreamable(path: directory.path)
        }
        return tokenizer
    }

    /// The tokenizer at `path`: a tokenizer.json file, or a directory holding one (a directory
    /// without one has the byte tokenizer, as checkpoints of byte-level runs do).
    /// - Throws: ``TokenizerError/missingTokenizer(path:)`` when nothing is at `path`, or as
    ///   `load(from:)`.
    public static func load(fileOrDirectory path: String) throws -> any Tokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TokenizerError.missingTokenizer(path: path)
        }
        let url = URL(fileURLWithPath: path)
        return try isDirectory.boolValue ? load(checkpoint: url) : load(from: url)
    }

    /// The tokenizer described by the file at `url`.
    /// - Throws: ``TokenizerError`` for unreadable or malformed files, unknown types, newer
    ///   versions and fields that disagree with the type.
    public static func load(from url: URL) throws -> any Tokenizer {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TokenizerError.io(file: url.path, reason: fileErrorReason(error))
        }
        let decoder = JSONDecoder()
        // A Hugging Face file is told apart by its `model` object (hsa's own has none).
        struct FormatProbe: Decodable {
            struct Present: Decodable { init(from decoder: any Decoder) {} }
            var model: Present?
        }
        if (try? decoder.decode(FormatProbe.self, from: data))?.model != nil {
            return try loadBPE(data, path: url.path)
        }
        // Read the type and version first, so an unknown type is reported as such rather than
        // as a missing field of the byte format.
        struct Probe: Decodable {
            var type: String
            var version: Int
        }
        let probe: Probe
        do {
            probe = try decoder.decode(Probe.self, from: data)
        } catch {
            throw TokenizerError.malformed(file: url.path, reason: "\(error)")
        }
        guard supportedTypes.contains(probe.type) else {
            throw TokenizerError.unknownType(
                file: url.path, type: probe.type, supported: supportedTypes)
        }
        guard probe.version <= TokenizerFile.currentVersion, probe.version >= 1 else {
            throw TokenizerError.unsupportedVersion(
                file: url.path, version: probe.version, supported: TokenizerFile.currentVersion)
        }
        let file: TokenizerFile
        do {
            file = try decoder.decode(TokenizerFile.self, from: data)
        } catch {
            throw TokenizerError.malformed(file: url.path, reason: "\(error)")
        }
        return try makeByteTokenizer(file, path: url.path)
    }

    private static func loadBPE(_ data: Data, path: String) throws -> BPETokenizer {
        let file: HuggingFaceTokenizerFile
        do {
            file = try JSONDecoder().decode(HuggingFaceTokenizerFile.self, from: data)
        } catch {
            throw TokenizerError.invalidBPE(file: path, reason: describe(error))
        }
        return try file.makeTokenizer(path: path)
    }

    /// A decoding error in one line: what is wrong, and where (`model.merges[3]`).
    static func describe(_ error: any Error) -> String {
        func location(_ path: [any CodingKey]) -> String {
            let parts = path.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }
            let joined = parts.joined()
            return joined.hasPrefix(".") ? String(joined.dropFirst()) : joined
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?:
            return "missing key \(location(context.codingPath + [key]))"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
            return "\(location(context.codingPath)): \(context.debugDescription)"
        case .dataCorrupted(let context)?:
            let place = location(context.codingPath)
            return (place.isEmpty ? "" : "\(place): ") + context.debugDescription
        default:
            return "\(error)"
        }
    }

    private static func makeByteTokenizer(_ file: TokenizerFile, path: String) throws
        -> ByteTokenizer
    {
        let tokenizer = ByteTokenizer()
        let expected = TokenizerFile.SpecialTokens(
            bos: tokenizer.bos, eos: tokenizer.eos, pad: tokenizer.pad)
        if file.vocabSize != tokenizer.vocabularySize {
            throw TokenizerError.mismatch(
                file: path, field: "vocab_size", expected: "\(tokenizer.vocabularySize)",
                actual: "\(file.vocabSize)")
        }
        if file.specialTokens != expected {
            throw TokenizerError.mismatch(
                file: path, field: "special_tokens", expected: "\(expected)",
                actual: "\(file.specialTokens)")
        }
        return tokenizer
    }
}
