import Foundation
import HSA
import HSATestSupport
import Testing

/// The gradient all-reduce overlapped with the backward pass: the model reports final ranges
/// correctly, every bucket starts exactly once when its elements are final, and training with
/// the overlap equals training with the reduction after the backward pass bit for bit.
@Suite struct OverlappedReductionTests {
    // MARK: - The model's hook

    static var configs: [ModelConfig] {
        var tied = ModelConfig.tiny
        tied.tieEmbeddings = true
        var slidingWindow = ModelConfig.tiny
        slidingWindow.attention = .swa
        return [.tiny, tied, slidingWindow]
    }

    /// A (B 2, T 16) pass over fixed random tokens; `masked` zeroes every loss target.
    static func pass(_ model: LanguageModel, masked: Bool = false) -> LanguageModel.Pass {
        var rng = SplitMix64(seed: 11)
        let n = 2 * 16
        let tokens = (0...n).map { _ in Int32(rng.next() % 40) }
        return model.forward(
            tokens: Array(tokens[0..<n]), targets: Array(tokens[1...n]),
            lossMask: masked ? [Float](repeating: 0, count: n) : nil, batch: 2,
            sequenceLength: 16)
    }

    /// One report of the hook: the range and the gradients in it at that moment.
    struct Report {
        var range: Range<Int>
        var values: [Float]
    }

    @Test(arguments: configs)
    func backwardReportsFinalRangesTopDown(config: ModelConfig) {
        let reference = LanguageModel(config: config, seed: 5)
        reference.backward(Self.pass(reference), lossScale: 0.5)
        let expected = reference.gradients.storage.toArray()

        let model = LanguageModel(config: config, seed: 5)
        let gradients = model.gradients.storage.data
        var reports: [Report] = []
        // The bottom layer comes last but the embedding, whatever the tying.
        var bottomUntouchedAtFirstReport = false
        let bottomName = "lower.0.mlp.down_proj.weight"
        let bottom = model.layout.offsets[bottomName] ?? 0
        let bottomCount = model.layout.spec(named: bottomName)?.count ?? 0
        model.backward(Self.pass(model), lossScale: 0.5) { range in
            if reports.isEmpty {
                bottomUntouchedAtFirstReport = (0..<bottomCount).allSatisfy {
                    gradients[bottom + $0] == 0
                }
            }
            reports.append(
                Report(
                    range: range,
                    values: Array(
                        UnsafeBufferPointer(
                            start: gradients + range.lowerBound, count: range.count))))
        }

        // The hook changes nothing.
        #expect(model.gradients.storage.toArray() == expected)
        // Each range was final when reported ...
        for report in reports {
            #expect(report.values == Array(expected[report.range]), "\(report.range)")
        }
        // ... the ranges tile the arena exactly once, from its end down ...
        let ranges = reports.map(\.range)
        #expect(ranges == ranges.sorted { $0.lowerBound > $1.lowerBound })
        var cursor = 0
        for range in ranges.reversed() {
            #expect(range.lowerBound == cursor)
            cursor = range.upperBound
        }
        #expect(cursor == model.layout.totalCount)
        // ... and the first came while the backward pass was still running.
        #expect(reports.count >= 4)
        #expect(bottomCount > 0)
        #expect(bottomUntouchedAtFirstReport)
    }

    @Test func passWithoutTargetsReportsTheSameSequence() {
        let model = LanguageModel(config: .tiny, seed: 5)
        var usual: [Range<Int>] = []
        model.backward(Self.pass(model)) { usual.append($0) }
        model.zeroGradients()
        var empty: [Range<Int>] = []
        model.backward(Self.pass(model, masked: true)) { empty.append($0) }
        #expect(!usual.isEmpty)
        #expect(empty == usual)
        #expect(model.gradients.storage.toArray().allSatisfy { $0 == 0 })
    }

    // MARK: - Bucket scheduling

    /// Records the collectives instead of running them; optionally fails the n-th.
    final class RecordingReducer: GradientReducer {
        let rank = 0
        let worldSize = 2
        var started: [Range<Int>] = []
        var waits = 0
        var failAt: Int?
        let base: UnsafeMutablePointer<Float>

        init(base: UnsafeMutablePointer<Float>, failAt: Int? = nil) {
            self.base = base
            self.failAt = failAt
        }

        func allReduceSum(_ values: UnsafeMutablePointer<Float>, count: Int) throws {
            if started.count == failAt {
                throw DistributedTrainingError.communication(rank: 0, message: "injected")
            }
            let offset = values - base
            started.append(offset..<(offset + count))
        }

        func waitForReductions() throws { waits += 1 }

        func allReduceSum(_ values: [Double]) throws -> [Double] { values }
    }

    @Test func eachBucketStartsOnceWhenItsElementsAreFinal() throws {
        let arena = UnsafeMutablePointer<Float>.allocate(capacity: 10)
        defer { arena.deallocate() }
        let reducer = RecordingReducer(base: arena)
        let reduction = OverlappedGradientReduction(
            reducer: reducer, values: arena, count: 10, bucketElements: 4)
        #expect(reduction.buckets == [0..<4, 4..<8, 8..<10])
        reduction.gradientsFinal(6..<10)
        #expect(reducer.started == [8..<10])
        reduction.gradientsFinal(6..<10)  // twice: counts once
        reduction.gradientsFinal(3..<5)
        #expect(reducer.started == [8..<10])
        reduction.gradientsFinal(5..<6)
        #expect(reducer.started == [8..<10, 4..<8])
        #expect(reducer.waits == 0)
        try reduction.finish()  // the rest (0..<3) is final now
        #expect(reducer.started == [8..<10, 4..<8, 0..<4])
        #expect(reduction.startedBuckets == [2, 1, 0])
        #expect(reducer.waits == 1)

        // One report completing several buckets starts them top down.
        let second = RecordingReducer(base: arena)
        let all = OverlappedGradientReduction(
            reducer: second, values: arena, count: 10, bucketElements: 4)
        all.gradientsFinal(0..<10)
        #expect(second.started == [8..<10, 4..<8, 0..<4])
    }

    @Test func aFailedCollectiveSurfacesInFinish() {
        let arena = UnsafeMutablePointer<Float>.allocate(capacity: 10)
        defer { arena.deallocate() }
        let reducer = RecordingReducer(base: arena, failAt: 1)
        let reduction = OverlappedGradientReduction(
            reducer: reducer, values: arena, count: 10, bucketElements: 4)
        reduction.gradientsFinal(0..<10)  // the second bucket fails; the third never starts
        #expect(reducer.started == [8..<10])
        #expect(throws: DistributedTrainingError.self) { try reduction.finish() }
        #expect(reducer.waits == 0)
    }

    // MARK: - Training

    /// Batches whose every second batch has no loss target in rank 1's sequences (1, 3, 5 of
    /// 6), so with grad_accum 2 rank 1's last micro-batch has nothing to back-propagate.
    static func rankMaskedBatches(seed: UInt64) -> [TrainingBatch] {
        var rng = SplitMix64(seed: seed)
        let (b, t) = (6, 16)
        return (0..<4).map { index in
            let tokens = (0...(b * t)).map { _ in Int32(rng.next() % 40) }
            let mask = (0..<(b * t)).map { i -> Float in
                index % 2 == 1 && (i / t) % 2 == 1 ? 0 : 1
            }
            return TrainingBatch(
                batchSize: b, sequenceLength: t, inputs: Array(tokens[0..<(b * t)]),
                targets: Array(tokens[1...(b * t)]), mask: mask)
        }
    }

    /// Every rank's outcome of 3 steps on `worldSize` in-process ranks.
    static func train(
        worldSize: Int, overlap: Bool, rankMasked: Bool, directory: TemporaryDirectory
    ) throws -> [DataParallelTests.Outcome] {
        try DataParallelTests.trainRanks(worldSize) { rank, reducer in
            let run = directory.file("\(worldSize)-\(overlap)-\(rankMasked)-\(rank)")
            let trainer: Trainer
            if rankMasked {
                var options = DataParallelTests.options(steps: 3)
                options.checkpointEvery = 0
                options.evalEvery = 0  // no validation batches
                trainer = Trainer(
                    model: LanguageModel(config: .tiny, seed: options.seed), options: options,
                    source: CyclingBatches(Self.rankMaskedBatches(seed: 9)), validation: [],
                    runDirectory: run,
                    tokenizer: nil, reducer: reducer)
            } else {
                trainer = DataParallelTests.trainer(steps: 3, run: run, reducer: reducer)
            }
            trainer.overlapsGradientReduction = overlap
            trainer.gradientBucketElements = 997  // ~48 buckets, not aligned to parameters
            return trainer
        }
    }

    @Test(arguments: [(2, false), (3, false), (2, true)])
    func overlapGivesTheSameBitsAsReducingAfterBackward(worldSize: Int, rankMasked: Bool)
        throws
    {
        let directory = try TemporaryDirectory("overlap")
        defer { directory.remove() }
        let after = try Self.train(
            worldSize: worldSize, overlap: false, rankMasked: rankMasked, directory: directory)
        let overlapped = try Self.train(
            worldSize: worldSize, overlap: true, rankMasked: rankMasked, directory: directory)
        #expect(after[0].losses.count == 3)
        for (x, y) in zip(overlapped, after) {
            #expect(x.parameters == y.parameters)
            #expect(x.losses == y.losses)
            #expect(x.validation == y.validation)
        }
        // Training moved the parameters (the comparison is not between two untouched models).
        let initial = LanguageModel(config: .tiny, seed: DataParallelTests.options(steps: 3).seed)
        #expect(overlapped[0].parameters != initial.parameters.storage.toArray())
    }
}
