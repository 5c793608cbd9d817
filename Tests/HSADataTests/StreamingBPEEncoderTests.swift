import Foundation
import HSACore
import HSAData
import Testing

/// ``StreamingBPEEncoder``: text cut anywhere encodes to the ids of the whole text.
@Suite struct StreamingBPEEncoderTests {
    /// Fragments random texts are made of: words, contractions, digits, whitespace runs,
    /// multi-byte characters, and invalid UTF-8 (a lone continuation byte, a cut character).
    static let fragments: [[UInt8]] =
        [
            "the", " cat", "sat", "'s", "'re", "'ve", "'ll", "'", "r", "l", "v", "e", "42", " 7",
            " ", "  ", "\n", "\n\n", "\t", " \t ", "\u{A0}", "!", "?", ".", "é", "naïve",
            " 東京", "京", "🚀", " 🚀🚀", "—",
        ].map { Array($0.utf8) } + [[0x80], [0xE6, 0x9D], [0xFF], [0xF0, 0x9F]]

    /// A tokenizer that learned merges across the fragments (multi-byte ones included).
    static let tokenizer: BPETokenizer = {
        var trainer = try! BPETrainer(vocabularySize: 420)
        let text = "the cat's 42 naïve 東京 🚀🚀 they're we've it'll  \n\n\t—é! "
        for _ in 0..<20 { trainer.add(text) }
        return trainer.train()
    }()

    @Test func streamedIdsEqualWholeTextIdsForRandomTextsAndCuts() {
        let tokenizer = Self.tokenizer
        var random = SplitMix64(seed: 7)
        for _ in 0..<300 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...40, using: &random) {
                bytes += Self.fragments.randomElement(using: &random)!
            }
            var cuts = (0..<Int.random(in: 0...8, using: &random)).map { _ in
                Int.random(in: 0...bytes.count, using: &random)
            }
            cuts = ([0] + cuts + [bytes.count]).sorted()
            var encoder = StreamingBPEEncoder(tokenizer: tokenizer)
            var streamed: [Int32] = []
            for (start, end) in zip(cuts, cuts.dropFirst()) {
                streamed += encoder.encode(Data(bytes[start..<end]))
            }
            streamed += encoder.finish(addEOS: true)
            let whole = [tokenizer.bos] + tokenizer.encode(bytes: Data(bytes)) + [tokenizer.eos]
            #expect(streamed == whole, "text \(bytes) cut at \(cuts)")
            #expect(encoder.tokenCount == whole.count)
        }
    }

    @Test func everyByteCutOfATrickyTextGivesTheWholeTextIds() {
        let tokenizer = Self.tokenizer
        let bytes = Data("x're  \n\n  they'll 東京🚀 ?'s\u{A0} 42\t".utf8)
        let whole = tokenizer.encode(bytes: bytes)
        for cut in 0...bytes.count {
            var encoder = StreamingBPEEncoder(tokenizer: tokenizer, addBOS: false)
            let streamed =
                encoder.encode(bytes.prefix(cut)) + encoder.encode(bytes.dropFirst(cut))
                + encoder.finish(addEOS: false)
            #expect(streamed == whole, "cut at byte \(cut)")
        }
    }

    @Test func tokensComeOutAsTheTextArrivesNotAtTheEnd() {
        let tokenizer = Self.tokenizer
        let sentence = Data("the cat's naïve 東京 🚀 ".utf8)
        var encoder = StreamingBPEEncoder(tokenizer: tokenizer, addBOS: false)
        var streamed = 0
        for _ in 0..<100 { streamed += encoder.encode(sentence).count }
        // Only about the last piece waits for `finish`.
        let rest = encoder.finish(addEOS: false).count
        #expect(streamed > 0)
        #expect(rest <= 3, "\(rest) tokens held back")
    }

    @Test func theFactoryPicksTheEncoderOfTheTokenizer() {
        #expect(makeStreamingEncoder(for: Self.tokenizer) is StreamingBPEEncoder)
        #expect(makeStreamingEncoder(for: ByteTokenizer()) is StreamingByteEncoder)
    }
}
