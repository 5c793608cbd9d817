import Foundation
import Testing

/// `hsa memory build|append` and `hsa ask` on the built binary: a question asked of a memory
/// prints what `hsa complete` prints for the documents and the question joined, and a damaged
/// memory or another model is refused with one line.
@Suite struct MemoryCommandTests {
    /// Text of exactly `count` bytes.
    static func text(_ seed: String, bytes count: Int) -> String {
        String(String(repeating: seed, count: count / seed.utf8.count + 1).utf8.prefix(count))
            ?? ""
    }

    /// A trained tiny model, two 1500-byte documents, a question and the three joined, in
    /// `root`.
    static func fixtures(in root: URL) throws -> (
        model: String, documents: [String],
        question: String, joined: String
    ) {
        let (_, model) = try BadInputTests.fixtures(in: root)
        let parts = [
            text("The lighthouse keeper counted the ships that passed at night. ", bytes: 1500),
            text("Her brother kept the ledger of every storm since 1911. ", bytes: 1500),
            "Who kept the ledger? The",
        ]
        var paths: [String] = []
        for (i, part) in parts.enumerated() {
            let url = root.appendingPathComponent("part\(i).txt")
            try Data(part.utf8).write(to: url)
            paths.append(url.path)
        }
        let joined = root.appendingPathComponent("joined.txt")
        try Data(parts.joined().utf8).write(to: joined)
        return (model, Array(paths[0..<2]), paths[2], joined.path)
    }

    @Test func askPrintsWhatCompletePrintsForTheJoinedPrompt() throws {
        let root = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let (model, documents, question, joined) = try Self.fixtures(in: root)
        // Blocks of one document: `complete` then reads BOS + the first document, the second,
        // the question, the same blocks the memory and `ask` read, so even the logits agree.
        let greedy = ["--max-tokens", "40", "--temperature", "0"]
        let complete = try CLITests.hsa(
            ["complete", "--model", model, "--prompt-file", joined, "--block", "1500"] + greedy)
        #expect(complete.status == 0, "\(complete.error)")

        let built = root.appendingPathComponent("built").path
        let build = try CLITests.hsa(
            ["memory", "build", "--model", model, "--out", built, "--block", "1500"] + documents)
        #expect(build.status == 0, "\(build.error)")
        #expect(build.output.contains("3001 tokens (375 chunks) from 2 files"), "\(build.output)")
        let askFile = try CLITests.hsa(
            ["ask", "--memory", built, "--prompt-file", question] + greedy)
        #expect(askFile.status == 0, "\(askFile.error)")
        #expect(askFile.output == complete.output)
        let askText = try CLITests.hsa(
            ["ask", "--memory", built, "--model", model, "--prompt", "Who kept the ledger? The"]
                + greedy)
        #expect(askText.output == complete.output)

        let appended = root.appendingPathComponent("appended").path
        let first = try CLITests.hsa(
            ["memory", "build", "--model", model, "--out", appended, "--block", "1500"]
                + [documents[0]])
        #expect(first.status == 0, "\(first.error)")
        let append = try CLITests.hsa(
            ["memory", "append", appended, documents[1], "--block", "1500"])
        #expect(append.status == 0, "\(append.error)")
        #expect(append.output.contains("3001 tokens (375 chunks) from 2 files"))
        let askAppended = try CLITests.hsa(
            ["ask", "--memory", appended, "--prompt-file", question] + greedy)
        #expect(askAppended.output == complete.output)
    }

    @Test func badMemoriesAndOtherModelsAreOneLineErrors() throws {
        let root = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let (model, documents, _, _) = try Self.fixtures(in: root)
        let memory = root.appendingPathComponent("memory")
        let build = try CLITests.hsa(
            ["memory", "build", "--model", model, "--out", memory.path] + documents)
        #expect(build.status == 0, "\(build.error)")

        func expectRefusal(_ arguments: [String], naming expected: String) throws {
            let result = try CLITests.hsa(arguments)
            #expect(result.status == 1 && result.exited, "\(arguments)")
            let lines = result.error.split(separator: "\n")
            #expect(lines.count == 1, "\(result.error)")
            #expect(result.error.hasPrefix("Error: \(expected)"), "\(result.error)")
        }
        for name in ["memory.json", "keys-values.bin", "landmarks.bin", "state-1.bin"] {
            let copy = root.appendingPathComponent("damaged-\(name)")
            try FileManager.default.copyItem(at: memory, to: copy)
            let file = copy.appendingPathComponent(name)
            var bytes = try Data(contentsOf: file)
            bytes[bytes.count / 2] ^= 0x10
            try bytes.write(to: file)
            try expectRefusal(
                ["ask", "--memory", copy.path, "--prompt", "x"], naming: file.path + ": ")
        }
        // A model trained from another seed: same config, other weights.
        let otherRun = root.appendingPathComponent("other").path
        let data = root.appendingPathComponent("tokens").path
        let train = try CLITests.hsa([
            "train", "--data", data, "--out", otherRun, "--steps", "1", "--seq-len", "16",
            "--batch-size", "1", "--eval-every", "0", "--seed", "99",
        ])
        #expect(train.status == 0, "\(train.error)")
        let other = otherRun + "/checkpoints/step-00000001"
        let manifest = memory.appendingPathComponent("memory.json").path
        try expectRefusal(
            ["ask", "--memory", memory.path, "--model", other, "--prompt", "x"],
            naming: manifest + ": built with another model")
        try expectRefusal(
            ["memory", "append", memory.path, documents[0], "--model", other],
            naming: manifest + ": built with another model")
        try expectRefusal(
            ["memory", "build", "--model", model, "--out", memory.path, documents[0]],
            naming: memory.path + ": already holds a document memory")
        try expectRefusal(
            ["ask", "--memory", root.path, "--prompt", "x"],
            naming: root.path + ": not a document memory")
    }
}
