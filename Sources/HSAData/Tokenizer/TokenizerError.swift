import Foundation
import HSACore

/// Errors from reading or writing `tokenizer.json`.
public enum TokenizerError: Error, CustomStringConvertible, Sendable {
    /// The file could not be read or written.
    case io(file: String, reason: String)
    /// The file is not valid JSON of the expected shape.
    case malformed(file: String, reason: String)
    /// The `type` field names a tokenizer this build does not know.
    case unknownType(file: String, type: String, supported: [String])
    /// The `version` field is newer than this build reads.
    case unsupportedVersion(file: String, version: Int, supported: Int)
    /// A field disagrees with the tokenizer type (e.g. a byte tokenizer with vocab_size 300).
    case mismatch(file: String, field: String, expected: String, actual: String)
    /// A Hugging Face `tokenizer.json` (one with a `model` object) that is not a byte-level
    /// BPE this build reads, or whose vocab, merges or added tokens disagree.
    case invalidBPE(file: String, reason: String)
    /// The tokenizer of the checkpoint at `path` cannot encode text streamed in blocks.
    case notStreamable(path: String)
    /// `--tokenizer` names neither a file nor a directory.
    case missingTokenizer(path: String)
    /// Text that should hold token ids (`source` names it) has a field that is not one.
    case invalidTokenID(source: String, field: String)

    /// A message naming the file and the expected vs actual value, with a hint when known.
    public var description: String {
        switch self {
        case .io(let file, let reason):
            return "\(file): cannot access tokenizer file: \(reason)"
        case .malformed(let file, let reason):
            return "\(file): malformed tokenizer.json: \(reason); "
                + "hint: expected {\"type\": \"byte\", \"version\": 1, \"vocab_size\": 259, ...}"
        case .unknownType(let file, let type, let supported):
            let names = supported.map { "\"\($0)\"" }.joined(separator: ", ")
            return "\(file): unknown tokenizer type \"\(type)\"; hint: this build supports "
                + "\(names) and Hugging Face byte-level BPE files (`hsa tokenizer train`)"
        case .unsupportedVersion(let file, let version, let supported):
            return "\(file): tokenizer.json version \(version) was written by a newer hsa "
                + "(this build reads version \(supported)); hint: upgrade hsa"
        case .mismatch(let file, let field, let expected, let actual):
            return "\(file): tokenizer field \(field) is \(actual), expected \(expected)"
        case .invalidBPE(let file, let reason):
            return "\(file): invalid BPE tokenizer.json: \(reason); hint: hsa reads the "
                + "byte-level BPE files `hsa tokenizer train` writes"
        case .notStreamable(let path):
            return "\(path): its tokenizer cannot encode streamed text"
        case .missingTokenizer(let path):
            return "--tokenizer \(path): no such file or directory"
        case .invalidTokenID(let source, let field):
            return "\(source): \"\(field)\" is not a token id"
        }
    }
}

/// Writes a tokenizer file as pretty-printed JSON with sorted keys (stable diffs), atomically.
/// - Throws: ``TokenizerError/io(file:reason:)``.
func writeTokenizerJSON(_ value: some Encodable, to url: URL) throws {
    do {
        try JSONEncoder.sortedPretty(escapingSlashes: false).encode(value)
            .write(to: url, options: .atomic)
    } catch {
        throw TokenizerError.io(file: url.path, reason: "\(error)")
    }
}
