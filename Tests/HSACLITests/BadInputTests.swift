import Foundation
import HSACore
import Testing

/// Bad input of every kind, tried on the built binary: each is refused before any work with
/// a first line `Error: ...` naming the input and the allowed range, and a nonzero exit,
/// never a trap or a signal (docs/RELIABILITY.md, "Validation rules and limits").
@Suite struct BadInputTests {
    struct Case: CustomStringConvertible {
        let arguments: [String]
        var environment: [String: String] = [:]
        /// Text the first line of stderr must contain.
        let message: String
        /// More text the first line must contain.
        var also: [String] = []
        var description: String { arguments.joined(separator: " ") }
    }

    /// Prepared data (train and val shards) and a model trained for one step, in `root`.
    static func fixtures(in root: URL) throws -> (data: String, model: String) {
        let (prepare, data) = try CLITests.preparedTokens(
            in: root, documents: 4, sentence: "Bad input gets one line. ", repeats: 80,
            validationFraction: "0.25")
        #expect(prepare.status == 0, "\(prepare.error)")
        let run = root.appendingPathComponent("run").path
        let train = try CLITests.hsa([
            "train", "--data", data, "--out", run, "--steps", "1", "--seq-len", "16",
            "--batch-size", "1", "--eval-every", "0",
        ])
        #expect(train.status == 0, "\(train.error)")
        return (data, run + "/checkpoints/step-00000001")
    }

    /// A copy of the prepared `data` changed by `change`, at `root/name`.
    static func copy(_ data: String, to name: String, in root: URL, _ change: (URL) throws -> Void)
        throws -> String
    {
        let target = root.appendingPathComponent(name)
        try FileManager.default.copyItem(at: URL(fileURLWithPath: data), to: target)
        try change(target)
        return target.path
    }

    @Test func everyBadInputIsOneLineAndANonzeroExit() throws {
        let root = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let (data, model) = try Self.fixtures(in: root)
        let directory = root.appendingPathComponent("text").path
        let prompt = root.appendingPathComponent("text/d0.txt").path
        let corruptValidation = try Self.copy(data, to: "corrupt-val", in: root) {
            try Data([1, 2, 3]).write(to: $0.appendingPathComponent("val-00000.bin"))
        }
        let unlistedShard = try Self.copy(data, to: "unlisted", in: root) {
            try FileManager.default.copyItem(
                at: $0.appendingPathComponent("train-00000.bin"),
                to: $0.appendingPathComponent("train-00007.bin"))
        }
        let train = ["train", "--data", data, "--out", root.appendingPathComponent("r").path]
        let busy = root.appendingPathComponent("busy")
        try FileManager.default.createDirectory(at: busy, withIntermediateDirectories: true)
        let busyLock = try DirectoryLock(directory: busy)
        defer { busyLock.release() }
        let cases = [
            // Config sizes (item 1): no overflow trap, no allocation abort, no 30 s inspect.
            Case(
                arguments: ["inspect", "--chunk-size", "4611686018427387904"],
                message: "config field 'chunk_size': must be in 1...16777216"),
            Case(
                arguments: ["inspect", "--d-model", "1000000000"],
                message: "config field 'd_model': must be in 1...65536"),
            Case(
                arguments: ["inspect", "--n-lower-layers", "100000000"],
                message: "config field 'n_lower_layers': must be in 0...1024"),
            Case(
                arguments: ["inspect", "--d-model", "65536", "--d-ff", "262144"],
                message: "parameters, more than the limit of 17179869184"),
            Case(
                arguments: ["inspect", "--config", directory],
                message: "\(directory): cannot read (Is a directory)"),
            // Sampling and prompts (item 5).
            Case(
                arguments: ["generate", "--model", model, "--prompt", "a", "--top-k", "1000000"],
                message: "--top-k 1000000: must be in 0...259"),
            Case(
                arguments: ["complete", "--model", model, "--prompt-file", directory],
                message: "--prompt-file \(directory): is a directory"),
            Case(
                arguments: ["generate", "--model", model, "--prompt-file", directory],
                message: "--prompt-file \(directory): is a directory"),
            Case(
                arguments: [
                    "generate", "--model", model, "--prompt", "a", "--prompt-file", prompt,
                ],
                message: "give one of --prompt and --prompt-file"),
            // Thread count (item 6).
            Case(
                arguments: ["doctor"], environment: ["HSA_NUM_THREADS": "0"],
                message: "HSA_NUM_THREADS='0': must be an integer in 1..."),
            Case(
                arguments: ["doctor"], environment: ["HSA_NUM_THREADS": "abc"],
                message: "HSA_NUM_THREADS='abc': must be an integer in 1..."),
            Case(
                arguments: ["doctor"], environment: ["HSA_NUM_THREADS": "100000"],
                message: "HSA_NUM_THREADS='100000': must be an integer in 1..."),
            // Training options and paths (item 9).
            Case(arguments: train + ["--lr", "nan"], message: "--lr nan: must be in (0, 10]"),
            Case(arguments: train + ["--lr", "-5"], message: "write --lr=-5"),
            Case(arguments: train + ["--lr=-5"], message: "--lr -5.0: must be in (0, 10]"),
            Case(
                arguments: train + ["--report-every", "0"],
                message: "--report-every 0: must be at least 1"),
            Case(
                arguments: ["train", "--data", data, "--out", "/dev/null"],
                message: "--out /dev/null: is not a directory"),
            // Every command writing a folder names a file given as --out.
            Case(
                arguments: ["eval", "--model", model, "--out", "/dev/null"],
                message: "--out /dev/null: is not a directory"),
            Case(
                arguments: ["bpb", "--model", model, prompt, "--out", "/dev/null"],
                message: "--out /dev/null: is not a directory"),
            Case(
                arguments: ["compare", directory, "--out", "/dev/null"],
                message: "--out /dev/null: is not a directory"),
            Case(
                arguments: ["data", "mix", data, "--out", "/dev/null"],
                message: "--out /dev/null: is not a directory"),
            Case(
                arguments: ["data", "tasks", "--haystack", directory, "--out", "/dev/null"],
                message: "--out /dev/null: is not a directory"),
            Case(
                arguments: ["data", "synth", "--out", "/dev/null"],
                message: "--out /dev/null: is not a directory"),
            Case(
                arguments: ["export", "--model", model, "--out", "/dev/null"],
                message: "--out /dev/null: is not a directory"),
            // An output directory another process writes into (a lock held by this test).
            Case(
                arguments: ["train", "--data", data, "--out", busy.path],
                message: "process \(getpid()) is writing into this directory"),
            Case(
                arguments: [
                    "eval", "--model", model, "--suite", "unseen", "--lengths", "1K",
                    "--samples", "1", "--out", busy.path,
                ],
                message: "process \(getpid()) is writing into this directory"),
            // Data checked against its manifest and the validation split (items 3 and 4).
            Case(
                arguments: ["train", "--data", corruptValidation, "--out", root.path + "/r2"],
                message: "corrupt-val/val-00000.bin"),
            Case(
                arguments: ["train", "--data", unlistedShard, "--out", root.path + "/r3"],
                message: "unlisted/train-00007.bin: shard is not listed in manifest.json"),
        ]
        for bad in cases {
            let result = try CLITests.hsa(bad.arguments, environment: bad.environment)
            let first = result.error.split(separator: "\n").first.map(String.init) ?? ""
            #expect(result.exited && result.status != 0, "\(bad): status \(result.status)")
            #expect(first.hasPrefix("Error: "), "\(bad): \(result.error)")
            #expect(first.contains(bad.message), "\(bad): \(result.error)")
        }
    }

    /// No validation shards at all is fine: validation is off, with one warning line.
    @Test func noValidationSplitIsOneWarning() throws {
        let root = try CLITests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let (data, _) = try Self.fixtures(in: root)
        let trainOnly = try Self.copy(data, to: "train-only", in: root) { copy in
            try FileManager.default.removeItem(at: copy.appendingPathComponent("val-00000.bin"))
            let url = copy.appendingPathComponent("manifest.json")
            var manifest = try #require(
                JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            let shards = try #require(manifest["shards"] as? [[String: Any]])
            manifest["shards"] = shards.filter { $0["split"] as? String != "val" }
            manifest["validation_tokens"] = 0
            try JSONSerialization.data(withJSONObject: manifest).write(to: url)
        }
        let run = root.appendingPathComponent("run-no-val")
        let result = try CLITests.hsa([
            "train", "--data", trainOnly, "--out", run.path, "--steps", "2", "--seq-len", "16",
            "--batch-size", "1", "--eval-every", "1",
        ])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.contains("has no validation shards; validation is off"))
        let log = try String(contentsOf: run.appendingPathComponent("log.jsonl"), encoding: .utf8)
        #expect(!log.contains("val_loss"))
    }
}
