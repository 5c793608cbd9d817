import Foundation
import Testing

/// The bad-input corpus through the built binary: a sample of each input kind the in-process
/// corpus generates (config files, token shards, task lines) plus the eval output and prompt
/// limits, each refused with exit status 1 (64 for a usage error), never a signal, and a first
/// line `Error: ...` naming the input (docs/RELIABILITY.md, "The bad-input corpus").
@Suite struct BadInputCorpusTests {
    @Test func badFilesAndStreamsExitNonzeroWithoutASignal() throws {
        let root = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let (data, model) = try BadInputTests.fixtures(in: root)
        func file(_ name: String, _ text: String) throws -> String {
            let url = root.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            return url.path
        }
        let line = #""input": "Q?", "outputs": ["42"]"#
        let taskLines = [
            ("", "holds no sample"), ("\n \n\t\n", "holds no sample"),
            (#"{\#(line), "length": 9, "tokens_to_generate": 65537}"#, "'tokens_to_generate'"),
            (#"{\#(line), "length": 0}"#, "field 'length': 0 must be in 1...1073741824"),
            (#"{\#(line), "length": 4611686018427387904}"#, "field 'length'"),
            (#"{\#(line), "length": 2.5}"#, "field 'length': must be an integer"),
            (#"{"outputs": ["42"], "length": 9}"#, "missing field 'input'"),
            (#"{\#(line), "length": 9, "index": -1}"#, "field 'index'"),
            ("{\"input\": ", "not a valid JSON object"),
        ]
        let eval = ["eval", "--reference-model", "wrong", "--out", root.path + "/eval"]
        var cases: [BadInputTests.Case] = try taskLines.enumerated().map { number, bad in
            let path = try file("tasks-\(number).jsonl", bad.0)
            return .init(arguments: eval + ["--tasks-file", path], message: "\(path)")
                .expecting(bad.1)
        }
        // results.jsonl a link to a file outside --out: neither read nor appended to.
        let linked = root.appendingPathComponent("linked")
        try FileManager.default.createDirectory(at: linked, withIntermediateDirectories: true)
        let outside = try file("outside.txt", "keep\n")
        try FileManager.default.createSymbolicLink(
            atPath: linked.path + "/results.jsonl", withDestinationPath: outside)
        let tasks = try file("tasks.jsonl", #"{\#(line), "length": 9}"#)
        let linkMessage = linked.path + "/results.jsonl: is a symbolic link"
        cases += [
            .init(
                arguments: [
                    "eval", "--reference-model", "wrong", "--out", linked.path, "--tasks-file",
                    tasks,
                ], message: linkMessage),
            .init(
                arguments: ["eval", "--report-only", "--out", linked.path], message: linkMessage),
        ]
        // Config files of each generated kind: the trained model's config, changed.
        let config = try #require(
            JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: model + "/config.json")))
                as? [String: Any])
        for (name, field, value, message) in [
            ("unknown", "bogus_field", 1 as Any, "bogus_field"),
            ("type", "d_model", "32" as Any, "d_model"),
            ("range", "vocab_size", 0 as Any, "vocab_size"),
        ] {
            var changed = config
            changed[field] = value
            let text = String(
                decoding: try JSONSerialization.data(withJSONObject: changed), as: UTF8.self)
            let path = try file("config-\(name).json", text)
            cases.append(
                .init(arguments: ["inspect", "--config", path], message: path).expecting(message))
        }
        let cut = try file("config-cut.json", #"{"d_model": 3"#)
        cases.append(
            .init(arguments: ["inspect", "--config", cut], message: cut).expecting("not valid JSON")
        )
        // Token shards: a changed magic and a changed token count.
        for (name, offset) in [("magic", 0), ("count", 24)] {
            let copy = try BadInputTests.copy(data, to: "shard-\(name)", in: root) {
                let url = $0.appendingPathComponent("train-00000.bin")
                var bytes = try [UInt8](Data(contentsOf: url))
                bytes[offset] ^= 0x5A
                try Data(bytes).write(to: url)
            }
            cases.append(
                .init(
                    arguments: ["train", "--data", copy, "--out", root.path + "/t-\(name)"],
                    message: "shard-\(name)/train-00000.bin"))
        }
        // Prompts longer than --max-prompt-tokens, from stdin and from a file.
        let prompt = try file("prompt.txt", String(repeating: "x", count: 100))
        cases += [
            .init(
                arguments: [
                    "complete", "--model", model, "--prompt-file", "-", "--max-prompt-tokens", "10",
                ], message: "--max-prompt-tokens 10: the prompt (stdin) is longer than 10"),
            .init(
                arguments: [
                    "complete", "--model", model, "--prompt-file", prompt, "--max-prompt-tokens",
                    "50",
                ], message: "--max-prompt-tokens 50: the prompt (\(prompt)) is longer than 50"),
            .init(
                arguments: [
                    "complete", "--model", model, "--prompt-file", prompt, "--max-prompt-tokens",
                    "1",
                ], message: "--max-prompt-tokens 1: must be at least 2"),
        ]
        for bad in cases {
            let result = try CLITests.hsa(
                bad.arguments, input: String(repeating: "y", count: 100))
            let first = result.error.split(separator: "\n").first.map(String.init) ?? ""
            let usage = bad.message.hasPrefix("--max-prompt-tokens 1:")
            #expect(result.exited && result.status == (usage ? 64 : 1), "\(bad): \(result.status)")
            #expect(first.hasPrefix("Error: "), "\(bad): \(result.error)")
            #expect(first.contains(bad.message), "\(bad): \(result.error)")
            for extra in bad.also { #expect(first.contains(extra), "\(bad): \(result.error)") }
        }
        #expect(try String(contentsOfFile: outside, encoding: .utf8) == "keep\n")
        #expect(cases.count == Self.caseCount)
    }

    /// Binary cases (docs/RELIABILITY.md counts them).
    static let caseCount = 20
}

extension BadInputTests.Case {
    /// This case, whose first line must also contain `text`.
    func expecting(_ text: String) -> Self {
        var copy = self
        copy.also.append(text)
        return copy
    }
}
