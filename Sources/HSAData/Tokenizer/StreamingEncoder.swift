import Foundation

/// Encodes a byte stream as its chunks arrive, with exactly the ids that encoding the whole
/// stream at once gives (`tokenizer.encode(bytes:)`), BOS and EOS added on request.
public protocol StreamingEncoder: Sendable {
    /// Tokens emitted so far, BOS included.
    var tokenCount: Int { get }

    /// The tokens the next chunk settles (BOS first, on the first call, when requested). A
    /// tokenizer whose tokens depend on the text after them may hold part of the chunk back.
    mutating func encode(_ chunk: Data) -> [Int32]

    /// Ends the stream: the tokens still held back (BOS first if none was emitted yet and it
    /// was requested), then EOS when `addEOS`.
    mutating func finish(addEOS: Bool) -> [Int32]
}

extension StreamingByteEncoder: StreamingEncoder {}

/// The streaming encoder for `tokenizer`, or nil for a tokenizer type it does not know.
public func makeStreamingEncoder(for tokenizer: any Tokenizer, addBOS: Bool = true)
    -> (any StreamingEncoder)?
{
    switch tokenizer {
    case let tokenizer as ByteTokenizer:
        return StreamingByteEncoder(tokenizer: tokenizer, addBOS: addBOS)
    case let tokenizer as BPETokenizer:
        return StreamingBPEEncoder(tokenizer: tokenizer, addBOS: addBOS)
    default:
        return nil
    }
}
