import Foundation

/// Storage type of the tokens in a shard.
public enum TokenShardDType: UInt32, Sendable, CustomStringConvertible {
    /// Little-endian UInt16: vocabularies of at most 65535 ids.
    case u16 = 1
    /// Little-endian UInt32.
    case u32 = 2

    /// Bytes per token.
    public var byteWidth: Int { self == .u16 ? 2 : 4 }

    /// The smallest dtype that holds ids `0 ..< vocabularySize` (u16 when the size is <= 65535).
    public static func smallest(forVocabularySize vocabularySize: Int) -> TokenShardDType {
        vocabularySize <= 65_535 ? .u16 : .u32
    }

    /// `u16` or `u32`.
    public var description: String { self == .u16 ? "u16" : "u32" }
}

/// The fixed 64-byte header of a token shard (all integers little-endian):
///
/// | offset | size | field                                             |
/// |--------|------|---------------------------------------------------|
/// | 0      | 8    | magic `HSATOKEN`                                  |
/// | 8      | 4    | version (u32) = 1                                 |
/// | 12     | 4    | token dtype (u32): 1 = u16, 2 = u32               |
/// | 16     | 4    | flags (u32): bit 0 = a loss mask follows          |
/// | 20     | 4    | reserved (u32) = 0                                |
/// | 24     | 8    | token count N (u64)                               |
/// | 32     | 4    | vocabulary size V (u32)                           |
/// | 36     | 28   | zero padding                                      |
///
/// Then N tokens (N * 2 or N * 4 bytes), then, when flag bit 0 is set, N mask bytes
/// (0 = no loss on this token as a target, 1 = loss). The file length is exactly
/// `64 + N * width + (mask ? N : 0)`.
public struct TokenShardHeader: Equatable, Sendable {
    /// The 8 magic bytes `HSATOKEN`.
    public static let magic: [UInt8] = Array("HSATOKEN".utf8)
    /// The format version written and read by this build.
    public static let currentVersion: UInt32 = 1
    /// Header size in bytes (a multiple of 64 keeps token data aligned for any dtype).
    public static let byteCount = 64
    /// Flag bit 0: one loss-mask byte per token follows the tokens.
    public static let lossMaskFlag: UInt32 = 1

    /// Format version.
    public var version: UInt32 = TokenShardHeader.currentVersion
    /// Token storage type.
    public var dtype: TokenShardDType
    /// Flag bits (bit 0: loss mask present).
    public var flags: UInt32
    /// Number of tokens N.
    public var tokenCount: Int
    /// Vocabulary size V; every token is in `0 ..< V`.
    public var vocabularySize: Int

    /// Creates a header for the current version.
    public init(dtype: TokenShardDType, hasLossMask: Bool, tokenCount: Int, vocabularySize: Int) {
        self.dtype = dtype
        self.flags = hasLossMask ? TokenShardHeader.lossMaskFlag : 0
        self.tokenCount = tokenCount
        self.vocabularySize = vocabularySize
    }

    /// Whether a loss mask follows the tokens.
    public var hasLossMask: Bool { flags & TokenShardHeader.lossMaskFlag != 0 }

    /// The exact file length this header implies.
    public var expectedFileLength: Int {
        TokenShardHeader.byteCount + tokenCount * dtype.byteWidth + (hasLossMask ? tokenCount : 0)
    }

    /// The 64 header bytes.
    public func encoded() -> Data {
        var bytes = [UInt8](repeating: 0, count: TokenShardHeader.byteCount)
        bytes.replaceSubrange(0..<8, with: TokenShardHeader.magic)
        Self.store(version, at: 8, in: &bytes)
        Self.store(dtype.rawValue, at: 12, in: &bytes)
        Self.store(flags, at: 16, in: &bytes)
        Self.store(UInt32(0), at: 20, in: &bytes)
        Self.store(UInt64(tokenCount), at: 24, in: &bytes)
        Self.store(UInt32(vocabularySize), at: 32, in: &bytes)
        return Data(bytes)
    }

    /// Parses and checks the header at the start of `data` (magic, version, dtype, vocabulary
    /// versus dtype, exact length). `file` names the file in errors.
    public static func decode(_ data: Data, file: String) throws -> TokenShardHeader {
        guard data.count >= byteCount else {
            throw TokenShardError.headerTooShort(file: file, size: data.count)
        }
        let bytes = [UInt8](data.prefix(byteCount))
        guard Array(bytes[0..<8]) == magic else {
            throw TokenShardError.badMagic(file: file, found: describeMagic(bytes[0..<8]))
        }
        let version: UInt32 = load(at: 8, from: bytes)
        guard version == currentVersion else {
            throw TokenShardError.unsupportedVersion(
                file: file, version: version, supported: currentVersion)
        }
        let dtypeCode: UInt32 = load(at: 12, from: bytes)
        guard let dtype = TokenShardDType(rawValue: dtypeCode) else {
            throw TokenShardError.unknownDType(file: file, code: dtypeCode)
        }
        let count: UInt64 = load(at: 24, from: bytes)
        let vocabulary: UInt32 = load(at: 32, from: bytes)
        let flags: UInt32 = load(at: 16, from: bytes)
        // A count this large cannot match any real file; reject before multiplying.
        guard count <= UInt64(Int.max / 8) else {
            throw TokenShardError.lengthMismatch(
                file: file, expected: Int.max, actual: data.count,
                detail: "header claims \(count) tokens")
        }
        var header = TokenShardHeader(
            dtype: dtype, hasLossMask: false, tokenCount: Int(count),
            vocabularySize: Int(vocabulary))
        header.flags = flags
        if dtype == .u16 && header.vocabularySize > 65_536 {
            throw TokenShardError.vocabularyTooLarge(
                file: file, vocabularySize: header.vocabularySize, dtype: dtype)
        }
        guard data.count == header.expectedFileLength else {
            let detail =
                "\(byteCount)-byte header + \(count) \(dtype) tokens + "
                + "\(header.hasLossMask ? count : 0) mask bytes"
            throw TokenShardError.lengthMismatch(
                file: file, expected: header.expectedFileLength, actual: data.count,
                detail: detail)
        }
        return header
    }

    // MARK: - Helpers

    private static func store<T: FixedWidthInteger>(
        _ value: T, at offset: Int,
        in bytes: inout [UInt8]
    ) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for index in 0..<raw.count { bytes[offset + index] = raw[index] }
        }
    }

    private static func load<T: FixedWidthInteger>(at offset: Int, from bytes: [UInt8]) -> T {
        var value: T = 0
        for index in (0..<MemoryLayout<T>.size).reversed() {
            value = value << 8 | T(bytes[offset + index])
        }
        return value
    }

    private static func describeMagic(_ bytes: ArraySlice<UInt8>) -> String {
        if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            return "\"" + String(decoding: bytes, as: UTF8.self) + "\""
        }
        return "0x" + bytes.map { String(format: "%02x", $0) }.joined()
    }
}
