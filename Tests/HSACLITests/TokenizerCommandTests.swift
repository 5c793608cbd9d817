import Foundation
import Testing

/// `hsa tokenizer train | encode | decode` end to end, and their one-line errors.
@Suite struct TokenizerCommandTests {
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("hsa-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A folder `texts` of one repetitive text of `repeats` sentences under `root`, and a
    /// tokenizer of at most 300 ids trained on it in `root/tok`.
    static func trainTokenizer(
        in root: URL, repeats: Int
    ) throws -> (texts: URL, text: String, tokenizer: String, train: CLITests.Result) {
        let texts = root.appendingPathComponent("texts")
        try FileManager.default.createDirectory(at: texts, withIntermediateDirectories: true)
        let text = String(
            repeating: "the cat sat on the mat; the dog ate 42 bones. ", count: repeats)
        try text.write(to: texts.appendingPathComponent("a.txt"), atomically: true, encoding: .utf8)
        let tokenizer = root.appendingPathComponent("tok").path
        let train = try CLITests.hsa([
            "tokenizer", "train", "--vocab-size", "300", "--out", tokenizer, texts.path,
        ])
        return (texts, text, tokenizer, train)
    }

    @Test func trainEncodeDecodeRoundTrip() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let (_, _, out, train) = try Self.trainTokenizer(in: root, repeats: 40)
        #expect(train.status == 0, "\(train.error)")
        // Training stops early when no pair repeats: the vocabulary is at most the one asked.
        #expect(train.output.contains("files=1 ") && train.output.contains("merges="))

        let sample = root.appendingPathComponent("sample.txt")
        let heldOut = "the cat ate the bones — café 東京 🚀\n"
        try heldOut.write(to: sample, atomically: true, encoding: .utf8)
        let json = try CLITests.hsa([
            "tokenizer", "encode", "--tokenizer", out, "--json", sample.path,
        ])
        #expect(json.status == 0, "\(json.error)")
        let ids = try JSONDecoder().decode([Int].self, from: Data(json.output.utf8))
        #expect(!ids.isEmpty && ids.count < heldOut.utf8.count)
        let plain = try CLITests.hsa(
            ["tokenizer", "encode", "--tokenizer", out, "-"], input: heldOut)
        #expect(
            plain.output.split(separator: " ").compactMap {
                Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
            } == ids)
        let decoded = try CLITests.hsa(
            ["tokenizer", "decode", "--tokenizer", out + "/tokenizer.json", "-"],
            input: json.output)
        #expect(decoded.status == 0 && decoded.output == heldOut)
    }

    @Test func aBPETokenizerGoesFromDataThroughTrainingIntoTheCheckpoint() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let (texts, text, tokenizer, trained) = try Self.trainTokenizer(in: root, repeats: 60)
        #expect(trained.status == 0, "\(trained.error)")
        let data = root.appendingPathComponent("data").path
        let prepared = try CLITests.hsa([
            "data", "prepare", texts.path, "--tokenizer", tokenizer, "--out", data,
            "--validation-fraction", "0",
        ])
        #expect(prepared.status == 0, "\(prepared.error)")
        // BPE tokens: fewer than the bytes (+ BOS/EOS) the byte tokenizer would write.
        let count = prepared.output.split(separator: " ").first { $0.hasPrefix("train_tokens=") }
        #expect(
            (count.flatMap { Int($0.dropFirst("train_tokens=".count)) } ?? .max) < text.utf8.count)
        let run = root.appendingPathComponent("run").path
        let training = try CLITests.hsa([
            "train", "--data", data, "--out", run, "--preset", "tiny",
            "--steps", "2", "--seq-len", "32", "--batch-size", "2", "--eval-every", "0",
            "--checkpoint-every", "2",
        ])
        #expect(training.status == 0, "\(training.error)")
        let checkpoint = run + "/checkpoints/step-00000002"
        let saved = try String(contentsOfFile: checkpoint + "/tokenizer.json", encoding: .utf8)
        #expect(saved.contains("\"BPE\""))
        let generated = try CLITests.hsa([
            "generate", "--model", checkpoint, "--prompt", "the cat", "--max-tokens", "4",
        ])
        #expect(generated.status == 0, "\(generated.error)")
    }

    @Test func badInputIsOneLineAndANonzeroExit() throws {
        let root = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let text = root.appendingPathComponent("a.txt")
        try "some text".write(to: text, atomically: true, encoding: .utf8)
        let broken = root.appendingPathComponent("broken.json")
        try #"{"model": {"type": "BPE", "vocab": {}}}"#.write(
            to: broken, atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["train", "--vocab-size", "100", "--out", root.path, text.path], "need 259"),
            (["train", "--out", root.path, root.appendingPathComponent("none").path], "none"),
            (["encode", "--tokenizer", broken.path, text.path], "missing key model.merges"),
            (
                ["encode", "--tokenizer", root.appendingPathComponent("x").path, text.path],
                "no such"
            ),
            // A directory without tokenizer.json has the byte tokenizer.
            (["decode", "--tokenizer", root.path, text.path], "is not a token id"),
        ]
        for (arguments, phrase) in cases {
            let result = try CLITests.hsa(["tokenizer"] + arguments)
            #expect(result.exited && result.status != 0, "\(arguments)")
            #expect(result.error.contains(phrase), "\(arguments): \(result.error)")
            #expect(result.error.split(separator: "\n").count == 1, "\(result.error)")
        }
    }
}
