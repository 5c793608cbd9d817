/// Decodes generated tokens to text as they come. The bytes of one UTF-8 character may arrive
/// over several tokens, so an incomplete character waits for the next token (at most 4 tokens,
/// then they are decoded as they are, replacement characters included).
public struct StreamingTextDecoder {
    /// The tokenizer whose ids are decoded.
    public let tokenizer: any Tokenizer
    private var pending: [Int32] = []

    /// Creates a decoder with nothing pending.
    public init(tokenizer: any Tokenizer) { self.tokenizer = tokenizer }

    /// The text completed by `token` (with the tokens waiting before it), or nil while it
    /// waits for the rest of a character.
    public mutating func decode(_ token: Int32) -> String? {
        pending.append(token)
        let text = tokenizer.decode(pending)
        guard !text.contains("\u{FFFD}") || pending.count >= 4 else { return nil }
        pending.removeAll()
        return text
    }

    /// The tokens still waiting, decoded as they are; nil when none wait.
    public mutating func finish() -> String? {
        defer { pending.removeAll() }
        return pending.isEmpty ? nil : tokenizer.decode(pending)
    }
}
