import Foundation
import HSA
import HSATestSupport
import Testing

/// Data-parallel training through `InProcessReducerGroup` (threads as ranks) equals
/// single-process training on the same global batch.
///
/// Tolerance: the ranks' summed gradient differs from the single-process gradient only in the
/// order of fp32 additions (each rank sums its own rows, then the ranks are added), a relative
/// change of a few 1e-7 per element. Losses are compared at relative 1e-5; parameters after
/// the steps at absolute 1e-4, i.e. a tenth of one AdamW step at lr 1e-3 (Adam divides by
/// sqrt(v), so elements whose gradient nearly cancels can move by more than 1e-7 · lr).
@Suite struct DataParallelTests {
    static func options(steps: Int) -> TrainingOptions {
        var options = TrainingOptions()
        options.steps = steps
        options.batchSize = 6
        options.sequenceLength = 16
        options.gradientAccumulation = 2
        options.warmupSteps = 1
        options.evalEvery = 2
        options.checkpointEvery = 2
        return options
    }

    static func trainer(
        steps: Int, run: URL, reducer: (any GradientReducer)? = nil
    ) -> Trainer {
        let options = options(steps: steps)
        let validation = randomBatches(count: 1, batchSize: 6, sequenceLength: 16, seed: 77)
        let source = CyclingBatches(
            randomBatches(count: 8, batchSize: 6, sequenceLength: 16, seed: 3))
        return Trainer(
            model: LanguageModel(config: .tiny, seed: options.seed), options: options,
            source: source, validation: validation, runDirectory: run, tokenizer: nil,
            reducer: reducer)
    }

    /// What one rank saw: step losses, validation losses, final parameters.
    struct Outcome: Sendable {
        var losses: [Double] = []
        var validation: [Double] = []
        var parameters: [Float] = []
    }

    static func train(_ trainer: Trainer, resume: Bool = false, stopAfter: Int? = nil) throws
        -> Outcome
    {
        if resume { try trainer.resumeFromLatestCheckpoint() }
        var outcome = Outcome()
        try trainer.run(stopAfter: stopAfter) { event in
            switch event {
            case .step(let report): outcome.losses.append(report.loss)
            case .evaluation(let report): outcome.validation.append(report.validationLoss)
            case .checkpoint: break
            }
        }
        outcome.parameters = trainer.model.parameters.storage.toArray()
        return outcome
    }

    /// Runs one trainer per rank on its own thread; returns every rank's outcome.
    static func trainRanks(
        _ worldSize: Int, resume: Bool = false, stopAfter: Int? = nil,
        makeTrainer: (Int, any GradientReducer) -> Trainer
    ) throws -> [Outcome] {
        let group = InProcessReducerGroup(worldSize: worldSize, timeout: 60)
        let trainers = (0..<worldSize).map { makeTrainer($0, group.reducer(rank: $0)) }
        let results = ResultSlots<Outcome>(count: worldSize)
        let done = DispatchGroup()
        for (rank, trainer) in trainers.enumerated() {
            let box = TrainerBox(trainer: trainer)
            done.enter()
            Thread {
                results.set(
                    rank, Result { try train(box.trainer, resume: resume, stopAfter: stopAfter) })
                done.leave()
            }.start()
        }
        done.wait()
        return try results.values.map { try $0.get() }
    }

    static func expectClose(_ a: Outcome, _ b: Outcome, _ label: String) {
        #expect(a.losses.count == b.losses.count, "\(label): step count")
        for (x, y) in zip(a.losses, b.losses) {
            #expect(abs(x - y) <= 1e-5 * abs(y), "\(label): loss \(x) vs \(y)")
        }
        #expect(a.validation.count == b.validation.count, "\(label): evaluation count")
        for (x, y) in zip(a.validation, b.validation) {
            #expect(abs(x - y) <= 1e-5 * abs(y), "\(label): validation loss \(x) vs \(y)")
        }
        let worst = zip(a.parameters, b.parameters).map { abs($0 - $1) }.max() ?? .infinity
        #expect(a.parameters.count == b.parameters.count)
        #expect(worst <= 1e-4, "\(label): max |parameter difference| \(worst)")
    }

    @Test func sliceTakesEveryNthSequence() throws {
        let batch = TrainingBatch(
            batchSize: 4, sequenceLength: 2, inputs: [0, 1, 2, 3, 4, 5, 6, 7],
            targets: [1, 2, 3, 4, 5, 6, 7, 8], mask: [1, 0, 1, 1, 1, 1, 0, 1])
        let rank1 = try batch.slice(rank: 1, worldSize: 2)
        #expect(rank1.batchSize == 2)
        #expect(rank1.inputs == [2, 3, 6, 7])
        #expect(rank1.targets == [3, 4, 7, 8])
        #expect(rank1.mask == [1, 1, 0, 1])
        #expect(batch.lossTargetCount(lossMask: batch.mask) == 6)
        #expect(batch.lossTargetCount(lossMask: nil) == 8)
        #expect(throws: DistributedTrainingError.self) {
            try batch.slice(rank: 0, worldSize: 3)
        }
    }

    @Test func bucketsCoverTheArena() {
        #expect(GradientBuckets.ranges(count: 10, bucketElements: 4) == [0..<4, 4..<8, 8..<10])
        #expect(GradientBuckets.ranges(count: 0, bucketElements: 4).isEmpty)
    }

    @Test func ranksMatchSingleProcessTraining() throws {
        let directory = try TemporaryDirectory("data-parallel")
        defer { directory.remove() }
        let single = try Self.train(Self.trainer(steps: 3, run: directory.file("single")))
        for worldSize in [2, 3] {
            let ranks = try Self.trainRanks(worldSize) { rank, reducer in
                Self.trainer(
                    steps: 3, run: directory.file("ranks\(worldSize)-\(rank)"), reducer: reducer)
            }
            // Every rank ends with bit-identical parameters and reports the same losses.
            for outcome in ranks.dropFirst() {
                #expect(outcome.parameters == ranks[0].parameters)
                #expect(outcome.losses == ranks[0].losses)
            }
            Self.expectClose(ranks[0], single, "\(worldSize) ranks")
            // Only rank 0 writes checkpoints.
            #expect(
                TrainingCheckpoint.list(runDirectory: directory.file("ranks\(worldSize)-0"))
                    .count == 2)
            #expect(
                TrainingCheckpoint.list(runDirectory: directory.file("ranks\(worldSize)-1"))
                    .isEmpty)
        }
    }

    @Test func checkpointOfTwoRanksResumesOnOne() throws {
        let directory = try TemporaryDirectory("data-parallel-resume")
        defer { directory.remove() }
        let straight = try Self.train(Self.trainer(steps: 4, run: directory.file("straight")))
        let run = directory.file("run")
        // Two ranks train steps 1-2 (rank 0 writes step-2), then one process does steps 3-4.
        let firstHalf = try Self.trainRanks(2, stopAfter: 2) { rank, reducer in
            Self.trainer(
                steps: 4, run: rank == 0 ? run : directory.file("other"), reducer: reducer)
        }
        #expect(firstHalf[0].losses.count == 2)
        var resumed = try Self.train(Self.trainer(steps: 4, run: run), resume: true)
        resumed.losses = firstHalf[0].losses + resumed.losses
        resumed.validation = firstHalf[0].validation + resumed.validation
        Self.expectClose(resumed, straight, "2 ranks then 1")
    }

    @Test func differentStartingParametersAreRejected() throws {
        let directory = try TemporaryDirectory("data-parallel-seed")
        defer { directory.remove() }
        let group = InProcessReducerGroup(worldSize: 2, timeout: 60)
        let results = ResultSlots<Void>(count: 2)
        let done = DispatchGroup()
        for rank in 0..<2 {
            let trainer = Self.trainer(
                steps: 1, run: directory.file("r\(rank)"), reducer: group.reducer(rank: rank))
            if rank == 1 { trainer.model.parameters.storage.data[0] += 1 }
            let box = TrainerBox(trainer: trainer)
            done.enter()
            Thread {
                results.set(rank, Result { try box.trainer.checkParametersAgree() })
                done.leave()
            }.start()
        }
        done.wait()
        for result in results.values {
            #expect(throws: DistributedTrainingError.self) { try result.get() }
        }
    }
}

// MARK: - Helpers

/// Moves a trainer into its rank's thread (each trainer is used by that thread only).
struct TrainerBox: @unchecked Sendable {
    let trainer: Trainer
}

/// Per-rank results written by the rank threads.
final class ResultSlots<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<Value, any Error>?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<Value, any Error>) {
        lock.withLock { slots[index] = result }
    }

    var values: [Result<Value, any Error>] {
        lock.withLock { slots.map { $0 ?? .failure(CancellationError()) } }
    }
}
