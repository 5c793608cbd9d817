import Foundation
import HSA
import HSATestSupport
import Testing

/// Task files are bounded: no empty evaluation, no unbounded generation or prompt, and
/// results.jsonl is never read or appended through a symbolic link (docs/RELIABILITY.md).
@Suite struct TaskFileLimitTests {
    /// The reason `EvalTaskFile.read` gives for a file holding `text`.
    static func readError(_ text: String) throws -> String {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let url = directory.file("tasks.jsonl")
        try Data(text.utf8).write(to: url)
        do {
            _ = try EvalTaskFile.read(url)
        } catch let error as EvalError {
            let message = error.description
            #expect(message.hasPrefix(url.path), "\(message)")
            #expect(!message.contains("\n"), "\(message)")
            return message
        }
        Issue.record("\(text.debugDescription) was accepted")
        return ""
    }

    @Test func emptyOrBlankTaskFilesAreRefused() throws {
        for text in ["", "\n", "\n  \n\t\n"] {
            #expect(try Self.readError(text).contains("holds no sample"))
        }
    }

    @Test func valuesOutOfRangeNameTheLineAndField() throws {
        let base = #""input": "Q?", "outputs": ["42"]"#
        let cases = [
            (
                #"{\#(base), "length": 300, "tokens_to_generate": 65537}"#,
                ":1: field 'tokens_to_generate': 65537 must be in 0...65536"
            ),
            (
                #"{\#(base), "length": 300, "tokens_to_generate": -1}"#,
                "field 'tokens_to_generate': -1 must be in 0...65536"
            ),
            (#"{\#(base), "length": 1099511627776}"#, "field 'length': 1099511627776 must be in"),
            (#"{\#(base), "length": 0}"#, "field 'length': 0 must be in 1...1073741824"),
            (#"{\#(base), "length": 5, "index": -3}"#, "field 'index': -3 must be in"),
            (#"{\#(base), "length": 5, "needle_positions": [-1]}"#, "field 'needle_positions'"),
            (#"{"outputs": ["42"], "length": 5}"#, "missing field 'input'"),
            (#"{\#(base), "length": "5"}"#, "field 'length': expected Int"),
            (#"{\#(base), "length": 5}"# + "\n[1]", ":2: not a JSON object"),
            ("{not json", ":1: not a valid JSON object"),
        ]
        for (line, message) in cases {
            let reason = try Self.readError(line)
            #expect(reason.contains(message), "\(line): \(reason)")
        }
    }

    @Test func generationIsCappedForLinesFromElsewhere() {
        // A line from elsewhere (no `suite`) lets answers raise the limit: never past the cap.
        let sample = EvalSample(
            index: 0, input: "Q?", outputs: [String(repeating: "a", count: 1 << 20)],
            length: 10, answerPrefix: "", task: "file", suite: "file", tokensToGenerate: 8,
            countsByteTokens: false, metric: .stringMatchAll)
        #expect(sample.generationLimit == EvalSample.maxTokensToGenerate)
    }

    @Test func resultsThroughASymbolicLinkAreRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let outside = directory.file("outside.txt")
        try Data("keep\n".utf8).write(to: outside)
        let out = directory.file("eval")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let link = out.appendingPathComponent("results.jsonl")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: outside)
        let harness = try EvalHarness(
            model: TextFunctionModel.constant(" x."), outputDirectory: out,
            generator: builtInGenerator, showProgress: false)
        let sample = try builtInGenerator.sample(
            .ruler(.niahSingle1), length: 1024, index: 0, seed: 1, depth: 50)
        #expect(throws: JSONLinesError.symbolicLink(path: link.path)) {
            try harness.run(samples: [sample])
        }
        #expect(throws: JSONLinesError.symbolicLink(path: link.path)) {
            try EvalHarness.report(outputDirectory: out)
        }
        // The writer itself refuses a link, even a dangling one, in both modes.
        try FileManager.default.removeItem(at: outside)
        for append in [true, false] {
            #expect(throws: JSONLinesError.symbolicLink(path: link.path)) {
                _ = try JSONLinesWriter(url: link, append: append)
            }
        }
        #expect(!FileManager.default.fileExists(atPath: outside.path))
    }
}
