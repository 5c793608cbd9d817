import Foundation
import HSACore

/// Writes a token shard (format: ``TokenShardHeader``) by streaming appends.
///
/// Tokens go to a temporary file next to the destination; `finish()` writes the final header,
/// appends the loss mask and renames the file into place, so readers never see a partial shard.
/// Call `cancel()` (or let `finish` throw) to leave no temporary file behind.
public final class TokenShardWriter {
    /// The destination path.
    public let url: URL
    /// Vocabulary size V recorded in the header; every token must be in `0 ..< V`.
    public let vocabularySize: Int
    /// Token storage type (the smallest that holds the vocabulary unless given).
    public let dtype: TokenShardDType
    /// Whether a loss mask is written after the tokens.
    public let hasLossMask: Bool
    /// Tokens appended so far.
    public private(set) var tokenCount = 0
    /// SHA-256 of the finished file (hex, as `sha256sum` prints it); nil until `finish()`.
    public private(set) var sha256: String?

    private let temporaryURL: URL
    private var handle: FileHandle?
    private var pending = Data()  // encoded tokens not yet written
    private var mask: [UInt8] = []  // (N,) kept in memory: 1 byte per token
    private static let flushBytes = 1 << 20

    /// Creates the temporary file and reserves the header.
    /// - Parameters:
    ///   - url: the final shard path (replaced atomically on `finish`).
    ///   - vocabularySize: V; tokens must be in `0 ..< V`.
    ///   - hasLossMask: whether every append carries one mask byte per token.
    ///   - dtype: storage type; default: u16 when V <= 65535, else u32.
    /// - Throws: ``TokenShardError`` when V does not fit the dtype or the file cannot be made.
    public init(
        url: URL, vocabularySize: Int, hasLossMask: Bool = false,
        dtype: TokenShardDType? = nil
    ) throws {
        let chosen = dtype ?? .smallest(forVocabularySize: vocabularySize)
        guard vocabularySize > 0, vocabularySize <= Int(UInt32.max),
            chosen == .u32 || vocabularySize <= 65_536
        else {
            throw TokenShardError.vocabularyTooLarge(
                file: url.path, vocabularySize: vocabularySize, dtype: chosen)
        }
        self.url = url
        self.vocabularySize = vocabularySize
        self.dtype = chosen
        self.hasLossMask = hasLossMask
        let name = ".\(url.lastPathComponent).tmp-\(UUID().uuidString)"
        temporaryURL = url.deletingLastPathComponent().appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: temporaryURL.path, contents: nil) else {
            throw TokenShardError.io(file: temporaryURL.path, reason: "cannot create file")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporaryURL)
            self.handle = handle
            // Placeholder header; the real one (with the final count) is written by finish().
            try handle.write(contentsOf: Data(count: TokenShardHeader.byteCount))
        } catch {
            cancel()
            throw TokenShardError.io(file: temporaryURL.path, reason: "\(error)")
        }
    }

    deinit {
        if handle != nil { cancel() }
    }

    // MARK: - Appending

    /// Appends tokens; when the shard has a loss mask they get mask 1 (loss on).
    public func append(_ tokens: [Int32]) throws {
        if hasLossMask {
            try append(tokens, lossMask: [UInt8](repeating: 1, count: tokens.count))
        } else {
            try appendTokens(tokens)
        }
    }

    /// Appends tokens with their loss-mask bytes (0 = no loss on this token as a target).
    /// - Parameters:
    ///   - tokens: ids in `0 ..< V`.
    ///   - lossMask: `(tokens.count,)` bytes; nonzero values are stored as 1.
    /// - Throws: ``TokenShardError`` for out-of-range tokens, a mask of the wrong length or a
    ///   shard created without a mask.
    public func append(_ tokens: [Int32], lossMask: [UInt8]) throws {
        guard hasLossMask else {
            throw TokenShardError.maskPresence(file: url.path, expected: false)
        }
        guard lossMask.count == tokens.count else {
            throw TokenShardError.maskLengthMismatch(
                file: url.path, tokens: tokens.count, mask: lossMask.count)
        }
        try appendTokens(tokens)
        mask.append(contentsOf: lossMask.map { $0 == 0 ? 0 : 1 })
    }

    private func appendTokens(_ tokens: [Int32]) throws {
        guard handle != nil else { throw TokenShardError.writerClosed(file: url.path) }
        let limit = Int64(vocabularySize)
        for (offset, token) in tokens.enumerated() where token < 0 || Int64(token) >= limit {
            throw TokenShardError.tokenOutOfRange(
                file: url.path, position: tokenCount + offset, token: Int64(token),
                vocabularySize: vocabularySize)
        }
        let start = pending.count
        pending.count += tokens.count * dtype.byteWidth
        pending.withUnsafeMutableBytes { raw in
            switch dtype {
            case .u16:
                for (index, token) in tokens.enumerated() {
                    raw.storeBytes(
                        of: UInt16(truncatingIfNeeded: token).littleEndian,
                        toByteOffset: start + 2 * index, as: UInt16.self)
                }
            case .u32:
                for (index, token) in tokens.enumerated() {
                    raw.storeBytes(
                        of: UInt32(bitPattern: token).littleEndian,
                        toByteOffset: start + 4 * index, as: UInt32.self)
                }
            }
        }
        tokenCount += tokens.count
        if pending.count >= Self.flushBytes { try flush() }
    }

    private func flush() throws {
        guard let handle, !pending.isEmpty else { return }
        do {
            try handle.write(contentsOf: pending)
        } catch {
            throw TokenShardError.io(file: temporaryURL.path, reason: "\(error)")
        }
        pending.removeAll(keepingCapacity: true)
    }

    // MARK: - Finishing

    /// Writes the header and mask, closes the file, records its SHA-256 and renames it to
    /// `url` (atomic replace).
    public func finish() throws {
        guard let handle else { throw TokenShardError.writerClosed(file: url.path) }
        do {
            try flush()
            if hasLossMask { try handle.write(contentsOf: Data(mask)) }
            let header = TokenShardHeader(
                dtype: dtype, hasLossMask: hasLossMask, tokenCount: tokenCount,
                vocabularySize: vocabularySize)
            try handle.seek(toOffset: 0)
            try handle.write(contentsOf: header.encoded())
            try handle.synchronize()
            try handle.close()
            self.handle = nil
            // Read back once (still in the page cache): the header is written last, so the
            // file's digest cannot be accumulated while appending.
            sha256 = try SHA256.fileHex(at: temporaryURL)
        } catch {
            cancel()
            if let error = error as? TokenShardError { throw error }
            throw TokenShardError.io(file: temporaryURL.path, reason: "\(error)")
        }
        // rename(2) replaces an existing destination atomically.
        if rename(temporaryURL.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporaryURL)
            throw TokenShardError.io(file: url.path, reason: "rename failed: \(reason)")
        }
    }

    /// Abandons the shard: closes and deletes the temporary file. Safe to call repeatedly.
    public func cancel() {
        try? handle?.close()
        handle = nil
        try? FileManager.default.removeItem(at: temporaryURL)
    }
}
