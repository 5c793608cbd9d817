/// How often each pre-tokenized piece occurs in a training text. Counting pieces first means
/// the merge loop works on the distinct pieces (a few hundred thousand for tens of megabytes
/// of text), each weighted by its count, instead of on the text itself.
struct BPEPieceCounts {
    /// The count of each distinct piece, keyed by its UTF-8 bytes.
    private(set) var counts: [[UInt8]: Int] = [:]
    /// Bytes of text counted so far.
    private(set) var byteCount = 0

    /// Adds the pieces of `text`.
    mutating func add(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            byteCount += utf8.count
            ByteLevelPreTokenizer.forEachPiece(of: utf8) { range in
                counts[Array(utf8[range]), default: 0] += 1
            }
        }
    }
}
