import Foundation

/// The byte-level tokenizer of docs/MODEL-NOTES.md: ids 0...255 are the UTF-8 bytes of the
/// text, 256 = BOS, 257 = EOS, 258 = PAD, vocabulary size 259.
public struct ByteTokenizer: Tokenizer, Equatable {
    /// 259: 256 byte values and three specials.
    public var vocabularySize: Int { 259 }
    /// 256.
    public var bos: Int32 { 256 }
    /// 257.
    public var eos: Int32 { 257 }
    /// 258.
    public var pad: Int32 { 258 }

    /// Creates the byte tokenizer (it has no parameters).
    public init() {}

    /// The UTF-8 bytes of `text` as ids 0...255.
    public func encode(_ text: String) -> [Int32] {
        var tokens: [Int32] = []
        tokens.reserveCapacity(text.utf8.count)
        for byte in text.utf8 { tokens.append(Int32(byte)) }
        return tokens
    }

    /// The bytes themselves as ids 0...255 (no UTF-8 validation: any byte is a token).
    public func encode(bytes: Data) -> [Int32] {
        var tokens = [Int32](repeating: 0, count: bytes.count)
        tokens.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBytes { raw in
                for index in 0..<raw.count { out[index] = Int32(raw[index]) }
            }
        }
        return tokens
    }

    /// The text of the byte ids in `tokens`; specials and ids outside 0...255 are skipped and
    /// invalid UTF-8 sequences become U+FFFD.
    public func decode(_ tokens: [Int32]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(tokens.count)
        for token in tokens where token >= 0 && token < 256 { bytes.append(UInt8(token)) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `{"type": "byte", "version": 1, "vocab_size": 259, "special_tokens": {...}}`.
    public func save(to url: URL) throws {
        let file = TokenizerFile(
            type: TokenizerFile.byteType, version: TokenizerFile.currentVersion,
            vocabSize: vocabularySize,
            specialTokens: .init(bos: bos, eos: eos, pad: pad))
        try file.write(to: url)
    }
}
