import Foundation
import Testing

/// `hsa eval` of a model trained on BPE data: lengths count the model's tokens.
@Suite struct EvalBPECommandTests {
    /// A tiny model trained for two steps on BPE shards of a small text; its checkpoint path.
    static func trainBPEModel(in root: URL) throws -> String {
        let (texts, _, tokenizer, trained) = try TokenizerCommandTests.trainTokenizer(
            in: root, repeats: 60)
        #expect(trained.status == 0, "\(trained.error)")
        let data = root.appendingPathComponent("data").path
        let prepared = try CLITests.hsa([
            "data", "prepare", texts.path, "--tokenizer", tokenizer, "--out", data,
            "--validation-fraction", "0",
        ])
        #expect(prepared.status == 0, "\(prepared.error)")
        let run = root.appendingPathComponent("run").path
        let training = try CLITests.hsa([
            "train", "--data", data, "--out", run, "--preset", "tiny",
            "--steps", "2", "--seq-len", "32", "--batch-size", "2", "--eval-every", "0",
            "--checkpoint-every", "2",
        ])
        #expect(training.status == 0, "\(training.error)")
        return run + "/checkpoints/step-00000002"
    }

    /// The JSON objects of a JSON Lines file.
    private static func lines(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
    }

    @Test func evalOfABPEModelCountsPromptsInItsTokens() throws {
        let root = try TokenizerCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let checkpoint = try Self.trainBPEModel(in: root)
        let out = root.appendingPathComponent("eval")
        let eval = try CLITests.hsa([
            "eval", "--model", checkpoint, "--tasks", "niah_single_1,vt", "--lengths", "512",
            "--samples", "1", "--data", root.path, "--out", out.path,
        ])
        #expect(eval.status == 0, "\(eval.error)")
        let results = try Self.lines(out.appendingPathComponent("results.jsonl"))
        #expect(results.count == 2)
        for result in results {
            // The prompt plus the tokens reserved for the answer (vt 64, NIAH 128) fill the
            // length to within 2%.
            let total =
                (result["prompt_tokens"] as? Int ?? .max)
                + (result["task"] as? String == "vt" ? 64 : 128)
            #expect(total <= 512 && total >= 502, "\(result)")
        }
    }

    @Test func writeTasksCountsTheGivenModelsTokens() throws {
        let root = try TokenizerCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let checkpoint = try Self.trainBPEModel(in: root)
        func inputBytes(model: [String]) throws -> Int {
            let file = root.appendingPathComponent("tasks-\(model.count).jsonl")
            let run = try CLITests.hsa(
                [
                    "eval", "--tasks", "niah_single_1", "--lengths", "512", "--samples", "1",
                    "--data", root.path, "--write-tasks", file.path,
                ] + model)
            #expect(run.status == 0, "\(run.error)")
            let samples = try Self.lines(file)
            #expect(samples.count == 1 && samples.first?["length"] as? Int == 512)
            return (samples.first?["input"] as? String ?? "").utf8.count
        }
        // Without a model the length counts bytes; with one, its tokens: more bytes fit.
        let bytes = try inputBytes(model: [])
        #expect(bytes < 512)
        #expect(try inputBytes(model: ["--model", checkpoint]) > bytes)
    }
}
