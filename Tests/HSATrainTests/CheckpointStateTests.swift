import Foundation
import HSA
import HSATestSupport
import Testing

/// What a resume reads from `checkpoints/` and `log.jsonl` and how it treats damage: only
/// `step-<digits>` directories are checkpoints, a bad `trainer_state.json` is one error naming
/// the file, dead writers' temporary directories go, and the log is cut back to the checkpoint.
@Suite struct CheckpointStateTests {
    /// A trainer of the tiny model on fixed batches that checkpoints every step.
    static func trainer(in directory: TemporaryDirectory, steps: Int = 3) -> Trainer {
        var options = TrainingOptions()
        options.steps = steps
        options.batchSize = 2
        options.sequenceLength = 16
        options.warmupSteps = 1
        options.evalEvery = 0
        options.checkpointEvery = 1
        options.keepCheckpoints = 5
        let batches = randomBatches(count: 3, batchSize: 2, sequenceLength: 16, seed: 11)
        return Trainer(
            model: LanguageModel(config: .tiny, seed: 3), options: options,
            source: CyclingBatches(batches), validation: [], runDirectory: directory.url,
            tokenizer: nil)
    }

    @Test(arguments: [
        "step-00000002", "step-7", "step-123456789012",
    ])
    func checkpointNamesAreStepAndDigits(name: String) {
        #expect(TrainingCheckpoint.isCheckpointName(name))
    }

    @Test(arguments: [
        "step-backup", "step-", "step-12a", "step-１２", ".step-00000002.tmp-12", "steps-1",
        "step-00000002.old",
    ])
    func otherNamesAreNotCheckpoints(name: String) {
        #expect(!TrainingCheckpoint.isCheckpointName(name))
    }

    @Test func aBackupDirectoryIsNotTheNewestCheckpoint() throws {
        let directory = try TemporaryDirectory("checkpoint-names")
        defer { directory.remove() }
        try Self.trainer(in: directory, steps: 2).run { _ in }
        let checkpoints = directory.file("checkpoints")
        try FileManager.default.createDirectory(
            at: checkpoints.appendingPathComponent("step-backup"), withIntermediateDirectories: true
        )
        let resumed = Self.trainer(in: directory)
        #expect(try resumed.resumeFromLatestCheckpoint() == 2)
    }

    /// A dead process's (and this PID's own, a restarted container) temporary directories are
    /// removed on resume; a live process's stays: it may be saving right now.
    @Test func deadWritersTemporariesAreRemovedOnResume() throws {
        let directory = try TemporaryDirectory("checkpoint-temporaries")
        defer { directory.remove() }
        try Self.trainer(in: directory, steps: 1).run { _ in }
        let own = ProcessInfo.processInfo.processIdentifier
        // PID 1 is always alive; 2^22 + 1 is above Linux's largest PID, so never alive.
        let names = [
            ".step-00000005.tmp-\((1 << 22) + 1)", ".step-00000006.tmp-\(own)",
            ".step-00000007.tmp-1",
        ]
        for name in names {
            try FileManager.default.createDirectory(
                at: directory.file("checkpoints/\(name)"), withIntermediateDirectories: true)
        }
        #expect(try Self.trainer(in: directory).resumeFromLatestCheckpoint() == 1)
        let left = try FileManager.default.contentsOfDirectory(
            atPath: directory.file("checkpoints").path
        ).sorted()
        #expect(left == [".step-00000007.tmp-1", "step-00000001"])
    }

    /// (JSON key, bad value, text the error must contain)
    @Test(arguments: [
        ("step", -1, "step must be in 0..., got -1"),
        ("tokens_seen", -5, "tokens_seen must be in 0..., got -5"),
        ("skipped_steps", 9, "skipped_steps must be in 0...2 (the step), got 9"),
    ])
    func aBadTrainerStateIsRefusedNamingTheFile(key: String, value: Int, message: String) throws {
        let directory = try TemporaryDirectory("trainer-state")
        defer { directory.remove() }
        try Self.trainer(in: directory, steps: 2).run { _ in }
        let file = directory.file("checkpoints/step-00000002/trainer_state.json")
        var object = try #require(
            JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        object[key] = value
        try JSONSerialization.data(withJSONObject: object).write(to: file)
        do {
            try Self.trainer(in: directory).resumeFromLatestCheckpoint()
            Issue.record("\(key) = \(value) was accepted")
        } catch {
            #expect("\(error)".hasPrefix(file.path + ": "), "\(error)")
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test func aDataCursorOutsideTheDataNamesTheStateFile() throws {
        let data = try ResumeTests.makeData()
        let root = data.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run")
        try ResumeTests.trainer(data: data, run: run).run(stopAfter: 3) { _ in }
        let file = run.appendingPathComponent("checkpoints/step-00000003/trainer_state.json")
        var object = try #require(
            JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        let cursor = #"{"seed":1234,"epoch":0,"cursor":99999999}"#
        object["data_state"] = Data(cursor.utf8).base64EncodedString()
        try JSONSerialization.data(withJSONObject: object).write(to: file)
        #expect {
            try ResumeTests.trainer(data: data, run: run).resumeFromLatestCheckpoint()
        } throws: { error in
            "\(error)".hasPrefix(file.path) && "\(error)".contains("cursor 99999999")
        }
    }

    /// On resume the log keeps the entries up to the checkpoint's step, so the steps trained
    /// again are not logged twice, and a last line cut short by a crash is dropped with a
    /// warning instead of gluing the next entry onto it.
    @Test func resumeCutsTheLogBackToTheCheckpoint() throws {
        let directory = try TemporaryDirectory("log-truncation")
        defer { directory.remove() }
        let log = directory.file("log.jsonl")
        let first = Self.trainer(in: directory, steps: 3)
        let recorder = try TrainingRecorder(runDirectory: directory.url, resumedStep: nil)
        try first.run(onEvent: recorder.record)
        // Steps 4 and 5 logged, then a crash mid-line and before their checkpoints.
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        handle.write(Data(#"{"event":"step","step":4}"#.utf8))
        handle.write(Data("\n".utf8))
        handle.write(Data(#"{"event":"step","step":5}"#.utf8))
        handle.write(Data("\n".utf8))
        handle.write(Data(#"{"event":"step","st"#.utf8))
        try handle.close()
        // Checkpoint 3 is the newest on disk.
        let resumed = Self.trainer(in: directory, steps: 5)
        let step = try #require(try resumed.resumeFromLatestCheckpoint())
        #expect(step == 3)
        let again = try TrainingRecorder(runDirectory: directory.url, resumedStep: step)
        #expect(again.warning?.contains("dropped 1 damaged line") == true)
        try resumed.run(onEvent: again.record)
        let rows = try JSONLines.read(log)
        let steps = rows.filter { $0["event"] as? String == "step" }.compactMap {
            ($0["step"] as? NSNumber)?.intValue
        }
        #expect(steps == [1, 2, 3, 4, 5])
        // A second resume of the now clean log warns about nothing.
        #expect(try TrainingRecorder(runDirectory: directory.url, resumedStep: 5).warning == nil)
    }
}
