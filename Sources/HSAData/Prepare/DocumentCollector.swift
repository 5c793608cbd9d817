import Foundation

/// One input file found by ``DataPreparer``.
public struct SourceDocument: Equatable, Sendable {
    /// The file.
    public var url: URL
    /// The input path (file or directory) it was found under, as given.
    public var input: String
    /// Path relative to the input directory (the file name for a file input).
    public var relativePath: String
}

/// Finds the documents of a list of input paths.
enum DocumentCollector {
    /// Files named directly are always taken; directories are searched recursively for files
    /// whose extension is in `extensions` (all regular files when `extensions` is nil).
    /// Hidden files and folders are skipped. Order: inputs as given, then by relative path.
    static func collect(inputs: [URL], extensions: Set<String>?) throws -> [SourceDocument] {
        var documents: [SourceDocument] = []
        let manager = FileManager.default
        for input in inputs {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: input.path, isDirectory: &isDirectory) else {
                throw DataPrepareError.inputNotFound(path: input.path)
            }
            if !isDirectory.boolValue {
                documents.append(
                    SourceDocument(
                        url: input, input: input.path, relativePath: input.lastPathComponent))
                continue
            }
            var found: [SourceDocument] = []
            let root = input.standardizedFileURL.resolvingSymlinksInPath()
            let keys: [URLResourceKey] = [.isRegularFileKey]
            guard
                let walker = manager.enumerator(
                    at: root, includingPropertiesForKeys: keys, options: [.skipsHiddenFiles])
            else {
                throw DataPrepareError.io(path: input.path, reason: "cannot list directory")
            }
            for case let url as URL in walker {
                let values = try? url.resourceValues(forKeys: Set(keys))
                guard values?.isRegularFile == true else { continue }
                if let extensions, !extensions.contains(url.pathExtension.lowercased()) {
                    continue
                }
                let relative = relativePath(of: url.resolvingSymlinksInPath(), under: root)
                found.append(SourceDocument(url: url, input: input.path, relativePath: relative))
            }
            documents.append(contentsOf: found.sorted { $0.relativePath < $1.relativePath })
        }
        return documents
    }

    private static func relativePath(of url: URL, under root: URL) -> String {
        let base = root.pathComponents
        let parts = url.pathComponents
        if parts.count > base.count, Array(parts.prefix(base.count)) == base {
            return parts.dropFirst(base.count).joined(separator: "/")
        }
        return url.lastPathComponent
    }
}
