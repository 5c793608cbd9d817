import Foundation
import HSACPU

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The records of a file, read but never written, followed by records appended in this
/// process's memory: the store of a question asked of a document memory, so that any number
/// of questions can read one memory at once and none of them changes it.
///
/// The CPU kernel reads record `i` at `records + i * recordBytes`, so old and new records must
/// be contiguous. One region of address space holds both: anonymous memory for the whole
/// region, with the file mapped copy-on-write (`MAP_PRIVATE`) over its start. The file's pages
/// come from the page cache as retrieval touches them; the appended records are private
/// pages, and the file's last page turns private when a record is appended inside it.
public final class CopyOnWriteKVStore: HostKVStore {
    /// Elements per chunk record: 2 * S * NKV * HS.
    public let recordFloats: Int
    /// How each element is stored.
    public let precision: KVPrecision
    /// Chunks stored: the file's, then the appended ones.
    public private(set) var chunkCount: Int
    /// The file, for messages.
    public let path: String
    /// Bytes at the start of the region that come from the file.
    private let fileBytes: Int
    private let descriptor: Int32
    private var region: UnsafeMutableRawPointer
    private var regionBytes: Int

    /// A store of the first `records` records of `file`, which must hold at least that many.
    public init(recordFloats: Int, file: URL, precision: KVPrecision, records: Int) throws {
        self.recordFloats = recordFloats
        self.precision = precision
        chunkCount = records
        path = file.path
        fileBytes = records * recordFloats * precision.bytes
        descriptor = open(file.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw InferenceError.kvFile(path: file.path, operation: "open", code: errno)
        }
        var status = stat()
        // Mapping past the file's end would turn a read of the missing records into SIGBUS.
        guard fstat(descriptor, &status) == 0, Int(status.st_size) >= fileBytes else {
            close(descriptor)
            throw InferenceError.kvFileShort(
                path: file.path, bytes: Int(status.st_size), neededBytes: fileBytes)
        }
        do {
            (region, regionBytes) = try Self.mapRegion(
                bytes: fileBytes + (1 << 20), fileBytes: fileBytes, descriptor: descriptor,
                path: file.path)
        } catch {
            close(descriptor)
            throw error
        }
    }

    deinit {
        munmap(region, regionBytes)
        close(descriptor)
    }

    /// The first record; valid until the next append.
    public var records: UnsafeRawPointer { UnsafeRawPointer(region) }

    /// Appends `chunks` records from `keys` and `values`, each (chunks * S, NKV * HS) fp32,
    /// to this process's memory (never to the file).
    public func append(keys: UnsafePointer<Float>, values: UnsafePointer<Float>, chunks: Int)
        throws
    {
        let needed = storedBytes + chunks * recordFloats * precision.bytes
        if needed > regionBytes { try grow(to: max(needed, 2 * regionBytes)) }
        precision.encodeRecords(
            keys: keys, values: values, chunks: chunks, recordFloats: recordFloats,
            into: region + storedBytes)
        chunkCount += chunks
    }

    /// Drops the file's pages retrieval has touched from the resident set (they stay in the
    /// page cache). Only whole pages before the file's end: `MADV_DONTNEED` on a private page
    /// discards it, and the page holding the end may hold appended records.
    public func releaseResidentPages() {
        let wholePages = fileBytes / Self.pageBytes * Self.pageBytes
        if wholePages > 0 { madvise(region, wholePages, MADV_DONTNEED) }
    }

    // MARK: - Mapping

    /// Moves the records into a larger region: the file mapped again at its start, the
    /// appended records copied after it.
    private func grow(to bytes: Int) throws {
        let (larger, length) = try Self.mapRegion(
            bytes: bytes, fileBytes: fileBytes, descriptor: descriptor, path: path)
        (larger + fileBytes).copyMemory(
            from: region + fileBytes, byteCount: storedBytes - fileBytes)
        munmap(region, regionBytes)
        region = larger
        regionBytes = length
    }

    private static var pageBytes: Int { max(Int(sysconf(Int32(_SC_PAGESIZE))), 1) }

    /// A writable private region of at least `bytes` (whole pages) whose first `fileBytes`
    /// bytes are the file's, mapped copy-on-write.
    private static func mapRegion(bytes: Int, fileBytes: Int, descriptor: Int32, path: String)
        throws -> (UnsafeMutableRawPointer, Int)
    {
        let page = pageBytes
        let length = (max(bytes, 1) + page - 1) / page * page
        guard
            let region = mmap(
                nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            region != MAP_FAILED
        else {
            throw InferenceError.kvFile(path: path, operation: "mmap", code: errno)
        }
        guard fileBytes > 0 else { return (region, length) }
        let fileLength = (fileBytes + page - 1) / page * page
        // MAP_FIXED replaces the start of the anonymous region by the file's pages.
        guard
            let mapped = mmap(
                region, fileLength, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, descriptor,
                0),
            mapped != MAP_FAILED
        else {
            let code = errno
            munmap(region, length)
            throw InferenceError.kvFile(path: path, operation: "mmap", code: code)
        }
        // Retrieval reads scattered records: no read-ahead (see DiskKVStore).
        madvise(mapped, fileLength, MADV_RANDOM)
        return (region, length)
    }
}
