import Foundation
import Testing

/// `hsa complete`, `hsa memory build|append` and `hsa ask` on a model with a BPE tokenizer: prompts
/// and documents are encoded as they stream in, and a question asked of a memory prints what
/// `complete` prints for the documents and the question joined.
@Suite struct BPEStreamingCommandTests {
    /// The token count in `memory build`'s line (`memory <dir>: N tokens (...`).
    static func memoryTokens(_ output: String) -> Int? {
        guard let range = output.range(of: #": (\d+) tokens"#, options: .regularExpression)
        else { return nil }
        return Int(output[range].dropFirst(2).prefix { $0.isNumber })
    }

    @Test func askPrintsWhatCompletePrintsForTheJoinedPromptOfABPEModel() throws {
        let root = try TokenizerCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let model = try EvalBPECommandTests.trainBPEModel(in: root)
        // The question and the second document start a new pre-token ("\n"), so what comes
        // before them ends as in the joined text even when read by another call (`ask`,
        // `append`). Multi-byte characters fall across the 700-byte blocks.
        let parts = [
            MemoryCommandTests.text("the cat sat on the mat; 東京 naïve. ", bytes: 1500),
            "\n" + MemoryCommandTests.text("the dog ate 42 bones 🚀 ", bytes: 1499),
            "\nthe cat",
        ]
        var paths: [String] = []
        for (i, part) in parts.enumerated() {
            let url = root.appendingPathComponent("part\(i).txt")
            try Data(part.utf8).write(to: url)
            paths.append(url.path)
        }
        let joined = root.appendingPathComponent("joined.txt").path
        try Data(parts.joined().utf8).write(to: URL(fileURLWithPath: joined))
        let greedy = ["--max-tokens", "20", "--temperature", "0"]

        let complete = try CLITests.hsa(
            ["complete", "--model", model, "--prompt-file", joined, "--block", "700"] + greedy)
        #expect(complete.status == 0, "\(complete.error)")
        // After the `backend:` line, a continuation (then a line break) was printed.
        let continuation = complete.output.drop { $0 != "\n" }.dropFirst().dropLast()
        #expect(!continuation.isEmpty, "\(complete.output)")

        let memory = root.appendingPathComponent("memory").path
        let build = try CLITests.hsa(
            ["memory", "build", "--model", model, "--out", memory, "--block", "700"]
                + Array(paths[0..<2]))
        #expect(build.status == 0, "\(build.error)")
        // Counted in the model's tokens: fewer than the 3000 bytes (+ BOS).
        let tokens = Self.memoryTokens(build.output) ?? 0
        #expect(tokens > 1 && tokens < 3001, "\(build.output)")

        let ask = try CLITests.hsa(["ask", "--memory", memory, "--prompt-file", paths[2]] + greedy)
        #expect(ask.status == 0, "\(ask.error)")
        #expect(ask.output == complete.output)

        let appended = root.appendingPathComponent("appended").path
        let first = try CLITests.hsa(
            ["memory", "build", "--model", model, "--out", appended, "--block", "700", paths[0]])
        #expect(first.status == 0, "\(first.error)")
        let append = try CLITests.hsa(["memory", "append", appended, paths[1], "--block", "700"])
        #expect(append.status == 0, "\(append.error)")
        #expect(Self.memoryTokens(append.output) == tokens, "\(append.output)")
        let askAppended = try CLITests.hsa(
            ["ask", "--memory", appended, "--prompt-file", paths[2]] + greedy)
        #expect(askAppended.output == complete.output)
    }
}
