import Foundation
import HSACore

/// A memory-mapped, validated token shard (format: ``TokenShardHeader``).
///
/// Opening checks the magic, version, dtype, exact file length and, by default, that every
/// token is below the vocabulary size, so later reads cannot fail.
public final class TokenShardReader: Sendable {
    /// The shard file.
    public let url: URL
    /// The parsed header.
    public let header: TokenShardHeader
    private let data: Data  // the whole file, memory-mapped

    /// Number of tokens N.
    public var tokenCount: Int { header.tokenCount }
    /// Vocabulary size V.
    public var vocabularySize: Int { header.vocabularySize }
    /// Whether the shard carries a per-token loss mask.
    public var hasLossMask: Bool { header.hasLossMask }

    /// Maps and validates the shard at `url`.
    /// - Parameters:
    ///   - url: the shard file.
    ///   - validateTokens: scan every token against the vocabulary size now (cheap: one pass
    ///     over mapped memory). Pass false to defer to ``validateTokens()``.
    /// - Throws: ``TokenShardError`` naming the file and the first problem found.
    public init(url: URL, validateTokens: Bool = true) throws {
        self.url = url
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw TokenShardError.io(file: url.path, reason: fileErrorReason(error))
        }
        header = try TokenShardHeader.decode(data, file: url.path)
        if validateTokens { try self.validateTokens() }
    }

    /// Throws ``TokenShardError/tokenOutOfRange(file:position:token:vocabularySize:)`` naming
    /// the first token not below the vocabulary size.
    public func validateTokens() throws {
        let limit = UInt32(clamping: header.vocabularySize)
        let count = header.tokenCount
        let bad: (Int, UInt32)? = data.withUnsafeBytes { raw in
            let base = TokenShardHeader.byteCount
            switch header.dtype {
            case .u16:
                for index in 0..<count {
                    let token = UInt32(
                        UInt16(
                            littleEndian: raw.loadUnaligned(
                                fromByteOffset: base + 2 * index, as: UInt16.self)))
                    if token >= limit { return (index, token) }
                }
            case .u32:
                for index in 0..<count {
                    let token = UInt32(
                        littleEndian: raw.loadUnaligned(
                            fromByteOffset: base + 4 * index, as: UInt32.self))
                    if token >= limit { return (index, token) }
                }
            }
            return nil
        }
        if let (position, token) = bad {
            throw TokenShardError.tokenOutOfRange(
                file: url.path, position: position, token: Int64(token),
                vocabularySize: header.vocabularySize)
        }
    }

    // MARK: - Reading

    /// Copies tokens `start ..< start + count` into `destination` as Int32.
    /// - Parameters:
    ///   - start: first token index.
    ///   - count: number of tokens.
    ///   - destination: room for `count` values.
    public func copyTokens(
        from start: Int, count: Int,
        into destination: UnsafeMutablePointer<Int32>
    ) {
        precondition(
            start >= 0 && count >= 0 && start + count <= tokenCount,
            "token range \(start)..<\(start + count) outside 0..<\(tokenCount)")
        data.withUnsafeBytes { raw in
            guard let bytes = raw.baseAddress else { return }
            let tokens = bytes + TokenShardHeader.byteCount
            switch header.dtype {
            case .u16:
                for index in 0..<count {
                    destination[index] = Int32(tokens.littleEndian(UInt16.self, at: start + index))
                }
            case .u32:
                for index in 0..<count {
                    let value = tokens.littleEndian(UInt32.self, at: start + index)
                    destination[index] = Int32(bitPattern: value)
                }
            }
        }
    }

    /// Tokens in `range` (a sub-range of `0 ..< tokenCount`).
    public func tokens(in range: Range<Int>) -> [Int32] {
        var result = [Int32](repeating: 0, count: range.count)
        result.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            copyTokens(from: range.lowerBound, count: range.count, into: base)
        }
        return result
    }

    /// All tokens.
    public func allTokens() -> [Int32] { tokens(in: 0..<tokenCount) }

    /// Loss-mask bytes (0 or 1) of `range`; all 1 when the shard has no mask.
    public func lossMask(in range: Range<Int>) -> [UInt8] {
        precondition(
            range.lowerBound >= 0 && range.upperBound <= tokenCount,
            "mask range \(range) outside 0..<\(tokenCount)")
        guard hasLossMask else { return [UInt8](repeating: 1, count: range.count) }
        let maskStart = TokenShardHeader.byteCount + tokenCount * header.dtype.byteWidth
        return [UInt8](data[(maskStart + range.lowerBound)..<(maskStart + range.upperBound)])
    }
}
