import Foundation
import HSACPU

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Records in a file: appended with `pwrite`, read through a read-only memory map, so
/// resident memory holds only the pages that retrieval actually touches.
///
/// Either a temporary file, created in a directory and unlinked at once (it lives exactly as
/// long as its open descriptor, so it disappears on deinit and also when the process is
/// interrupted or killed, and never leaves garbage behind), or a named file that persists (a
/// document memory's keys/values).
public final class DiskKVStore: HostKVStore {
    /// Elements per chunk record: 2 * S * NKV * HS.
    public let recordFloats: Int
    /// How each element is stored.
    public let precision: KVPrecision
    /// Chunks stored.
    public private(set) var chunkCount: Int
    /// Path of the file (for a temporary file: where it was created before being unlinked),
    /// for messages.
    public let path: String
    private let descriptor: Int32
    private var mapping: UnsafeMutableRawPointer
    private var mappedBytes: Int

    /// Creates a temporary file in `directory` (which must exist).
    public convenience init(recordFloats: Int, directory: URL, precision: KVPrecision = .fp32)
        throws
    {
        var template = Array(directory.appendingPathComponent("hsa-kv-XXXXXX").path.utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return mkstemp(base)
        }
        let createdPath = String(
            decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard fd >= 0 else {
            throw InferenceError.kvFile(
                path: directory.path, operation: "mkstemp", code: errno)
        }
        unlink(createdPath)
        try self.init(
            recordFloats: recordFloats, precision: precision, descriptor: fd, path: createdPath,
            chunkCount: 0)
    }

    /// Opens the file at `file`, creating it if needed, as a store of its first
    /// `keepingRecords` records; whatever follows them is cut off (what an interrupted writer
    /// appended after the last records it vouched for). The file stays when the store goes.
    public convenience init(
        recordFloats: Int, file: URL, precision: KVPrecision, keepingRecords: Int
    ) throws {
        let fd = open(file.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw InferenceError.kvFile(path: file.path, operation: "open", code: errno)
        }
        let keptBytes = keepingRecords * recordFloats * precision.bytes
        guard ftruncate(fd, off_t(keptBytes)) == 0 else {
            let code = errno
            close(fd)
            throw InferenceError.kvFile(path: file.path, operation: "ftruncate", code: code)
        }
        try self.init(
            recordFloats: recordFloats, precision: precision, descriptor: fd, path: file.path,
            chunkCount: keepingRecords)
    }

    /// A store over the open file `descriptor` holding `chunkCount` records; closes the
    /// descriptor when it throws.
    private init(
        recordFloats: Int, precision: KVPrecision, descriptor fd: Int32, path: String,
        chunkCount: Int
    ) throws {
        self.recordFloats = recordFloats
        self.precision = precision
        self.chunkCount = chunkCount
        descriptor = fd
        self.path = path
        // An initial map, so `records` is always a valid address.
        let stored = chunkCount * recordFloats * precision.bytes
        do {
            (mapping, mappedBytes) = try Self.map(
                descriptor: fd, length: max(stored, 1 << 20), path: path)
        } catch {
            close(fd)
            throw error
        }
    }

    deinit {
        munmap(mapping, mappedBytes)
        close(descriptor)
    }

    /// The first record; valid until the next append.
    public var records: UnsafeRawPointer { UnsafeRawPointer(mapping) }

    /// Appends `chunks` records from `keys` and `values`, each (chunks * S, NKV * HS) fp32.
    public func append(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, chunks: Int)
        throws
    {
        let recordBytes = recordFloats * precision.bytes
        // Encode all records of this append into one buffer, then write it at once.
        let buffer = UnsafeMutableRawPointer.allocate(
            byteCount: max(chunks * recordBytes, 1), alignment: 64)
        defer { buffer.deallocate() }
        precision.encodeRecords(
            keys: keys, values: values, chunks: chunks, recordFloats: recordFloats, into: buffer)
        try write(
            UnsafeRawPointer(buffer), bytes: chunks * recordBytes, at: chunkCount * recordBytes)
        chunkCount += chunks
        try mapStoredRecords()
    }

    /// Forces the records written so far onto the disk (`fsync`), before a document memory
    /// vouches for them.
    public func synchronize() throws {
        guard fsync(descriptor) == 0 else {
            throw InferenceError.kvFile(path: path, operation: "fsync", code: errno)
        }
    }

    /// Unmaps the pages retrieval has touched (MADV_DONTNEED on a shared file map drops them
    /// from the resident set; they stay in the file and the page cache).
    public func releaseResidentPages() {
        madvise(mapping, mappedBytes, MADV_DONTNEED)
    }

    // MARK: - Helpers

    /// `pwrite` of all `bytes`, retrying short writes.
    private func write(_ source: UnsafeRawPointer, bytes: Int, at offset: Int) throws {
        var done = 0
        while done < bytes {
            let written = pwrite(descriptor, source + done, bytes - done, off_t(offset + done))
            if written < 0 {
                if errno == EINTR { continue }
                throw InferenceError.kvFile(path: path, operation: "pwrite", code: errno)
            }
            done += written
        }
    }

    /// Maps at least the stored bytes (growing the map geometrically, so remaps are rare).
    private func mapStoredRecords() throws {
        let needed = storedBytes
        guard needed > mappedBytes else { return }
        let (mapped, length) = try Self.map(
            descriptor: descriptor, length: max(needed, 2 * mappedBytes), path: path)
        munmap(mapping, mappedBytes)
        mapping = mapped
        mappedBytes = length
    }

    /// A read-only shared map of the first `length` bytes (rounded up to pages) of the file.
    /// Mapping past the end of the file is fine: only stored bytes are ever read.
    private static func map(descriptor: Int32, length: Int, path: String) throws
        -> (UnsafeMutableRawPointer, Int)
    {
        let page = max(Int(sysconf(Int32(_SC_PAGESIZE))), 1)
        let rounded = (length + page - 1) / page * page
        guard let mapped = mmap(nil, rounded, PROT_READ, MAP_SHARED, descriptor, 0),
            mapped != MAP_FAILED
        else {
            throw InferenceError.kvFile(path: path, operation: "mmap", code: errno)
        }
        // Retrieval reads scattered records: no read-ahead or fault-around of neighbours,
        // which would only inflate the resident set.
        madvise(mapped, rounded, MADV_RANDOM)
        return (mapped, rounded)
    }
}
