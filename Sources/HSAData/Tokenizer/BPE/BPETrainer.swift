/// Learns a byte-level BPE from text, the GPT-2 way: pieces from ``ByteLevelPreTokenizer``
/// are counted once, then the most frequent adjacent pair is merged again and again. Only the
/// pieces holding the merged pair are rewritten, and the pair counts are updated from their
/// old and new forms, so a merge costs the pieces it touches, not the whole text.
///
/// Ids: 0...255 are the bytes, merges take 256, 257, ... in the order learned, and
/// `<|bos|>`, `<|eos|>`, `<|pad|>` follow them.
public struct BPETrainer {
    /// Ids that are not merges: the 256 bytes and the three specials.
    public static let minimumVocabularySize = 256 + 3

    /// The vocabulary size asked for (bytes, merges and specials); fewer merges are learned
    /// when no pair occurs `minimumPairCount` times any more.
    public let vocabularySize: Int
    /// A pair seen fewer times than this is not merged (1 would memorize single words).
    public let minimumPairCount: Int
    private var pieces = BPEPieceCounts()

    /// Bytes of text added so far.
    public var byteCount: Int { pieces.byteCount }
    /// Distinct pieces in the text added so far.
    public var distinctPieceCount: Int { pieces.counts.count }

    /// A trainer for a vocabulary of `vocabularySize` ids.
    /// - Throws: ``BPETrainerError/vocabularyTooSmall(_:minimum:)`` below 259.
    public init(vocabularySize: Int, minimumPairCount: Int = 2) throws {
        guard vocabularySize >= Self.minimumVocabularySize else {
            throw BPETrainerError.vocabularyTooSmall(
                vocabularySize, minimum: Self.minimumVocabularySize)
        }
        self.vocabularySize = vocabularySize
        self.minimumPairCount = max(1, minimumPairCount)
    }

    /// Adds one document's text (pieces never span two documents).
    public mutating func add(_ text: String) { pieces.add(text) }

    /// Learns the merges and returns the tokenizer.
    public func train() -> BPETokenizer {
        var state = BPEMergeState(pieces: pieces.counts)
        var merges: [BPETokenizer.Merge] = []
        var tokenBytes = (0..<256).map { [UInt8($0)] }
        let target = vocabularySize - Self.minimumVocabularySize
        while merges.count < target, let pair = state.nextPair(minimumCount: minimumPairCount) {
            let result = Int32(tokenBytes.count)
            state.merge(pair, into: result)
            merges.append(.init(left: pair.left, right: pair.right, result: result))
            tokenBytes.append(tokenBytes[Int(pair.left)] + tokenBytes[Int(pair.right)])
        }
        let specials = [BPETokenizer.bosContent, BPETokenizer.eosContent, BPETokenizer.padContent]
        var added: [Int32: String] = [:]
        for content in specials {
            added[Int32(tokenBytes.count)] = content
            tokenBytes.append(Array(content.utf8))
        }
        let first = Int32(256 + merges.count)
        return BPETokenizer(
            tokenBytes: tokenBytes, byteIds: (0..<256).map { Int32($0) }, merges: merges,
            addedTokens: added, bos: first, eos: first + 1, pad: first + 2)
    }
}

/// Errors from training a tokenizer.
public enum BPETrainerError: Error, CustomStringConvertible, Sendable {
    /// The vocabulary asked for cannot hold the bytes and the specials.
    case vocabularyTooSmall(Int, minimum: Int)
    /// The inputs held no text.
    case noText(inputs: [String])

    /// One line naming the problem and what to do.
    public var description: String {
        switch self {
        case .vocabularyTooSmall(let size, let minimum):
            return "vocabulary size \(size) is too small: the 256 bytes and 3 special tokens "
                + "need \(minimum); hint: give --vocab-size \(minimum) or more"
        case .noText(let inputs):
            return "no text found in \(inputs.joined(separator: ", ")); hint: give .txt, .md or "
                + ".rst files or directories holding them"
        }
    }
}
