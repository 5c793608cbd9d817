import Foundation

/// Maps text to token ids and back.
///
/// `encode` returns only the tokens of the text itself: special tokens (BOS, EOS, PAD) are
/// never produced from text, callers add them (a training document is `[bos] + encode + [eos]`).
public protocol Tokenizer: Sendable {
    /// Number of distinct token ids, specials included (`V`); every id is in `0 ..< V`.
    var vocabularySize: Int { get }
    /// Beginning-of-sequence id.
    var bos: Int32 { get }
    /// End-of-sequence id.
    var eos: Int32 { get }
    /// Padding id (never a training target).
    var pad: Int32 { get }

    /// The tokens of `text`, without special tokens.
    func encode(_ text: String) -> [Int32]

    /// The tokens of raw bytes, without special tokens. Byte-level tokenizers map bytes one to
    /// one (invalid UTF-8 included); others may decode the bytes leniently as UTF-8 first.
    func encode(bytes: Data) -> [Int32]

    /// The text of `tokens`: special and out-of-range ids are skipped, invalid UTF-8 becomes
    /// U+FFFD.
    func decode(_ tokens: [Int32]) -> String

    /// Writes the tokenizer description (`tokenizer.json`) to `url`.
    func save(to url: URL) throws
}

extension Tokenizer {
    /// Default: decode the bytes leniently as UTF-8, then encode the text.
    public func encode(bytes: Data) -> [Int32] {
        encode(String(decoding: bytes, as: UTF8.self))
    }

    /// Whether `token` is one of BOS, EOS or PAD.
    public func isSpecial(_ token: Int32) -> Bool {
        token == bos || token == eos || token == pad
    }
}
