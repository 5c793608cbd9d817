import Foundation
import HSA
import HSATestSupport
import Testing

/// The non-finite guard: a step with a NaN loss or gradient norm never reaches the weights,
/// `stop` ends the run with the last checkpoint intact, `skip` drops the step and counts it,
/// and no checkpoint is ever written with non-finite weights.
///
/// The fault: one value of the final norm's gain set to NaN makes every logit, and so the
/// loss and the gradients, NaN from the next step on.
@Suite struct NonFiniteGuardTests {
    static func trainer(
        in directory: TemporaryDirectory, configure: (inout TrainingOptions) -> Void
    ) -> Trainer {
        var options = TrainingOptions()
        options.steps = 6
        options.batchSize = 2
        options.sequenceLength = 16
        options.warmupSteps = 1
        options.evalEvery = 0
        options.checkpointEvery = 1
        options.keepCheckpoints = 1
        configure(&options)
        let batches = randomBatches(count: 3, batchSize: 2, sequenceLength: 16, seed: 11)
        return Trainer(
            model: LanguageModel(config: .tiny, seed: 3), options: options,
            source: CyclingBatches(batches), validation: [], runDirectory: directory.url,
            tokenizer: nil)
    }

    /// Sets the final norm's first gain to `value`; returns the value it replaces.
    @discardableResult
    static func poison(_ model: LanguageModel, with value: Float = .nan) -> Float {
        let offset = model.layout.offsets["norm.weight"] ?? 0
        let old = model.parameters.storage.data[offset]
        model.parameters.storage.data[offset] = value
        return old
    }

    /// Parameters as bit patterns, so that a NaN compares equal to itself.
    static func bits(_ model: LanguageModel) -> [UInt32] {
        model.parameters.storage.toArray().map(\.bitPattern)
    }

    @Test func stopThrowsBeforeTheUpdateAndKeepsTheLastCheckpoint() throws {
        let directory = try TemporaryDirectory("nonfinite-stop")
        defer { directory.remove() }
        let trainer = Self.trainer(in: directory) { _ in }
        var poisoned: [UInt32] = []
        let error = #expect(throws: NonFiniteError.self) {
            try trainer.run { event in
                // After step 3's checkpoint is written and pruning has run.
                guard case .checkpoint(3, _) = event else { return }
                Self.poison(trainer.model)
                poisoned = Self.bits(trainer.model)
            }
        }
        guard case .step(let step, let loss, _, let skips, let checkpoint) = error else {
            Issue.record("expected NonFiniteError.step, got \(String(describing: error))")
            return
        }
        #expect(step == 4)
        #expect(loss.isNaN)
        #expect(skips == 0)
        #expect(checkpoint == "step-00000003")
        #expect("\(error!)".contains("step 4") && "\(error!)".contains("intact"))
        // The weights are those before step 4, bit for bit, and the optimizer did not move.
        #expect(Self.bits(trainer.model) == poisoned)
        #expect(trainer.step == 3)
        #expect(trainer.optimizer.step == 3)
        // keep_checkpoints 1: the newest finite checkpoint is still there and loads finite.
        let checkpoints = TrainingCheckpoint.list(runDirectory: directory.url)
        #expect(checkpoints.map(\.lastPathComponent) == ["step-00000003"])
        let loaded = try LanguageModel.load(from: checkpoints[0])
        #expect(loaded.parameters.storage.toArray().allSatisfy { $0.isFinite })
    }

    @Test func skipDropsTheStepCountsItAndContinues() throws {
        let directory = try TemporaryDirectory("nonfinite-skip")
        defer { directory.remove() }
        let trainer = Self.trainer(in: directory) { $0.onNonFinite = .skip }
        var reports: [StepReport] = []
        var original: Float = 0
        var beforeSkip: [UInt32] = []
        try trainer.run { event in
            switch event {
            case .checkpoint(2, _):
                original = Self.poison(trainer.model)
                beforeSkip = Self.bits(trainer.model)
            case .step(let report):
                reports.append(report)
                guard report.step == 3 else { return }
                // Skipped: nothing moved. Healed before step 3's checkpoint, which would
                // refuse the NaN.
                #expect(Self.bits(trainer.model) == beforeSkip)
                Self.poison(trainer.model, with: original)
            default: break
            }
        }
        #expect(reports.map(\.skipped) == [false, false, true, false, false, false])
        #expect(reports.map(\.skippedSteps) == [0, 0, 1, 1, 1, 1])
        #expect(reports[2].line.contains(" skipped skipped_steps=1"))
        #expect(reports[5].loss.isFinite)
        #expect(trainer.step == 6)
        // Five updates were applied; the checkpoint records the skip for a resume.
        #expect(trainer.optimizer.step == 5)
        let last = try #require(TrainingCheckpoint.list(runDirectory: directory.url).last)
        #expect(try TrainingCheckpoint.state(at: last).skippedSteps == 1)
    }

    @Test func tooManyConsecutiveSkipsStop() throws {
        let directory = try TemporaryDirectory("nonfinite-skip-limit")
        defer { directory.remove() }
        let trainer = Self.trainer(in: directory) {
            $0.onNonFinite = .skip
            $0.maxSkippedSteps = 2
            $0.checkpointEvery = 0
        }
        var skipped: [Int] = []
        let error = #expect(throws: NonFiniteError.self) {
            try trainer.run { event in
                guard case .step(let report) = event else { return }
                if report.skipped { skipped.append(report.step) }
                if report.step == 1 { Self.poison(trainer.model) }
            }
        }
        #expect(skipped == [2, 3])
        guard case .step(4, _, _, 3, .none) = error else {
            Issue.record(
                "expected a stop at step 4 after 3 skips, got \(String(describing: error))")
            return
        }
        #expect("\(error!)".contains("no checkpoint written yet"))
        #expect(trainer.skippedSteps == 2)
    }

    @Test func aCheckpointOfNonFiniteWeightsIsRefused() throws {
        let directory = try TemporaryDirectory("nonfinite-checkpoint")
        defer { directory.remove() }
        let trainer = Self.trainer(in: directory) { $0.steps = 2 }
        try trainer.run { _ in }
        Self.poison(trainer.model, with: .infinity)
        #expect(
            throws: NonFiniteError.checkpoint(step: 2, store: "parameter", tensor: "norm.weight")
        ) {
            _ = try trainer.saveCheckpoint()
        }
        // The earlier checkpoint is kept and nothing half-written is left behind.
        let names = try FileManager.default.contentsOfDirectory(
            atPath: directory.url.appendingPathComponent("checkpoints").path)
        #expect(names == ["step-00000002"])
    }

    /// Options and trainer states written before the guard existed still load, with the
    /// defaults: stop, 10 consecutive skips, unknown data, no skipped steps.
    @Test func filesWithoutTheNewFieldsDecode() throws {
        let old = """
            {"batch_size": 4, "checkpoint_every": 100, "eval_batches": 4, "eval_every": 50,
             "grad_accum": 1, "grad_clip": 1, "keep_checkpoints": 2, "lr": 0.001,
             "min_lr": 0.0001, "seed": 1234, "seq_len": 256, "steps": 200,
             "warmup_steps": 20, "weight_decay": 0.1}
            """
        let options = try JSONDecoder().decode(TrainingOptions.self, from: Data(old.utf8))
        #expect(options == TrainingOptions())
        #expect(options.onNonFinite == nil && options.maxSkippedSteps == nil)
        let state = """
            {"step": 3, "data_state": "", "tokens_seen": 96, "options": \(old)}
            """
        let decoded = try JSONDecoder().decode(TrainerState.self, from: Data(state.utf8))
        #expect(decoded.skippedSteps == nil)
        #expect(decoded.options == options)
    }
}
