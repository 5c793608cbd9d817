import HSA
import Testing

/// Every numeric training option outside its range is refused before anything runs, in one
/// line naming the option, the range and the value.
@Suite struct OptionRangeTests {
    static func violation(
        gpus: Int = 1, reportEvery: Int = 10, stopAfter: Int? = nil,
        _ change: (inout TrainingOptions) -> Void = { _ in }
    ) -> String? {
        var options = TrainingOptions()
        options.maxSkippedSteps = TrainingOptions.defaultMaxSkippedSteps
        change(&options)
        return options.rangeViolation(gpus: gpus, reportEvery: reportEvery, stopAfter: stopAfter)
    }

    @Test func theDefaultsAreInRange() {
        #expect(Self.violation() == nil)
    }

    @Test func eachViolationNamesItsOptionRangeAndValue() {
        #expect(Self.violation { $0.steps = 0 } == "--steps 0: must be in 1...2147483647")
        #expect(
            Self.violation { $0.sequenceLength = 1 }?.hasPrefix("--seq-len 1: must be in 2...")
                == true)
        #expect(
            Self.violation { $0.maxShardBytes = 0 } == "--max-shard-size 0: must be at least 1")
        #expect(Self.violation(gpus: 2000) == "--gpus 2000: must be in 1...1024")
        #expect(Self.violation(stopAfter: 0) == "--stop-after 0: must be at least 1")
        #expect(Self.violation(reportEvery: 0) == "--report-every 0: must be at least 1")
        #expect(Self.violation { $0.learningRate = 0 } == "--lr 0.0: must be in (0, 10]")
        #expect(Self.violation { $0.learningRate = .nan } == "--lr nan: must be in (0, 10]")
        #expect(
            Self.violation { $0.retrievalWeightDecay = -1 }
                == "--retrieval-weight-decay -1.0: must be in [0, 10]")
        #expect(
            Self.violation { $0.gradientClip = 2e6 }
                == "--grad-clip 2000000.0: must be in [0, 1000000]")
        #expect(
            Self.violation {
                $0.batchSize = 4096
                $0.sequenceLength = 1 << 20
            } == "--batch-size 4096 × --seq-len 1048576: at most 1073741824 tokens a batch")
    }

    @Test func theFirstViolationIsReported() {
        #expect(
            Self.violation(gpus: 0) {
                $0.steps = 0
                $0.learningRate = -1
            } == "--steps 0: must be in 1...2147483647")
    }
}
