import Foundation
@testable import HSAData
import HSATestSupport
import Testing

/// A small English text with repeats, so a few hundred merges are worth learning.
private let trainingText = """
    The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs away.
    In the beginning the tokenizer knew only bytes, and every byte was a token of its own.
    Then it counted the pairs of tokens that stood side by side, and merged the most frequent
    pair into a new token, and counted again, and merged again, until the vocabulary was full.
    Numbers like 12345 and 2024 are split from words; punctuation (commas, dots!) stands alone.
    The fox, the dog and the tokenizer lived happily ever after, counting pairs of tokens.
    """

@Suite struct BPETokenizerTests {
    /// A tokenizer trained on ``trainingText``, built once per test.
    let tokenizer: BPETokenizer

    init() throws {
        var trainer = try BPETrainer(vocabularySize: 400)
        for _ in 0..<3 { trainer.add(trainingText) }
        tokenizer = trainer.train()
    }

    @Test func piecesFollowTheGPT2Pattern() {
        // Expected pieces from `tokenizers`' ByteLevel pre-tokenizer (use_regex, no prefix).
        let cases: [(String, [String])] = [
            (
                "Hello world's  end\n\n  123abc!! don't",
                ["Hello", " world", "'s", " ", " end", "\n\n ", " 123", "abc", "!!", " don", "'t"]
            ),
            ("a\t \tb  ", ["a", "\t ", "\t", "b", "  "]),
            ("?'s 'll 'LL\u{A0}x", ["?'", "s", " '", "ll", " '", "LL", "\u{A0}", "x"]),
            ("naïve café — 東京 🚀 x", ["naïve", " café", " —", " 東京", " 🚀", " x"]),
            ("", []),
        ]
        for (text, expected) in cases {
            var copy = text
            let pieces = copy.withUTF8 { utf8 in
                ByteLevelPreTokenizer.pieces(of: utf8).map {
                    String(decoding: utf8[$0], as: UTF8.self)
                }
            }
            #expect(pieces == expected, "\(text.debugDescription)")
        }
    }

    @Test(arguments: [
        "", "hello, world", "The fox runs.", "naïve café — déjà vu", "東京タワー 中文 한국어",
        "emoji 🚀👩‍👩‍👧 flags 🇫🇷", "spaces   and\ttabs\n\n\n  end  ", "digits 0123456789 3.14159",
        "it's they're we've I'm you'll he'd", "\u{0} control \u{7F}\u{85}",
    ])
    func roundTrip(text: String) {
        let ids = tokenizer.encode(text)
        #expect(tokenizer.decode(ids) == text)
        #expect(ids.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabularySize })
        #expect(!ids.contains { tokenizer.isSpecial($0) })
        #expect(tokenizer.encode(bytes: Data(text.utf8)) == ids)
    }

    @Test func mergesCompressTheTrainingText() {
        #expect(tokenizer.merges.count == 400 - 259)
        #expect(tokenizer.vocabularySize == 400)
        let ids = tokenizer.encode(trainingText)
        #expect(ids.count * 2 < trainingText.utf8.count)
        // A frequent word becomes one token.
        #expect(tokenizer.encode(" the").count == 1)
    }

    @Test func trainingStopsWhenNoPairRepeats() throws {
        var trainer = try BPETrainer(vocabularySize: 5000)
        trainer.add("abcabc xyz")
        let small = trainer.train()
        // Pairs seen twice: "a b" (256), then "ab c" (257); "abc abc" and " x" are seen once.
        #expect(
            small.merges.map { [$0.left, $0.right, $0.result] } == [
                [97, 98, 256], [256, 99, 257],
            ])
        #expect(small.encode("abcabc") == [257, 257])
        #expect(small.vocabularySize == 256 + small.merges.count + 3)
        #expect(small.decode(small.encode("abcabc xyz")) == "abcabc xyz")
    }

    @Test func specialTokensFollowTheMerges() {
        let size = Int32(tokenizer.vocabularySize)
        #expect([tokenizer.bos, tokenizer.eos, tokenizer.pad] == [size - 3, size - 2, size - 1])
        let ids = [tokenizer.bos] + tokenizer.encode("fox") + [tokenizer.eos, tokenizer.pad]
        #expect(tokenizer.decode(ids) == "fox")
        // Their text is ordinary text: never a special id.
        #expect(!tokenizer.encode("<|bos|>").contains(tokenizer.bos))
        #expect(tokenizer.decode(tokenizer.encode("<|bos|>")) == "<|bos|>")
    }

    @Test func decodeIsLenient() {
        // Byte ids 0...255 are the bytes: a lone continuation byte and a cut sequence.
        #expect(tokenizer.decode([0x80, 0x41, 0xC3]) == "\u{FFFD}A\u{FFFD}")
        #expect(tokenizer.decode([-1, 100_000, 0x42]) == "B")
    }

    @Test func longPiecesMergeLikeShortOnes() {
        let text = String(repeating: "the", count: 3000) + " " + String(repeating: "a", count: 999)
        #expect(tokenizer.decode(tokenizer.encode(text)) == text)
    }

    /// The heap merger against the textbook loop (merge every occurrence of the lowest-rank
    /// pair, left to right, until none is left) on random merge tables and sequences.
    @Test func heapMergerMatchesTheTextbookLoop() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % bound
        }
        for _ in 0..<50 {
            // Merges of ids that exist, each result a new id, as training makes them.
            var table: [UInt64: (rank: Int32, result: Int32)] = [:]
            var ranked: [(Int32, Int32, Int32)] = []
            var next: Int32 = 4
            while ranked.count < 12 {
                let left = Int32(random(Int(next)))
                let right = Int32(random(Int(next)))
                let key = BPEMerger.pairKey(left, right)
                guard table[key] == nil else { continue }
                table[key] = (Int32(ranked.count), next)
                ranked.append((left, right, next))
                next += 1
            }
            let symbols = (0..<(1 + random(300))).map { _ in Int32(random(4)) }
            var expected = symbols
            while true {
                var best: (rank: Int, merge: (Int32, Int32, Int32))?
                for position in 0..<max(0, expected.count - 1) {
                    let pair = BPEMerger.pairKey(expected[position], expected[position + 1])
                    if let found = table[pair], best == nil || Int(found.rank) < best!.rank {
                        best = (Int(found.rank), ranked[Int(found.rank)])
                    }
                }
                guard let (_, merge) = best else { break }
                var output: [Int32] = []
                var position = 0
                while position < expected.count {
                    if position + 1 < expected.count, expected[position] == merge.0,
                        expected[position + 1] == merge.1
                    {
                        output.append(merge.2)
                        position += 2
                    } else {
                        output.append(expected[position])
                        position += 1
                    }
                }
                expected = output
            }
            #expect(BPEMerger(merges: table).merge(symbols) == expected)
        }
    }

    @Test func tooSmallVocabularyIsRejected() {
        let error = #expect(throws: BPETrainerError.self) {
            try BPETrainer(vocabularySize: 258)
        }
        #expect(error?.description.contains("need 259") == true)
    }
}
