import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Crash-safe file replacement: readers see either the old file or the complete new one.
///
/// Writes go to a temporary file `.NAME.tmp-PID` in the destination's directory (same file
/// system, so `rename` is atomic), which is fsynced and then renamed over the destination. On any
/// failure the temporary file is removed and the destination is left untouched.
public enum AtomicFile {
    /// Writes `data` to `url` atomically.
    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { sink in try sink.write(data) }
    }

    /// Streams the contents produced by `body` into `url` atomically (no whole-file buffer).
    public static func write(to url: URL, _ body: (inout AtomicFileSink) throws -> Void) throws {
        // Renaming over a directory fails late, and over a device (`/dev/null`) would replace
        // it: only a regular file (or none) is replaced.
        var status = stat()
        if stat(url.path, &status) == 0, status.st_mode & S_IFMT != S_IFREG {
            throw AtomicFileError.notARegularFile(path: url.path)
        }
        let directory = url.deletingLastPathComponent()
        let temporary = temporaryURL(for: url)
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else {
            throw AtomicFileError.cannotCreate(path: temporary.path, reason: errnoText())
        }
        var sink = AtomicFileSink(descriptor: descriptor, path: url.path)
        do {
            try body(&sink)
            guard fsync(descriptor) == 0 else {
                throw AtomicFileError.writeFailed(path: url.path, reason: "fsync: \(errnoText())")
            }
            guard close(descriptor) == 0 else {
                sink.isClosed = true
                throw AtomicFileError.writeFailed(path: url.path, reason: "close: \(errnoText())")
            }
            sink.isClosed = true
            guard rename(temporary.path, url.path) == 0 else {
                throw AtomicFileError.writeFailed(path: url.path, reason: "rename: \(errnoText())")
            }
        } catch {
            if !sink.isClosed { close(descriptor) }
            unlink(temporary.path)
            throw error
        }
        syncDirectory(directory)
    }

    /// The temporary path used while writing `url`.
    static func temporaryURL(for url: URL) -> URL {
        let name = ".\(url.lastPathComponent).tmp-\(getpid())"
        return url.deletingLastPathComponent().appendingPathComponent(name)
    }

    /// Makes the rename itself durable; failures are ignored (not all file systems allow it).
    private static func syncDirectory(_ directory: URL) {
        let descriptor = open(directory.path, O_RDONLY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
    }

    fileprivate static func errnoText() -> String { String(cString: strerror(errno)) }
}

/// The writable end of an `AtomicFile.write(to:_:)` call.
public struct AtomicFileSink {
    fileprivate let descriptor: Int32
    fileprivate let path: String
    fileprivate var isClosed = false

    /// Appends `data`, retrying partial writes and interrupts.
    public mutating func write(_ data: Data) throws {
        try data.withUnsafeBytes { raw in
            guard var pointer = raw.baseAddress else { return }
            var remaining = raw.count
            while remaining > 0 {
                let written = posixWrite(descriptor, pointer, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw AtomicFileError.writeFailed(path: path, reason: AtomicFile.errnoText())
                }
                pointer += written
                remaining -= written
            }
        }
    }
}

/// `write(2)`, named apart from `AtomicFileSink.write(_:)`.
private func posixWrite(_ descriptor: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
        return Glibc.write(descriptor, pointer, count)
    #else
        return Darwin.write(descriptor, pointer, count)
    #endif
}

/// Failures of `AtomicFile`.
public enum AtomicFileError: Error, CustomStringConvertible, Equatable {
    /// The temporary file could not be created.
    case cannotCreate(path: String, reason: String)
    /// Writing, syncing or renaming failed.
    case writeFailed(path: String, reason: String)
    /// The destination exists and is a directory or a device, not a regular file.
    case notARegularFile(path: String)

    public var description: String {
        switch self {
        case .cannotCreate(let path, let reason):
            return "cannot create \(path): \(reason); hint: does the directory exist and is it "
                + "writable?"
        case .writeFailed(let path, let reason):
            return "cannot write \(path): \(reason); hint: is the disk full?"
        case .notARegularFile(let path):
            return "\(path): exists and is not a regular file; give the path of a file to write"
        }
    }
}
