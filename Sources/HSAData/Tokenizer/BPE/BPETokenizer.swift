import Foundation

/// A byte-level BPE tokenizer (GPT-2 style) read from or written to a Hugging Face
/// `tokenizer.json`: text is split by ``ByteLevelPreTokenizer``, each piece's UTF-8 bytes start
/// as one id each and ranked merges join them. Special tokens come after the merged tokens and
/// are never produced from text (as for every ``Tokenizer``).
public struct BPETokenizer: Tokenizer {
    /// The content of the beginning-of-sequence token.
    public static let bosContent = "<|bos|>"
    /// The content of the end-of-sequence token.
    public static let eosContent = "<|eos|>"
    /// The content of the padding token.
    public static let padContent = "<|pad|>"

    /// One learned merge: `left` followed by `right` becomes `result`.
    public struct Merge: Equatable, Sendable {
        /// The first id of the pair.
        public var left: Int32
        /// The second id of the pair.
        public var right: Int32
        /// The id of the merged token.
        public var result: Int32
    }

    /// Number of ids: byte tokens, merged tokens and added (special) tokens.
    public var vocabularySize: Int { tokenBytes.count }
    /// The id of `<|bos|>`.
    public let bos: Int32
    /// The id of `<|eos|>`.
    public let eos: Int32
    /// The id of `<|pad|>`.
    public let pad: Int32
    /// The merges by rank (the first is applied first).
    public let merges: [Merge]
    /// The bytes each id stands for (the UTF-8 of its content for added tokens).
    let tokenBytes: [[UInt8]]
    /// The id of each single byte.
    let byteIds: [Int32]
    /// The added tokens (specials) by id, with their content.
    let addedTokens: [Int32: String]
    private let merger: BPEMerger
    private let cache = BPEPieceCache()

    /// A tokenizer from parts already checked by its loader or trainer: `tokenBytes` has one
    /// entry per id, `byteIds` 256, every merge's ids are in range, and `addedTokens` holds
    /// the three specials.
    init(
        tokenBytes: [[UInt8]], byteIds: [Int32], merges: [Merge], addedTokens: [Int32: String],
        bos: Int32, eos: Int32, pad: Int32
    ) {
        self.tokenBytes = tokenBytes
        self.byteIds = byteIds
        self.merges = merges
        self.addedTokens = addedTokens
        self.bos = bos
        self.eos = eos
        self.pad = pad
        var table: [UInt64: (rank: Int32, result: Int32)] = [:]
        table.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() {
            let key = BPEMerger.pairKey(merge.left, merge.right)
            // The first of two merges of one pair wins, as in `tokenizers`.
            if table[key] == nil { table[key] = (Int32(rank), merge.result) }
        }
        merger = BPEMerger(merges: table)
    }

    /// The ids of `text`: the merged ids of each pre-tokenized piece, in order.
    public func encode(_ text: String) -> [Int32] {
        var text = text
        var output: [Int32] = []
        text.withUTF8 { utf8 in
            output.reserveCapacity(utf8.count / 3)
            ByteLevelPreTokenizer.forEachPiece(of: utf8) { range in
                output += ids(ofPiece: Array(utf8[range]))
            }
        }
        return output
    }

    /// The merged ids of one pre-tokenized piece (its UTF-8 bytes), not split again.
    func ids(ofPiece piece: [UInt8]) -> [Int32] {
        cache.ids(of: piece) { bytes in merger.merge(bytes.map { byteIds[Int($0)] }) }
    }

    /// The text of `tokens`: the bytes of each token, specials and out-of-range ids skipped,
    /// invalid UTF-8 (a character split across a cut) replaced by U+FFFD.
    public func decode(_ tokens: [Int32]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(tokens.count * 4)
        for token in tokens where token >= 0 && Int(token) < tokenBytes.count {
            guard addedTokens[token] == nil else { continue }
            bytes += tokenBytes[Int(token)]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The bytes of one id (empty for specials and ids out of range).
    public func bytes(of token: Int32) -> [UInt8] {
        guard token >= 0, Int(token) < tokenBytes.count, addedTokens[token] == nil else {
            return []
        }
        return tokenBytes[Int(token)]
    }

    /// Writes the Hugging Face `tokenizer.json` that `tokenizers.Tokenizer.from_file` loads.
    public func save(to url: URL) throws {
        try HuggingFaceTokenizerFile(self).write(to: url)
    }
}
