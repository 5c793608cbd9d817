import Foundation
import Testing

/// `hsa train --state-passing`: trains a `mixer: mamba2` model on consecutive segments with its
/// carried states in the checkpoints, and is refused for any other model, with
/// `--document-aligned`, and when resuming a run started the other way.
@Suite(.serialized) struct StatePassingCommandTests {
    @Test func trainsMamba2AndRefusesOtherModelsAndAMixedResume() throws {
        let help = try CLITests.hsa(["train", "--help"])
        #expect(help.output.contains("--state-passing"))

        let root = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let (prepare, tokens) = try CLITests.preparedTokens(
            in: root, documents: 3, sentence: "Each lane runs on. ", repeats: 40,
            validationFraction: "0.25")
        #expect(prepare.status == 0, "\(prepare.error)")
        let run = root.appendingPathComponent("run").path
        let common = [
            "train", "--data", tokens, "--out", run, "--preset", "tiny", "--seq-len", "32",
            "--batch-size", "2", "--eval-every", "0", "--checkpoint-every", "2",
        ]
        let mamba2 = ["--mixer", "mamba2", "--mamba-state-dim", "16", "--mamba-chunk-length", "8"]

        let attention = try CLITests.hsa(common + ["--steps", "2", "--state-passing"])
        #expect(attention.exited && attention.status != 0)
        #expect(attention.error.contains("it needs a mixer: mamba2 model"), "\(attention.error)")
        let aligned = try CLITests.hsa(
            common + mamba2 + ["--steps", "2", "--state-passing", "--document-aligned"])
        #expect(aligned.exited && aligned.status != 0)
        #expect(aligned.error.contains("--document-aligned"), "\(aligned.error)")

        let train = try CLITests.hsa(common + mamba2 + ["--steps", "2", "--state-passing"])
        #expect(train.status == 0, "\(train.error)")
        let checkpoint = "\(run)/checkpoints/step-00000002"
        #expect(
            FileManager.default.fileExists(atPath: "\(checkpoint)/carried_states.safetensors"))
        let options = try String(contentsOfFile: "\(run)/training.json", encoding: .utf8)
        #expect(options.contains("\"state_passing\" : true"))

        let resumed = try CLITests.hsa(common + mamba2 + ["--steps", "4", "--resume"])
        #expect(resumed.exited && resumed.status != 0)
        #expect(
            resumed.error.contains(
                "cannot resume from step-00000002 without --state-passing"), "\(resumed.error)")
        #expect(resumed.error.split(separator: "\n").count == 1, "\(resumed.error)")
        let continued = try CLITests.hsa(
            common + mamba2 + ["--steps", "4", "--resume", "--state-passing"])
        #expect(continued.status == 0, "\(continued.error)")
        #expect(continued.output.contains("resumed from step 2"))
    }
}
