import Foundation

/// Encodes a byte stream with a BPE tokenizer as its chunks arrive, with the ids of encoding
/// the whole stream at once.
///
/// Merges never cross a pre-tokenized piece, and a piece's end depends only on the text from
/// its start on, so the pieces before a boundary that more text cannot move are those of the
/// whole text. The encoder emits their ids (piece by piece: the prefix pre-tokenized again
/// would join the whitespace runs split before the text after them) and holds back the rest:
/// an incomplete trailing UTF-8 character, and the pieces that end less than two bytes before
/// the end of the text (the last piece may grow, and `'` may yet start `'re`, `'ve` or `'ll`).
/// What is held back is about one piece, so memory stays bounded unless the text is one
/// endless piece.
public struct StreamingBPEEncoder: StreamingEncoder {
    /// The tokenizer whose ids are produced.
    public let tokenizer: BPETokenizer
    public private(set) var tokenCount: Int = 0
    /// Whether `finish` has been called.
    public private(set) var isFinished = false
    private var pendingBOS: Bool
    /// Received bytes that end in an incomplete UTF-8 character (not yet decoded).
    private var undecoded: [UInt8] = []
    /// Decoded text (valid UTF-8) after the last piece boundary emitted.
    private var unsettled: [UInt8] = []

    /// The longest `'` contraction (`'re`) reaches this many bytes past its apostrophe.
    private static let contractionLookahead = 2

    /// Creates an encoder; with `addBOS` the first call emits BOS before the first token.
    public init(tokenizer: BPETokenizer, addBOS: Bool = true) {
        self.tokenizer = tokenizer
        self.pendingBOS = addBOS
    }

    public mutating func encode(_ chunk: Data) -> [Int32] {
        precondition(!isFinished, "StreamingBPEEncoder.encode called after finish")
        var tokens = takeBOS()
        undecoded += chunk
        let complete = UTF8Tail.completePrefixLength(undecoded)
        unsettled += String(decoding: undecoded[..<complete], as: UTF8.self).utf8
        undecoded.removeFirst(complete)
        tokens += takeSettledPieces()
        tokenCount += tokens.count
        return tokens
    }

    public mutating func finish(addEOS: Bool = true) -> [Int32] {
        precondition(!isFinished, "StreamingBPEEncoder.finish called twice")
        var tokens = takeBOS()
        // What is still undecoded is decoded leniently, as the whole stream would be.
        unsettled += String(decoding: undecoded, as: UTF8.self).utf8
        tokens += tokenizer.encode(String(decoding: unsettled, as: UTF8.self))
        undecoded.removeAll()
        unsettled.removeAll()
        if addEOS { tokens.append(tokenizer.eos) }
        isFinished = true
        tokenCount += tokens.count
        return tokens
    }

    /// BOS the first time it is called when requested, else nothing.
    private mutating func takeBOS() -> [Int32] {
        guard pendingBOS else { return [] }
        pendingBOS = false
        return [tokenizer.bos]
    }

    /// The ids of the whole pieces at the start of `unsettled` that more text cannot change,
    /// removed from it: those ending at least `contractionLookahead` bytes before its end
    /// (never the last piece, which ends at the end).
    private mutating func takeSettledPieces() -> [Int32] {
        let limit = unsettled.count - Self.contractionLookahead
        var settled = 0
        var ids: [Int32] = []
        unsettled.withUnsafeBufferPointer { utf8 in
            ByteLevelPreTokenizer.forEachPiece(of: utf8) { piece in
                guard piece.upperBound <= limit else { return }
                ids += tokenizer.ids(ofPiece: Array(utf8[piece]))
                settled = piece.upperBound
            }
        }
        unsettled.removeFirst(settled)
        return ids
    }
}
