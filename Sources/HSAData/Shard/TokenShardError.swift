import Foundation

/// Errors from writing, opening or reading a token shard (see ``TokenShardHeader``).
public enum TokenShardError: Error, CustomStringConvertible, Sendable {
    /// The file could not be read, written or renamed.
    case io(file: String, reason: String)
    /// The file is shorter than the fixed header.
    case headerTooShort(file: String, size: Int)
    /// The first 8 bytes are not `HSATOKEN`.
    case badMagic(file: String, found: String)
    /// The format version is newer than this build reads.
    case unsupportedVersion(file: String, version: UInt32, supported: UInt32)
    /// The token dtype code is neither 1 (u16) nor 2 (u32).
    case unknownDType(file: String, code: UInt32)
    /// The vocabulary does not fit the dtype (u16 holds ids < 65536).
    case vocabularyTooLarge(file: String, vocabularySize: Int, dtype: TokenShardDType)
    /// The file length differs from what the header implies.
    case lengthMismatch(file: String, expected: Int, actual: Int, detail: String)
    /// A token id is negative or not below the vocabulary size.
    case tokenOutOfRange(file: String, position: Int, token: Int64, vocabularySize: Int)
    /// A loss mask was given whose length differs from the tokens'.
    case maskLengthMismatch(file: String, tokens: Int, mask: Int)
    /// A mask was given to a writer created without one (or the reverse).
    case maskPresence(file: String, expected: Bool)
    /// The writer was used after `finish` or `cancel`.
    case writerClosed(file: String)

    /// A message naming the file and the expected vs actual value, with a hint when known.
    public var description: String {
        switch self {
        case .io(let file, let reason):
            return "\(file): token shard I/O failed: \(reason)"
        case .headerTooShort(let file, let size):
            return "\(file): not an hsa token shard (\(size) bytes, shorter than the "
                + "\(TokenShardHeader.byteCount)-byte header); "
                + "hint: token shards are written by `hsa data prepare`"
        case .badMagic(let file, let found):
            return "\(file): not an hsa token shard (magic \(found), expected \"HSATOKEN\"); "
                + "hint: token shards are written by `hsa data prepare`"
        case .unsupportedVersion(let file, let version, let supported):
            return "\(file): token shard format version \(version) is not supported (this "
                + "build reads version \(supported)); hint: it was written by a newer hsa, "
                + "upgrade hsa or re-run `hsa data prepare` with this version"
        case .unknownDType(let file, let code):
            return "\(file): unknown token dtype code \(code), expected 1 (u16) or 2 (u32)"
        case .vocabularyTooLarge(let file, let vocabularySize, let dtype):
            return "\(file): vocabulary size \(vocabularySize) does not fit token dtype "
                + "\(dtype); hint: use u32 for vocabularies above 65535"
        case .lengthMismatch(let file, let expected, let actual, let detail):
            return "\(file): token shard is \(actual) bytes, expected \(expected) (\(detail)); "
                + "hint: the file is truncated or still being written, re-run `hsa data prepare`"
        case .tokenOutOfRange(let file, let position, let token, let vocabularySize):
            return "\(file): token \(token) at position \(position) is outside the vocabulary "
                + "0..<\(vocabularySize); hint: the shard was written with a different tokenizer "
                + "or is corrupt"
        case .maskLengthMismatch(let file, let tokens, let mask):
            return "\(file): loss mask has \(mask) entries for \(tokens) tokens"
        case .maskPresence(let file, let expected):
            return expected
                ? "\(file): this shard has a loss mask; pass one with every append"
                : "\(file): this shard was created without a loss mask; "
                    + "hint: create the writer with hasLossMask: true"
        case .writerClosed(let file):
            return "\(file): token shard writer used after finish() or cancel()"
        }
    }
}
