import Foundation
import Testing

/// `--mixer mamba2` through the CLI: documented in the model flags' help, trained by
/// `hsa train`, run by the streaming commands in its recurrent form, and refused with one line
/// by document memories (their snapshots do not hold the recurrent state yet).
@Suite(.serialized) struct Mamba2CommandTests {
    @Test func trainAcceptsItAndStreamingCommandsRunIt() throws {
        let help = try CLITests.hsa(["train", "--help"])
        #expect(help.output.contains("mamba2"))
        #expect(help.output.contains("--mamba-state-dim"))

        let root = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let (prepare, tokens) = try CLITests.preparedTokens(
            in: root, documents: 3, sentence: "State spaces scan each chunk. ", repeats: 40,
            validationFraction: "0.25")
        #expect(prepare.status == 0, "\(prepare.error)")
        let run = root.appendingPathComponent("run").path
        let train = try CLITests.hsa([
            "train", "--data", tokens, "--out", run, "--preset", "tiny", "--mixer", "mamba2",
            "--mamba-state-dim", "16", "--mamba-chunk-length", "8", "--steps", "2", "--seq-len",
            "32", "--batch-size", "2", "--eval-every", "2", "--checkpoint-every", "2",
        ])
        #expect(train.status == 0, "\(train.error)")
        #expect(train.output.contains("step=2/2"))
        let checkpoint = "\(run)/checkpoints/step-00000002"
        let config = try String(contentsOfFile: "\(checkpoint)/config.json", encoding: .utf8)
        #expect(config.contains("\"mixer\" : \"mamba2\""))
        #expect(config.contains("\"mamba_state_dim\" : 16"))
        #expect(config.contains("\"mamba_chunk_length\" : 8"))

        let generate = try CLITests.hsa([
            "generate", "--model", checkpoint, "--prompt", "Stat", "--max-tokens", "4",
        ])
        #expect(generate.status == 0, "\(generate.error)")
        let eval = try CLITests.hsa([
            "eval", "--model", checkpoint, "--suite", "unseen", "--tasks", "passkey", "--lengths",
            "512", "--samples", "1", "--out", root.appendingPathComponent("eval").path,
        ])
        #expect(eval.status == 0, "\(eval.error)")
        #expect(eval.output.contains("| passkey |"))

        let document = root.appendingPathComponent("doc.txt")
        try "State spaces scan each chunk.".write(to: document, atomically: true, encoding: .utf8)
        let memory = try CLITests.hsa([
            "memory", "build", "--model", checkpoint, "--out",
            root.appendingPathComponent("memory").path, document.path,
        ])
        #expect(memory.exited && memory.status != 0, "\(memory.output)")
        #expect(memory.error.contains("recurrent state of mixer 'mamba2'"), "\(memory.error)")
        #expect(memory.error.split(separator: "\n").count == 1, "\(memory.error)")
    }
}
