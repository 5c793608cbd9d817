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
        let (checkpoint, config) = try CLITests.trainedTinyCheckpoint(
            in: root, sentence: "State spaces scan each chunk. ",
            modelFlags: [
                "--mixer", "mamba2", "--mamba-state-dim", "16", "--mamba-chunk-length", "8",
            ])
        #expect(config.contains("\"mixer\" : \"mamba2\""))
        #expect(config.contains("\"mamba_state_dim\" : 16"))
        #expect(config.contains("\"mamba_chunk_length\" : 8"))

        let generate = try CLITests.hsa([
            "generate", "--model", checkpoint, "--prompt", "Stat", "--max-tokens", "4",
        ])
        #expect(generate.status == 0, "\(generate.error)")
        try CLITests.expectUnseenPasskeyEval(checkpoint: checkpoint, root: root)

        let document = root.appendingPathComponent("doc.txt")
        try "State spaces scan each chunk.".write(to: document, atomically: true, encoding: .utf8)
        try CLITests.expectMemoryBuildRefused(
            checkpoint: checkpoint, root: root, document: document,
            reason: "recurrent state of mixer 'mamba2'")
    }
}
