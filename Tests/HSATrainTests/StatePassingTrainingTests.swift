import Foundation
import HSA
import HSATestSupport
import Testing

/// `TrainingOptions.statePassing`: each micro-batch row reads the next segment of its lane
/// (`TokenLaneLoader`) and continues from the Mamba2 states the trainer carried from the
/// previous step; checkpoints hold those states, so a resumed run is the uninterrupted one.
@Suite struct StatePassingTrainingTests {
    static let config = ModelConfig.tinyMamba2()

    static func options(statePassing: Bool = true) -> TrainingOptions {
        var options = TrainingOptions()
        options.steps = 6
        options.batchSize = 2
        options.sequenceLength = 16
        options.gradientAccumulation = 2
        options.warmupSteps = 2
        options.evalEvery = 0
        options.checkpointEvery = 3
        options.statePassing = statePassing ? true : nil
        return options
    }

    /// A trainer of `config` on the lanes of `data` (the ordinary shuffled windows without
    /// state passing).
    static func trainer(
        data: URL, run: URL, options: TrainingOptions = options(), config: ModelConfig = config,
        reducer: (any GradientReducer)? = nil
    ) throws -> Trainer {
        let source: any BatchSource =
            options.statePassing == true
            ? try TokenLaneLoader(
                directory: data, split: .train, batchSize: options.batchSize,
                sequenceLength: options.sequenceLength,
                laneGroups: options.gradientAccumulation)
            : try TokenDataLoader(
                directory: data, split: .train, batchSize: options.batchSize,
                sequenceLength: options.sequenceLength, seed: options.seed)
        return Trainer(
            model: LanguageModel(config: config, seed: options.seed), options: options,
            source: source, validation: [], runDirectory: run, tokenizer: nil, reducer: reducer)
    }

    static func losses(_ trainer: Trainer, stopAfter: Int? = nil) throws -> [Double] {
        var losses: [Double] = []
        try trainer.run(stopAfter: stopAfter) {
            if case .step(let r) = $0 { losses.append(r.loss) }
        }
        return losses
    }

    @Test func resumedRunEqualsUninterruptedRun() throws {
        let data = try ResumeTests.makeData()
        let root = data.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: root) }
        let straight = try Self.trainer(data: data, run: root.appendingPathComponent("straight"))
        let straightLosses = try Self.losses(straight)

        let run = root.appendingPathComponent("interrupted")
        var resumedLosses = try Self.losses(Self.trainer(data: data, run: run), stopAfter: 3)
        let checkpoint = try #require(TrainingCheckpoint.list(runDirectory: run).last)
        // The carried states are in the checkpoint, and not the zeros of a fresh start.
        let carried = try SafetensorsFile(
            url: checkpoint.appendingPathComponent("carried_states.safetensors"))
        #expect(carried.names.count == 2 * 2 * 2)  // micro-batches × layers × (conv, ssd)
        #expect(try carried.floats("micro.1.layer.1.ssd").contains { $0 != 0 })
        let second = try Self.trainer(data: data, run: run)
        #expect(try second.resumeFromLatestCheckpoint() == 3)
        resumedLosses += try Self.losses(second)

        #expect(straightLosses.count == 6)
        #expect(resumedLosses == straightLosses)
        #expect(
            second.model.parameters.storage.toArray() == straight.model.parameters.storage.toArray()
        )
        #expect(second.optimizer.v.storage.toArray() == straight.optimizer.v.storage.toArray())
    }

    /// Two consecutive segments of the same two streams; the second continues the first
    /// unless `wrapped` (its lanes started again).
    static func twoSegments(wrapped: Bool) -> CyclingBatches {
        let batches = randomBatches(count: 1, batchSize: 2, sequenceLength: 32, seed: 9)[0]
        func segment(_ half: Int) -> TrainingBatch {
            func take<Element>(_ values: [Element]) -> [Element] {
                (0..<2).flatMap { row in
                    values[(row * 32 + half * 16)..<(row * 32 + half * 16 + 16)]
                }
            }
            return TrainingBatch(
                batchSize: 2, sequenceLength: 16, inputs: take(batches.inputs),
                targets: take(batches.targets), mask: take(batches.mask),
                continuesStreams: half == 1 && !wrapped)
        }
        return CyclingBatches([segment(0), segment(1)])
    }

    @Test func theSecondSegmentsLossUsesTheCarriedStateUnlessTheLanesWrapped() throws {
        let directory = try TemporaryDirectory("state-passing-loss")
        defer { directory.remove() }
        func stepLosses(statePassing: Bool, wrapped: Bool) throws -> [Double] {
            var options = Self.options(statePassing: statePassing)
            options.steps = 2
            options.gradientAccumulation = 1
            options.checkpointEvery = 0
            let trainer = Trainer(
                model: LanguageModel(config: Self.config, seed: 3), options: options,
                source: Self.twoSegments(wrapped: wrapped), validation: [],
                runDirectory: directory.file("run-\(statePassing)-\(wrapped)"), tokenizer: nil)
            return try Self.losses(trainer)
        }
        let fresh = try stepLosses(statePassing: false, wrapped: false)
        let carried = try stepLosses(statePassing: true, wrapped: false)
        let wrapped = try stepLosses(statePassing: true, wrapped: true)
        // The first segment starts from zero states either way.
        #expect(carried[0] == fresh[0])
        // The second one sees the first through the carried state ...
        #expect(carried[1] != fresh[1])
        // ... unless its lanes wrapped: then its states were reset to zero.
        #expect(wrapped[1] == fresh[1])
    }

    @Test func refusedForModelsWithoutMamba2() throws {
        let data = try ResumeTests.makeData()
        let root = data.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: root) }
        let trainer = try Self.trainer(
            data: data, run: root.appendingPathComponent("run"), config: .tiny)
        #expect(throws: TrainingOptionsError.statePassingNeedsMamba2(mixer: "attention")) {
            try trainer.run { _ in }
        }
    }

    @Test(arguments: [true, false])
    func resumingAcrossTheFlagIsRefused(trainedWithStatePassing: Bool) throws {
        let data = try ResumeTests.makeData()
        let root = data.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run")
        let first = try Self.trainer(
            data: data, run: run, options: Self.options(statePassing: trainedWithStatePassing))
        _ = try Self.losses(first, stopAfter: 3)
        let other = try Self.trainer(
            data: data, run: run, options: Self.options(statePassing: !trainedWithStatePassing))
        let expected = StatePassingResumeError(
            checkpoint: "step-00000003", checkpointPassesState: trainedWithStatePassing)
        // Not even allowed changed options resume it: the data position belongs to the other
        // loader.
        #expect(throws: expected) { try other.resumeFromLatestCheckpoint() }
        #expect(throws: expected) {
            try other.resumeFromLatestCheckpoint(allowingChangedOptions: true)
        }
        #expect(expected.description.split(separator: "\n").count == 1)
    }

    @Test func ranksCarryTheirOwnLanesAndTheirCheckpointResumesOnOne() throws {
        let data = try ResumeTests.makeData()
        let root = data.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: root) }
        var options = Self.options()
        options.steps = 4
        options.checkpointEvery = 2
        let straight = try DataParallelTests.train(
            Self.trainer(data: data, run: root.appendingPathComponent("straight"), options: options)
        )
        // Two ranks train steps 1-2 (rank 0 writes step-2 with both ranks' states), then one
        // process does steps 3-4.
        let run = root.appendingPathComponent("run")
        let firstHalf = try DataParallelTests.trainRanks(2, stopAfter: 2) { rank, reducer in
            try! Self.trainer(
                data: data, run: rank == 0 ? run : root.appendingPathComponent("other"),
                options: options, reducer: reducer)
        }
        #expect(firstHalf[1].losses == firstHalf[0].losses)
        var resumed = try DataParallelTests.train(
            Self.trainer(data: data, run: run, options: options), resume: true)
        resumed.losses = firstHalf[0].losses + resumed.losses
        DataParallelTests.expectClose(resumed, straight, "2 ranks then 1, state passing")
    }
}
