import Foundation

/// A fresh empty directory under the system temporary directory, for tests; `remove()` deletes
/// it and everything in it.
public struct TemporaryDirectory: Sendable {
    /// The directory.
    public let url: URL

    /// Creates `<tmp>/hsa-<label>-<uuid>`.
    public init(_ label: String = "tests") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("hsa-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// The URL of `name` (a relative path) inside the directory.
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// Writes `text` to `name`, creating intermediate folders.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> URL {
        let target = file(name)
        try FileManager.default.createDirectory(
            at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: target)
        return target
    }

    /// The names directly inside the directory, sorted.
    public func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }

    /// Deletes the directory.
    public func remove() { try? FileManager.default.removeItem(at: url) }
}
