import Foundation
import Testing

/// End-to-end runs of the built `hsa` binary on tiny inputs: exit codes, the keys of the
/// progress lines, the files a run leaves behind, and one-line errors for bad input.
@Suite(.serialized) struct CLITests {
    /// The `hsa` executable next to the test bundle (SwiftPM builds it with the tests).
    static var binary: URL {
        var directory = Bundle.main.bundleURL
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("hsa")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/hsa")
    }

    struct Result {
        let status: Int32
        /// Whether the process exited (rather than being killed by a signal or a trap).
        let exited: Bool
        let output: String
        let error: String
    }

    @discardableResult
    static func hsa(
        _ arguments: [String], input: String? = nil, environment: [String: String] = [:]
    ) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) {
                $1
            }
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        if let input {
            let pipe = Pipe()
            process.standardInput = pipe
            try process.run()
            pipe.fileHandleForWriting.write(Data(input.utf8))
            try pipe.fileHandleForWriting.close()
        } else {
            try process.run()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, exited: process.terminationReason == .exit,
            output: String(decoding: outData, as: UTF8.self),
            error: String(decoding: errData, as: UTF8.self))
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("hsa-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `documents` text files, document i the `sentence` repeated `repeats + i` times, under
    /// `root/text`, prepared into `root/tokens` with `validationFraction`. Returns the
    /// prepare run and the tokens directory.
    static func preparedTokens(
        in root: URL, documents: Int, sentence: String, repeats: Int, validationFraction: String
    ) throws -> (prepare: Result, tokens: String) {
        let text = root.appendingPathComponent("text")
        try FileManager.default.createDirectory(at: text, withIntermediateDirectories: true)
        for i in 0..<documents {
            try String(repeating: sentence, count: repeats + i).write(
                to: text.appendingPathComponent("d\(i).txt"), atomically: true, encoding: .utf8)
        }
        let tokens = root.appendingPathComponent("tokens").path
        let prepare = try hsa([
            "data", "prepare", text.path, "--out", tokens, "--validation-fraction",
            validationFraction,
        ])
        return (prepare, tokens)
    }

    @Test func prepareTrainResumeGenerateInspect() throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let (prepare, tokens) = try Self.preparedTokens(
            in: root, documents: 4, sentence: "It is a truth universally acknowledged. ",
            repeats: 60, validationFraction: "0.25")
        #expect(prepare.status == 0, "\(prepare.error)")
        #expect(prepare.output.contains("train_tokens="))

        let run = root.appendingPathComponent("run").path
        let common = [
            "train", "--data", tokens, "--out", run, "--preset", "tiny", "--steps", "4",
            "--seq-len", "32", "--batch-size", "2", "--eval-every", "2", "--report-every", "1",
            "--checkpoint-every", "2", "--max-shard-size", "50000", "--max-train-len", "16",
        ]
        let first = try Self.hsa(common + ["--stop-after", "2"])
        #expect(first.status == 0, "\(first.error)")
        for key in ["step=1/4", "loss=", "lr=", "norm=", "tok/s=", "ms=", "val_loss="] {
            #expect(first.output.contains(key), "missing \(key) in \(first.output)")
        }
        let second = try Self.hsa(common + ["--resume"])
        #expect(second.status == 0, "\(second.error)")
        #expect(second.output.contains("resumed from step 2"))
        #expect(second.output.contains("step=4/4"))
        for file in ["config.json", "training.json", "log.jsonl", "loss.svg"] {
            #expect(FileManager.default.fileExists(atPath: "\(run)/\(file)"), "\(file)")
        }
        let log = try String(contentsOfFile: "\(run)/log.jsonl", encoding: .utf8)
        #expect(
            log.split(separator: "\n").filter { $0.contains("\"step\"") && $0.contains("\"loss\"") }
                .count == 4)

        let checkpoint = "\(run)/checkpoints/step-00000004"
        let generate = try Self.hsa([
            "generate", "--model", checkpoint, "--prompt", "It is", "--max-tokens", "8",
        ])
        #expect(generate.status == 0, "\(generate.error)")
        let fromStdin = try Self.hsa(
            [
                "generate", "--model", checkpoint, "--prompt-file", "-", "--max-tokens", "4",
                "--temperature", "0.8", "--top-k", "20", "--top-p", "0.9",
            ], input: "It is")
        #expect(fromStdin.status == 0, "\(fromStdin.error)")

        let inspect = try Self.hsa(["inspect", "--model", checkpoint])
        #expect(inspect.status == 0)
        #expect(inspect.output.contains("\"d_model\" : 32"))
        // Trained on 32-token sequences: the config says so, whatever it started with.
        #expect(inspect.output.contains("\"max_train_len\" : 32"))
        #expect(inspect.output.contains("total"))
    }

    /// `--resume` refuses a changed batch size, sequence length, seed or model flag with one
    /// line naming the field, runs with --allow-changed-options (warning), and accepts a changed
    /// --steps.
    @Test func resumeRefusesAChangedRunDefinition() throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let (prepare, tokens) = try Self.preparedTokens(
            in: root, documents: 3, sentence: "A long run resumes where it stopped. ",
            repeats: 50, validationFraction: "0")
        #expect(prepare.status == 0, "\(prepare.error)")
        let common = [
            "train", "--data", tokens, "--out", root.appendingPathComponent("run").path,
            "--seq-len", "16", "--batch-size", "2", "--eval-every", "0", "--checkpoint-every",
            "1",
        ]
        let first = try Self.hsa(common + ["--steps", "2"])
        #expect(first.status == 0, "\(first.error)")
        let refused: [([String], String)] = [
            (["--batch-size", "4"], "batch_size: 2 → 4"),
            (["--seq-len", "32"], "seq_len: 16 → 32"),
            (["--seed", "7"], "seed: 1234 → 7"),
            (["--top-k", "3"], "config.top_k: "),
        ]
        for (flags, field) in refused {
            let resumed = try Self.hsa(common + ["--steps", "3", "--resume"] + flags)
            #expect(resumed.status != 0, "\(flags)")
            #expect(resumed.error.contains(field), "\(flags): \(resumed.error)")
            #expect(resumed.error.contains("--allow-changed-options"))
            #expect(resumed.error.split(separator: "\n").count == 1, "\(resumed.error)")
        }
        let allowed = try Self.hsa(
            common + ["--steps", "3", "--resume", "--seed", "7", "--allow-changed-options"])
        #expect(allowed.status == 0, "\(allowed.error)")
        #expect(allowed.error.contains("warning:") && allowed.error.contains("seed: 1234 → 7"))
        #expect(allowed.output.contains("resumed from step 2"))
        // Only what defines the run is checked: more steps (and the seed now stored) resume.
        let longer = try Self.hsa(common + ["--steps", "4", "--resume", "--seed", "7"])
        #expect(longer.status == 0, "\(longer.error)")
        #expect(longer.output.contains("resumed from step 3"))
    }

    @Test func badInputGivesOneLineErrors() throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        // Unknown preset.
        let preset = try Self.hsa(["inspect", "--preset", "huge"])
        #expect(preset.status != 0)
        #expect(preset.error.contains("unknown preset 'huge'"))
        // Invalid knob value names the field.
        let knob = try Self.hsa(["inspect", "--fusion", "max"])
        #expect(knob.status != 0)
        #expect(knob.error.contains("fusion"))
        // Config file with an unknown field.
        let config = root.appendingPathComponent("config.json")
        try Data(#"{"vocab_size": 259, "colour": 3}"#.utf8).write(to: config)
        let unknown = try Self.hsa(["inspect", "--config", config.path])
        #expect(unknown.status != 0)
        #expect(unknown.error.contains("colour"))
        // Empty input directory.
        let empty = root.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let prepare = try Self.hsa([
            "data", "prepare", empty.path, "--out", root.appendingPathComponent("t").path,
        ])
        #expect(prepare.status != 0)
        #expect(prepare.error.contains(empty.lastPathComponent))
        // A checkpoint whose weights file is truncated.
        let model = root.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        try Data(#"{"vocab_size":259}"#.utf8).write(to: root.appendingPathComponent("x"))
        let tinyConfig = try Self.hsa(["inspect", "--preset", "tiny"]).output
        let json = String(
            tinyConfig[..<(tinyConfig.range(of: "\n}")?.upperBound ?? tinyConfig.endIndex)])
        try Data(json.utf8).write(to: model.appendingPathComponent("config.json"))
        try Data([1, 2, 3]).write(to: model.appendingPathComponent("model.safetensors"))
        let truncated = try Self.hsa(["generate", "--model", model.path, "--prompt", "a"])
        #expect(truncated.status != 0)
        #expect(truncated.error.contains("model.safetensors"))
        #expect(truncated.error.split(separator: "\n").count <= 2)
        // Missing data directory.
        let missing = try Self.hsa([
            "train", "--data", root.appendingPathComponent("nope").path, "--out", root.path,
        ])
        #expect(missing.status != 0)
        #expect(missing.error.contains("nope"))
    }

    /// `export --dtype bf16` halves the weights, and the exported model still loads and runs.
    @Test func exportWritesABF16ModelThatLoads() throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../models/ruler-4k-cls-top8").standardized
        let out = root.appendingPathComponent("bf16")
        let run = try Self.hsa(["export", "--model", source.path, "--out", out.path])
        #expect(run.status == 0, "\(run.error)")
        func size(_ url: URL) throws -> Int {
            try FileManager.default.attributesOfItem(
                atPath: url.appendingPathComponent("model.safetensors").path)[.size] as? Int ?? 0
        }
        let (exported, original) = (try size(out), try size(source))
        #expect(exported * 10 < original * 6)  // half the data; the JSON header stays
        let generate = try Self.hsa([
            "generate", "--model", out.path, "--prompt", "Hello", "--max-tokens", "4",
        ])
        #expect(generate.status == 0, "\(generate.error)")
    }

    /// `data tasks` writes a trainable varied mixture; `data synth` refuses the unseen suite's
    /// evaluation-only tasks.
    @Test func dataTasksWritesShardsAndSynthRefusesUnseenTasks() throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let haystack = root.appendingPathComponent("text")
        try FileManager.default.createDirectory(at: haystack, withIntermediateDirectories: true)
        try String(repeating: "A quiet sentence about nothing much. ", count: 400)
            .write(to: haystack.appendingPathComponent("a.txt"), atomically: true, encoding: .utf8)
        let out = root.appendingPathComponent("tasks")
        let run = try Self.hsa([
            "data", "tasks", "--haystack", haystack.path, "--samples", "16", "--lengths", "1K",
            "--out", out.path, "--data", root.path,
        ])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("wrote 16 samples, 16384 tokens"))
        let manifest = try String(
            contentsOf: out.appendingPathComponent("manifest.json"), encoding: .utf8)
        #expect(manifest.contains("16384"))
        let refused = try Self.hsa([
            "data", "synth", "--tasks", "passkey", "--out", root.appendingPathComponent("s").path,
        ])
        #expect(refused.status != 0)
        #expect(refused.error.contains("passkey"))
    }

    /// `eval --space training` draws the needles `hsa data synth` trains on, disjoint from the
    /// default evaluation needles; anything else is a one-line error.
    @Test func evalSpaceSwitchesTheNeedleHalf() throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        func answers(_ space: String) throws -> String {
            let file = root.appendingPathComponent("\(space).jsonl")
            let run = try Self.hsa([
                "eval", "--suite", "ruler", "--tasks", "niah_multikey_1", "--lengths", "1K",
                "--samples", "3", "--space", space, "--data", root.path, "--write-tasks",
                file.path,
            ])
            #expect(run.status == 0, "\(run.error)")
            let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 3)
            return lines.map { $0.components(separatedBy: "\"outputs\"").last ?? "" }
                .joined(separator: "|")
        }
        #expect(try answers("training") != answers("evaluation"))
        let bad = try Self.hsa(["eval", "--space", "test", "--write-tasks", "x.jsonl"])
        #expect(bad.status != 0)
        #expect(bad.error.contains("--space"))
    }

    /// Two evaluations side by side: one row per run, the plot next to the tables.
    @Test func compareTabulatesEvaluations() throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        for (model, name) in [("needle-search", "cheat"), ("wrong", "wrong")] {
            let eval = try Self.hsa([
                "eval", "--reference-model", model, "--tasks", "niah_single_1", "--lengths", "1K",
                "--samples", "2", "--data", root.path, "--out",
                root.appendingPathComponent(name).path,
            ])
            #expect(eval.status == 0, "\(eval.error)")
            // Not a terminal: progress comes as plain lines, the first and the last sample.
            #expect(eval.output.contains("eval 1/2 (50%) ETA"), "\(eval.output)")
            #expect(eval.output.contains("eval 2/2 (100%) in"), "\(eval.output)")
        }
        let out = root.appendingPathComponent("compare")
        let compare = try Self.hsa([
            "compare", root.appendingPathComponent("cheat").path,
            root.appendingPathComponent("wrong").path, "--names", "search,wrong", "--out", out.path,
        ])
        #expect(compare.status == 0, "\(compare.error)")
        let table = try String(
            contentsOf: out.appendingPathComponent("comparison.md"), encoding: .utf8)
        #expect(table.contains("| search | 100.0 |"))
        #expect(table.contains("| wrong | 0.0 |"))
        #expect(
            FileManager.default.fileExists(
                atPath: out.appendingPathComponent("comparison_accuracy_vs_length.svg").path))
        let missing = try Self.hsa(["compare", root.path])
        #expect(missing.status != 0)
        #expect(missing.error.contains("summary.json"))
    }

    /// A RULER file exactly as NVIDIA's generator writes it (Tests/Fixtures/ruler-nvidia) runs
    /// end to end: the prompt is BOS + `input` (no second answer prefix) and the cheating
    /// needle-search model finds every needle.
    @Test func evalRunsNvidiaRulerTaskFiles() throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/ruler-nvidia")
        for task in ["niah_single_1", "niah_multikey_2", "niah_multikey_3"] {
            let file = fixtures.appendingPathComponent("\(task)/validation.jsonl")
            let out = root.appendingPathComponent(task)
            let eval = try Self.hsa([
                "eval", "--reference-model", "needle-search", "--tasks-file", file.path,
                "--data", root.path, "--out", out.path,
            ])
            #expect(eval.status == 0, "\(eval.error)")
            let summary = try JSONSerialization.jsonObject(
                with: Data(contentsOf: out.appendingPathComponent("summary.json")))
            #expect((summary as? [String: Any])?["overall"] as? Double == 1, "\(task)")
            let inputs = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
            let results = try String(
                contentsOf: out.appendingPathComponent("results.jsonl"), encoding: .utf8
            ).split(separator: "\n")
            #expect(results.count == inputs.count && !inputs.isEmpty)
            for (line, result) in zip(inputs, results) {
                let input = try JSONSerialization.jsonObject(with: Data(line.utf8))
                let recorded = try JSONSerialization.jsonObject(with: Data(result.utf8))
                let text = try #require((input as? [String: Any])?["input"] as? String)
                let tokens = (recorded as? [String: Any])?["prompt_tokens"] as? Int
                #expect(tokens == 1 + text.utf8.count, "\(task)")
            }
        }
    }

    /// YaRN is an evaluation option (any backend) with a factor above 1 and a positive
    /// original length.
    @Test func yarnOptionsAreChecked() throws {
        let small = try Self.hsa(["eval", "--yarn-factor", "0.5", "--write-tasks", "x.jsonl"])
        #expect(small.status != 0)
        #expect(small.error.contains("--yarn-factor"))
        let original = try Self.hsa([
            "eval", "--yarn-factor", "4", "--yarn-original-length", "0", "--write-tasks",
            "x.jsonl",
        ])
        #expect(original.status != 0)
        #expect(original.error.contains("--yarn-original-length"))
    }

    @Test func helpListsTheCommands() throws {
        let help = try Self.hsa(["--help"])
        for command in ["train", "generate", "memory", "ask", "inspect", "data", "bench", "doctor"]
        {
            #expect(help.output.contains(command), "\(command)")
        }
    }
}
