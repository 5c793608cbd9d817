import Foundation
import Testing

/// `hsa data synth` and `hsa data tasks --tokenizer`: shards in a BPE tokenizer's tokens that
/// carry its tokenizer.json, which `hsa data mix` checks.
@Suite struct DataTokenizerCommandTests {
    @Test func synthAndTasksWriteTheTokenizersShardsAndMixChecksIt() throws {
        let root = try TokenizerCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: root) }
        let (texts, _, tokenizer, trained) = try TokenizerCommandTests.trainTokenizer(
            in: root, repeats: 60)
        #expect(trained.status == 0, "\(trained.error)")
        let trainedFile = try Data(contentsOf: URL(fileURLWithPath: tokenizer + "/tokenizer.json"))
        func write(_ arguments: [String], into name: String) throws -> URL {
            let out = root.appendingPathComponent(name)
            let run = try CLITests.hsa(
                ["data"] + arguments + [
                    "--lengths", "512", "--out", out.path, "--data", root.path,
                    "--tokenizer", tokenizer,
                ])
            #expect(run.status == 0, "\(run.error)")
            #expect(run.output.hasPrefix("wrote "), "\(run.output)")
            let saved = try Data(contentsOf: out.appendingPathComponent("tokenizer.json"))
            #expect(saved == trainedFile, "\(name): tokenizer.json is not the tokenizer given")
            return out
        }
        let tasks = try write(["tasks", "--haystack", texts.path, "--samples", "4"], into: "tasks")
        let synth = try write(
            ["synth", "--tasks", "niah_single_1", "--samples", "2"], into: "synth")
        let mixed = try CLITests.hsa([
            "data", "mix", tasks.path, synth.path, "--segment-length", "512",
            "--out", root.appendingPathComponent("mix").path,
        ])
        #expect(mixed.status == 0, "\(mixed.error)")
        // Byte-level samples (no --tokenizer) do not mix with BPE ones.
        let bytes = root.appendingPathComponent("bytes")
        let byteRun = try CLITests.hsa([
            "data", "synth", "--tasks", "niah_single_1", "--samples", "1", "--lengths", "512",
            "--out", bytes.path, "--data", root.path,
        ])
        #expect(byteRun.status == 0, "\(byteRun.error)")
        let refused = try CLITests.hsa([
            "data", "mix", tasks.path, bytes.path, "--out", root.appendingPathComponent("no").path,
        ])
        #expect(refused.exited && refused.status != 0)
        #expect(refused.error.contains("differs from"), "\(refused.error)")
        #expect(refused.error.split(separator: "\n").count == 1, "\(refused.error)")
    }
}
