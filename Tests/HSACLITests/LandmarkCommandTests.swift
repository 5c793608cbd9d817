import Foundation
import Testing

/// `--attention landmark` through the CLI: documented in the model flags' help, trained by
/// `hsa train`, run by the streaming commands over their block caches, and refused with one
/// line by document memories (their snapshots do not hold the block caches yet).
@Suite(.serialized) struct LandmarkCommandTests {
    @Test func trainAcceptsItAndStreamingCommandsRunIt() throws {
        let help = try CLITests.hsa(["train", "--help"])
        #expect(help.output.contains("landmark"))
        #expect(help.output.contains("--landmark-block"))

        let root = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let (prepare, tokens) = try CLITests.preparedTokens(
            in: root, documents: 3, sentence: "Landmarks close each block. ", repeats: 40,
            validationFraction: "0.25")
        #expect(prepare.status == 0, "\(prepare.error)")
        let run = root.appendingPathComponent("run").path
        let train = try CLITests.hsa([
            "train", "--data", tokens, "--out", run, "--preset", "tiny", "--attention",
            "landmark", "--landmark-block", "7", "--steps", "2", "--seq-len", "32",
            "--batch-size", "2", "--eval-every", "2", "--checkpoint-every", "2",
        ])
        #expect(train.status == 0, "\(train.error)")
        #expect(train.output.contains("step=2/2"))
        let checkpoint = "\(run)/checkpoints/step-00000002"
        let config = try String(contentsOfFile: "\(checkpoint)/config.json", encoding: .utf8)
        #expect(config.contains("\"attention\" : \"landmark\""))
        #expect(config.contains("\"landmark_block\" : 7"))

        let generate = try CLITests.hsa([
            "generate", "--model", checkpoint, "--prompt", "Land", "--max-tokens", "4",
        ])
        #expect(generate.status == 0, "\(generate.error)")
        // A prompt of several blocks, streamed in blocks that split them.
        let prompt = root.appendingPathComponent("prompt.txt")
        try String(repeating: "Landmarks close each block. ", count: 4).write(
            to: prompt, atomically: true, encoding: .utf8)
        let complete = try CLITests.hsa([
            "complete", "--model", checkpoint, "--prompt-file", prompt.path, "--block", "5",
            "--max-tokens", "4",
        ])
        #expect(complete.status == 0, "\(complete.error)")
        let eval = try CLITests.hsa([
            "eval", "--model", checkpoint, "--suite", "unseen", "--tasks", "passkey", "--lengths",
            "512", "--samples", "1", "--out", root.appendingPathComponent("eval").path,
        ])
        #expect(eval.status == 0, "\(eval.error)")
        #expect(eval.output.contains("| passkey |"))

        let memory = try CLITests.hsa([
            "memory", "build", "--model", checkpoint, "--out",
            root.appendingPathComponent("memory").path, prompt.path,
        ])
        #expect(memory.exited && memory.status != 0, "\(memory.output)")
        #expect(memory.error.contains("block caches of attention 'landmark'"), "\(memory.error)")
        #expect(memory.error.split(separator: "\n").count == 1, "\(memory.error)")
    }
}
