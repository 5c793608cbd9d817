import Foundation
import Testing

/// `--mixer mamba2` through the CLI: documented in the model flags' help, trained by
/// `hsa train`, and refused with one line by the streaming commands (not supported yet).
@Suite(.serialized) struct Mamba2CommandTests {
    @Test func trainAcceptsItAndStreamingCommandsRefuseIt() throws {
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

        for command in [
            ["generate", "--model", checkpoint, "--prompt", "Stat", "--max-tokens", "4"],
            ["eval", "--model", checkpoint, "--out", root.appendingPathComponent("eval").path],
        ] {
            let refused = try CLITests.hsa(command)
            #expect(refused.exited && refused.status != 0, "\(command[0]): \(refused.output)")
            #expect(refused.error.contains("does not support mixer 'mamba2'"), "\(command[0])")
            #expect(refused.error.split(separator: "\n").count == 1, "\(refused.error)")
        }
    }
}
