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
        let (checkpoint, config) = try CLITests.trainedTinyCheckpoint(
            in: root, sentence: "Landmarks close each block. ",
            modelFlags: ["--attention", "landmark", "--landmark-block", "7"])
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
        try CLITests.expectUnseenPasskeyEval(checkpoint: checkpoint, root: root)
        try CLITests.expectMemoryBuildRefused(
            checkpoint: checkpoint, root: root, document: prompt,
            reason: "block caches of attention 'landmark'")
    }
}
