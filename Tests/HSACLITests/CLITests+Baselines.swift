import Foundation
import Testing

/// The steps the baseline model kinds (`--attention landmark`, `--mixer mamba2`) share in
/// their command tests: a two-step tiny training run, the unseen pass key through `hsa eval`,
/// and the one-line refusal of `hsa memory build`.
extension CLITests {
    /// Trains the tiny preset with `modelFlags` for 2 steps (T 32, B 2) on three documents of
    /// `sentence` under `root`, expecting preparation and training to succeed. Returns the
    /// step-2 checkpoint and the text of its config.json.
    static func trainedTinyCheckpoint(
        in root: URL, sentence: String, modelFlags: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (checkpoint: String, config: String) {
        let (prepare, tokens) = try preparedTokens(
            in: root, documents: 3, sentence: sentence, repeats: 40, validationFraction: "0.25")
        #expect(prepare.status == 0, "\(prepare.error)", sourceLocation: sourceLocation)
        let run = root.appendingPathComponent("run").path
        let train = try hsa(
            ["train", "--data", tokens, "--out", run, "--preset", "tiny"] + modelFlags + [
                "--steps", "2", "--seq-len", "32", "--batch-size", "2", "--eval-every", "2",
                "--checkpoint-every", "2",
            ])
        #expect(train.status == 0, "\(train.error)", sourceLocation: sourceLocation)
        #expect(train.output.contains("step=2/2"), sourceLocation: sourceLocation)
        let checkpoint = "\(run)/checkpoints/step-00000002"
        let config = try String(contentsOfFile: "\(checkpoint)/config.json", encoding: .utf8)
        return (checkpoint, config)
    }

    /// `hsa eval` runs the unseen pass key (512 tokens, one sample) and prints its row.
    static func expectUnseenPasskeyEval(
        checkpoint: String, root: URL, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let eval = try hsa([
            "eval", "--model", checkpoint, "--suite", "unseen", "--tasks", "passkey", "--lengths",
            "512", "--samples", "1", "--out", root.appendingPathComponent("eval").path,
        ])
        #expect(eval.status == 0, "\(eval.error)", sourceLocation: sourceLocation)
        #expect(eval.output.contains("| passkey |"), sourceLocation: sourceLocation)
    }

    /// `hsa memory build` of `document` exits nonzero with one line that contains `reason`.
    static func expectMemoryBuildRefused(
        checkpoint: String, root: URL, document: URL, reason: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let memory = try hsa([
            "memory", "build", "--model", checkpoint, "--out",
            root.appendingPathComponent("memory").path, document.path,
        ])
        #expect(
            memory.exited && memory.status != 0, "\(memory.output)", sourceLocation: sourceLocation)
        #expect(memory.error.contains(reason), "\(memory.error)", sourceLocation: sourceLocation)
        #expect(
            memory.error.split(separator: "\n").count == 1, "\(memory.error)",
            sourceLocation: sourceLocation)
    }
}
