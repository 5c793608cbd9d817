import Foundation
import HSA
import HSATestSupport
import Testing

/// What the 4- and 8-GPU machines would check, simulated with in-process ranks on the CPU
/// (`InProcessReducerGroup`, threads as ranks): a global batch of 8 split over 1, 4 and 8
/// ranks trains the same model, with small buckets so that every step overlaps dozens of
/// all-reduces with the backward pass, and a checkpoint written by 8 ranks resumes on 4 and on
/// 1. Same tolerances as `DataParallelTests` (fp32 summation order only).
@Suite struct EightRankSimulationTests {
    /// Global batch 8 (one sequence per rank at 8 ranks), no accumulation.
    static func trainer(
        steps: Int, run: URL, reducer: (any GradientReducer)? = nil
    ) -> Trainer {
        var options = DataParallelTests.options(steps: steps)
        options.batchSize = 8
        options.gradientAccumulation = 1
        let validation = randomBatches(count: 1, batchSize: 8, sequenceLength: 16, seed: 78)
        let source = CyclingBatches(
            randomBatches(count: 8, batchSize: 8, sequenceLength: 16, seed: 4))
        let trainer = Trainer(
            model: LanguageModel(config: .tiny, seed: options.seed), options: options,
            source: source, validation: validation, runDirectory: run, tokenizer: nil,
            reducer: reducer)
        // ~2,000-element buckets: the tiny model's arena splits into dozens of collectives.
        trainer.gradientBucketElements = 2_048
        return trainer
    }

    /// Trains `worldSize` ranks in one run folder (as `--gpus N` does: rank 0 alone writes).
    static func ranks(
        _ worldSize: Int, steps: Int, resume: Bool = false, stopAfter: Int? = nil, run: URL
    ) throws -> [DataParallelTests.Outcome] {
        try DataParallelTests.trainRanks(worldSize, resume: resume, stopAfter: stopAfter) {
            trainer(steps: steps, run: run, reducer: $1)
        }
    }

    @Test func fourAndEightRanksMatchOneProcess() throws {
        let directory = try TemporaryDirectory("eight-ranks")
        defer { directory.remove() }
        let single = try DataParallelTests.train(Self.trainer(steps: 3, run: directory.file("1")))
        #expect(
            Self.trainer(steps: 1, run: directory.file("x")).model.parameters.storage.count
                > 20 * 2_048)
        for worldSize in [4, 8] {
            let outcomes = try Self.ranks(worldSize, steps: 3, run: directory.file("\(worldSize)"))
            for outcome in outcomes.dropFirst() {
                #expect(outcome.parameters == outcomes[0].parameters, "\(worldSize) ranks agree")
            }
            DataParallelTests.expectClose(outcomes[0], single, "\(worldSize) ranks")
        }
    }

    @Test func checkpointOfEightRanksResumesOnFourAndOnOne() throws {
        let directory = try TemporaryDirectory("eight-ranks-resume")
        defer { directory.remove() }
        let straight = try DataParallelTests.train(
            Self.trainer(steps: 4, run: directory.file("straight")))
        let eight = try Self.ranks(8, steps: 4, stopAfter: 2, run: directory.file("eight"))
        #expect(eight[0].losses.count == 2)
        for worldSize in [4, 1] {
            // Each continuation starts from its own copy of the step-2 checkpoint.
            let run = directory.file("from-eight-on-\(worldSize)")
            try FileManager.default.copyItem(at: directory.file("eight"), to: run)
            var resumed =
                worldSize == 1
                ? try DataParallelTests.train(Self.trainer(steps: 4, run: run), resume: true)
                : try Self.ranks(worldSize, steps: 4, resume: true, run: run)[0]
            resumed.losses = eight[0].losses + resumed.losses
            resumed.validation = eight[0].validation + resumed.validation
            DataParallelTests.expectClose(resumed, straight, "8 ranks then \(worldSize)")
        }
    }
}
