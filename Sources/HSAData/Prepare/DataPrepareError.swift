import Foundation

/// Errors from ``DataPreparer``.
public enum DataPrepareError: Error, CustomStringConvertible, Sendable {
    /// An input path does not exist.
    case inputNotFound(path: String)
    /// No input files were found under the given paths.
    case noDocuments(paths: [String])
    /// Every input file is empty.
    case allDocumentsEmpty(paths: [String], files: Int)
    /// An option is out of range.
    case invalidOption(name: String, value: String, expected: String)
    /// A file or directory could not be read or written.
    case io(path: String, reason: String)
    /// `manifest.json` does not decode or describes impossible shards.
    case invalidManifest(path: String, reason: String)

    /// A message naming the path and the expected vs actual value, with a hint when known.
    public var description: String {
        switch self {
        case .inputNotFound(let path):
            return "\(path): input file or directory does not exist"
        case .noDocuments(let paths):
            return "no input documents found in \(Self.list(paths)); hint: directories are "
                + "searched recursively for *.txt, *.md and *.rst files (or pass all files)"
        case .allDocumentsEmpty(let paths, let files):
            return "all \(files) input files in \(Self.list(paths)) are empty; "
                + "hint: there is no text to train on"
        case .invalidOption(let name, let value, let expected):
            return "data prepare option \(name) is \(value), expected \(expected)"
        case .io(let path, let reason):
            return "\(path): \(reason)"
        case .invalidManifest(let path, let reason):
            return "\(path): \(reason); hint: prepare the data again with `hsa data prepare`"
        }
    }

    private static func list(_ paths: [String]) -> String {
        paths.map { "'\($0)'" }.joined(separator: ", ")
    }
}
