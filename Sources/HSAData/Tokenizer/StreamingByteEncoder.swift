import Foundation

/// Encodes a byte stream with the byte tokenizer as its chunks arrive (for long prompts read
/// from a pipe or a file in pieces). Chunks may split UTF-8 characters anywhere: byte-level
/// tokens do not depend on the boundaries, so the concatenated output equals encoding the whole
/// stream at once.
public struct StreamingByteEncoder: Sendable {
    /// The tokenizer whose ids are produced.
    public let tokenizer: ByteTokenizer
    /// Tokens emitted so far, BOS included.
    public private(set) var tokenCount: Int = 0
    /// Whether `finish` has been called.
    public private(set) var isFinished = false
    private var pendingBOS: Bool

    /// Creates an encoder; with `addBOS` the first call emits BOS before the first byte.
    public init(tokenizer: ByteTokenizer = ByteTokenizer(), addBOS: Bool = true) {
        self.tokenizer = tokenizer
        self.pendingBOS = addBOS
    }

    /// The tokens of the next chunk (BOS first, on the first call, when requested).
    public mutating func encode(_ chunk: Data) -> [Int32] {
        precondition(!isFinished, "StreamingByteEncoder.encode called after finish")
        var tokens: [Int32] = []
        tokens.reserveCapacity(chunk.count + 1)
        if pendingBOS {
            tokens.append(tokenizer.bos)
            pendingBOS = false
        }
        tokens.append(contentsOf: tokenizer.encode(bytes: chunk))
        tokenCount += tokens.count
        return tokens
    }

    /// Ends the stream: returns BOS if nothing was encoded yet (and BOS was requested), then
    /// EOS when `addEOS`.
    public mutating func finish(addEOS: Bool = true) -> [Int32] {
        precondition(!isFinished, "StreamingByteEncoder.finish called twice")
        var tokens: [Int32] = []
        if pendingBOS {
            tokens.append(tokenizer.bos)
            pendingBOS = false
        }
        if addEOS { tokens.append(tokenizer.eos) }
        isFinished = true
        tokenCount += tokens.count
        return tokens
    }
}
