/// Decodes generated tokens to text as they come. The bytes of one UTF-8 character may arrive
/// over several tokens (a BPE token may also end inside one character and start the next), so
/// the bytes of an incomplete trailing character wait for the next token; what is printed is
/// never a character cut in two.
public struct StreamingTextDecoder {
    /// The tokenizer whose ids are decoded.
    public let tokenizer: any Tokenizer
    /// The bytes of an incomplete character at the end of what has come (at most 3).
    private var pending: [UInt8] = []

    /// Creates a decoder with nothing pending.
    public init(tokenizer: any Tokenizer) { self.tokenizer = tokenizer }

    /// The text completed by `token` (with the bytes waiting before it), or nil while it
    /// waits for the rest of a character.
    public mutating func decode(_ token: Int32) -> String? {
        pending += bytes(of: token)
        let complete = UTF8Tail.completePrefixLength(pending)
        guard complete > 0 else { return nil }
        // Invalid sequences (not an incomplete tail) become U+FFFD here, as in `decode`.
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// The bytes still waiting, decoded as they are (U+FFFD); nil when none wait.
    public mutating func finish() -> String? {
        defer { pending.removeAll() }
        return pending.isEmpty ? nil : String(decoding: pending, as: UTF8.self)
    }

    /// The bytes `token` stands for (none for specials and ids out of range).
    private func bytes(of token: Int32) -> [UInt8] {
        switch tokenizer {
        case let bpe as BPETokenizer:
            return bpe.bytes(of: token)
        case is ByteTokenizer:
            return (0..<256).contains(token) ? [UInt8(token)] : []
        default:
            return Array(tokenizer.decode([token]).utf8)
        }
    }
}
