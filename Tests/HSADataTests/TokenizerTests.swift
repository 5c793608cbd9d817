import Foundation
import HSAData
import HSATestSupport
import Testing

@Suite struct TokenizerTests {
    let tokenizer = ByteTokenizer()

    @Test func specialIdsAndVocabulary() {
        #expect(tokenizer.vocabularySize == 259)
        #expect([tokenizer.bos, tokenizer.eos, tokenizer.pad] == [256, 257, 258])
    }

    @Test(arguments: ["", "hello, world", "naïve café — 東京 🚀", "line\nbreak\t\0nul"])
    func roundTrip(text: String) {
        let tokens = tokenizer.encode(text)
        #expect(tokens.count == text.utf8.count)
        #expect(tokens.allSatisfy { $0 >= 0 && $0 < 256 })
        #expect(tokenizer.decode(tokens) == text)
        #expect(tokenizer.encode(bytes: Data(text.utf8)) == tokens)
    }

    @Test func decodeSkipsSpecialsAndIsLenient() {
        let tokens = [tokenizer.bos] + tokenizer.encode("é") + [tokenizer.eos, tokenizer.pad]
        #expect(tokenizer.decode(tokens) == "é")
        // A lone continuation byte and a truncated 2-byte sequence become U+FFFD.
        #expect(tokenizer.decode([0x80, 0x41, 0xC3]) == "\u{FFFD}A\u{FFFD}")
        #expect(tokenizer.decode([-1, 1000, 0x42]) == "B")
    }

    @Test func streamingEncoderMatchesWholeEncodingAcrossSplitCharacters() {
        let bytes = Data("ab 東京 🚀 end".utf8)
        var encoder = StreamingByteEncoder()
        var streamed: [Int32] = []
        // Chunks of 3 bytes split the multi-byte characters in the middle.
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + 3)
            streamed += encoder.encode(bytes.subdata(in: start..<end))
            start = end
        }
        streamed += encoder.finish()
        let expected = [tokenizer.bos] + tokenizer.encode(bytes: bytes) + [tokenizer.eos]
        #expect(streamed == expected)
        #expect(encoder.tokenCount == expected.count)

        var empty = StreamingByteEncoder()
        #expect(empty.finish(addEOS: false) == [tokenizer.bos])
    }

    @Test func streamingDecoderWaitsForSplitCharacters() {
        let text = "a 東京 🚀"
        var decoder = StreamingTextDecoder(tokenizer: tokenizer)
        var pieces: [String?] = []
        for token in tokenizer.encode(text) { pieces.append(decoder.decode(token)) }
        // Each character comes out whole, once its last byte has arrived.
        #expect(pieces.compactMap { $0 } == ["a", " ", "東", "京", " ", "🚀"])
        #expect(decoder.finish() == nil)
        // A character still incomplete at the end is decoded as it is.
        #expect(decoder.decode(tokenizer.encode("é")[0]) == nil)
        #expect(decoder.finish() == "\u{FFFD}")
    }

    @Test func saveAndLoad() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("tokenizer.json")
        try tokenizer.save(to: url)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        #expect(json?["type"] as? String == "byte")
        #expect(json?["vocab_size"] as? Int == 259)
        let loaded = try TokenizerLoader.load(from: url)
        #expect(loaded is ByteTokenizer)
        #expect(loaded.vocabularySize == 259 && loaded.eos == 257)
        #expect(loaded.decode(loaded.encode("round trip ✓")) == "round trip ✓")
    }

    @Test func unknownTypeIsRejectedWithTheSupportedList() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = try directory.write(
            "tokenizer.json", #"{"type": "bpe", "version": 1, "vocab_size": 50257}"#)
        let error = #expect(throws: TokenizerError.self) { try TokenizerLoader.load(from: url) }
        let message = error?.description ?? ""
        #expect(message.contains("unknown tokenizer type \"bpe\""))
        #expect(message.contains("hint: this build supports \"byte\""))
        #expect(message.contains(url.path))
    }

    @Test func newerVersionAndWrongVocabularyAreRejected() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let newer = try directory.write(
            "newer.json", #"{"type": "byte", "version": 2, "vocab_size": 259}"#)
        let versionError = #expect(throws: TokenizerError.self) {
            try TokenizerLoader.load(from: newer)
        }
        #expect(versionError?.description.contains("newer hsa") == true)
        let wrong = try directory.write(
            "wrong.json",
            #"{"type": "byte", "version": 1, "vocab_size": 300, "#
                + #""special_tokens": {"bos": 256, "eos": 257, "pad": 258}}"#)
        let vocabularyError = #expect(throws: TokenizerError.self) {
            try TokenizerLoader.load(from: wrong)
        }
        #expect(vocabularyError?.description.contains("vocab_size is 300, expected 259") == true)
    }
}
