import Foundation
import HSAData
import HSATestSupport
import Testing

@Suite struct BPETokenizerFileTests {
    private func trained() throws -> BPETokenizer {
        var trainer = try BPETrainer(vocabularySize: 300)
        trainer.add(String(repeating: "the cat sat on the mat with the hat. ", count: 20))
        return trainer.train()
    }

    @Test func saveWritesTheHuggingFaceFormatAndLoadsBack() throws {
        let tokenizer = try trained()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("tokenizer.json")
        try tokenizer.save(to: url)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        let model = json?["model"] as? [String: Any]
        #expect(model?["type"] as? String == "BPE")
        #expect((model?["merges"] as? [String])?.first?.contains(" ") == true)
        #expect((json?["pre_tokenizer"] as? [String: Any])?["type"] as? String == "ByteLevel")
        #expect((json?["decoder"] as? [String: Any])?["type"] as? String == "ByteLevel")
        let added = json?["added_tokens"] as? [[String: Any]]
        #expect(added?.map { $0["content"] as? String } == ["<|bos|>", "<|eos|>", "<|pad|>"])
        #expect((model?["vocab"] as? [String: Int])?["Ġ"] == 32)

        let loaded = try #require(try TokenizerLoader.load(from: url) as? BPETokenizer)
        #expect(loaded.vocabularySize == tokenizer.vocabularySize)
        #expect(loaded.merges == tokenizer.merges)
        #expect(
            [loaded.bos, loaded.eos, loaded.pad] == [tokenizer.bos, tokenizer.eos, tokenizer.pad])
        let text = "the cat's hat — 東京 🚀\n"
        #expect(loaded.encode(text) == tokenizer.encode(text))
        #expect(loaded.decode(loaded.encode(text)) == text)
        let checkpoint = try TokenizerLoader.load(checkpoint: directory.url)
        #expect(checkpoint.vocabularySize == tokenizer.vocabularySize)
    }

    @Test func mergesAreReadInEitherForm() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("tokenizer.json")
        try trained().save(to: url)
        // The newer `tokenizers` writes merges as ["a", "b"] arrays.
        var json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var model = try #require(json["model"] as? [String: Any])
        let merges = try #require(model["merges"] as? [String])
        model["merges"] = merges.map { $0.split(separator: " ").map(String.init) }
        json["model"] = model
        let arrays = directory.file("arrays.json")
        try JSONSerialization.data(withJSONObject: json).write(to: arrays)
        let loaded = try #require(try TokenizerLoader.load(from: arrays) as? BPETokenizer)
        #expect(loaded.merges.count == merges.count)
    }

    /// Each edit of a valid file and a phrase its error must contain.
    @Test func invalidFilesGiveClearErrors() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let good = directory.file("good.json")
        try trained().save(to: good)
        let original = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: good)) as? [String: Any])
        let edits: [(String, ([String: Any]) -> [String: Any])] = [
            (
                "missing key model.merges",
                { json in
                    var json = json
                    var model = json["model"] as! [String: Any]
                    model["merges"] = nil
                    json["model"] = model
                    return json
                }
            ),
            (
                "names a token not in vocab",
                { json in
                    var json = json
                    var model = json["model"] as! [String: Any]
                    model["merges"] = ["Ġ zzzz"]
                    json["model"] = model
                    return json
                }
            ),
            (
                "model type is \"WordPiece\"",
                { json in
                    var json = json
                    var model = json["model"] as! [String: Any]
                    model["type"] = "WordPiece"
                    json["model"] = model
                    return json
                }
            ),
            (
                "normalizer \"NFC\" is not supported",
                { json in
                    var json = json
                    json["normalizer"] = ["type": "NFC"]
                    return json
                }
            ),
            (
                "add_prefix_space false",
                { json in
                    var json = json
                    json["pre_tokenizer"] = ["type": "ByteLevel", "add_prefix_space": true]
                    return json
                }
            ),
            (
                "no <|pad|>",
                { json in
                    var json = json
                    json["added_tokens"] = Array(
                        (json["added_tokens"] as! [[String: Any]]).dropLast())
                    return json
                }
            ),
            (
                "vocab has no token for byte 65",
                { json in
                    var json = json
                    var model = json["model"] as! [String: Any]
                    var vocab = model["vocab"] as! [String: Int]
                    vocab["A"] = nil
                    vocab["AAAAAAAA"] = 65
                    model["vocab"] = vocab
                    model["merges"] = [String]()
                    json["model"] = model
                    return json
                }
            ),
        ]
        for (phrase, edit) in edits {
            let url = directory.file("bad.json")
            try JSONSerialization.data(withJSONObject: edit(original)).write(to: url)
            let error = #expect(throws: TokenizerError.self) { try TokenizerLoader.load(from: url) }
            let message = error?.description ?? ""
            #expect(message.contains("invalid BPE tokenizer.json"), "\(message)")
            #expect(message.contains(phrase), "\(message)")
        }
        // Not JSON at all: the byte format's malformed error, not a crash.
        let garbage = try directory.write("garbage.json", "{\"model\": [1, 2")
        #expect(throws: TokenizerError.self) { try TokenizerLoader.load(from: garbage) }
    }
}
