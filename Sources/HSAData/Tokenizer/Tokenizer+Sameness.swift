import Foundation

extension Tokenizer {
    /// Whether `other` is the same tokenizer: same kind, and for BPE the same token bytes,
    /// merges and special tokens, so both map every text to the same ids. Two BPE tokenizers
    /// of one vocabulary size may still differ, which the sizes and special ids cannot tell.
    public func isSame(as other: any Tokenizer) -> Bool {
        switch (self, other) {
        case (let mine as ByteTokenizer, let theirs as ByteTokenizer): return mine == theirs
        case (let mine as BPETokenizer, let theirs as BPETokenizer): return mine == theirs
        default: return false
        }
    }
}

extension BPETokenizer: Equatable {
    /// Equal when every id stands for the same bytes or special token and the merges are the
    /// same in the same order (the encoding cache is no part of a tokenizer's identity).
    public static func == (lhs: BPETokenizer, rhs: BPETokenizer) -> Bool {
        lhs.tokenBytes == rhs.tokenBytes && lhs.merges == rhs.merges
            && lhs.addedTokens == rhs.addedTokens && lhs.bos == rhs.bos && lhs.eos == rhs.eos
            && lhs.pad == rhs.pad
    }
}
