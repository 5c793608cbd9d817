import HSACore
import HSAData
import Testing

/// ``StreamingTextDecoder`` with BPE tokens, which may end inside a character and start the
/// next: every piece it returns is whole characters, and together they are the text.
@Suite struct StreamingTextDecoderBPETests {
    @Test func piecesAreWholeCharactersAndJoinToTheText() {
        let tokenizer = StreamingBPEEncoderTests.tokenizer
        let fragments = ["東京", " 🚀🚀", "é", "naïve", " the", "—", "京東", "🚀é"]
        var random = SplitMix64(seed: 11)
        var splitTokens = 0
        for _ in 0..<100 {
            let text = (0..<Int.random(in: 1...12, using: &random)).map { _ in
                fragments.randomElement(using: &random)!
            }.joined()
            var decoder = StreamingTextDecoder(tokenizer: tokenizer)
            var pieces: [String] = []
            for token in tokenizer.encode(text) {
                if let piece = decoder.decode(token) {
                    pieces.append(piece)
                } else {
                    splitTokens += 1
                }
            }
            #expect(decoder.finish() == nil)
            #expect(pieces.joined() == text)
            #expect(!pieces.contains { $0.contains("\u{FFFD}") }, "\(pieces)")
        }
        // The texts did put characters across tokens.
        #expect(splitTokens > 0)
    }
}
