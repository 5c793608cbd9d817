import HSAModel

/// The allowed range of every numeric training option, checked before anything runs.
extension TrainingOptions {
    /// The first value outside its range, as one line naming its `hsa train` option, the
    /// range and the value (NaN included, which would otherwise fail much later, writing
    /// training.json); nil when every value is allowed. `gpus`, `reportEvery` and `stopAfter`
    /// are the run's options that `TrainingOptions` does not hold.
    public func rangeViolation(gpus: Int, reportEvery: Int, stopAfter: Int?) -> String? {
        let integers: [(String, Int?, ClosedRange<Int>)] = [
            ("--steps", steps, 1...Int(Int32.max)),
            ("--batch-size", batchSize, 1...(1 << 20)),
            ("--seq-len", sequenceLength, 2...ModelLimits.length),
            ("--grad-accum", gradientAccumulation, 1...(1 << 20)),
            ("--warmup-steps", warmupSteps, 0...Int(Int32.max)),
            ("--eval-every", evalEvery, 0...Int(Int32.max)),
            ("--eval-batches", evalBatches, 0...(1 << 20)),
            ("--checkpoint-every", checkpointEvery, 0...Int(Int32.max)),
            ("--keep-checkpoints", keepCheckpoints, 0...(1 << 20)),
            ("--max-shard-size", maxShardBytes, 1...Int.max),
            ("--gpus", gpus, 1...1024),
            ("--max-skipped-steps", maxSkippedSteps, 0...Int(Int32.max)),
            ("--report-every", reportEvery, 1...Int.max),
            ("--stop-after", stopAfter, 1...Int.max),
        ]
        for (name, value, range) in integers {
            if let value, !range.contains(value) {
                let allowed =
                    range.upperBound == Int.max
                    ? "at least \(range.lowerBound)"
                    : "in \(range.lowerBound)...\(range.upperBound)"
                return "\(name) \(value): must be \(allowed)"
            }
        }
        if batchSize * sequenceLength > 1 << 30 {
            return "--batch-size \(batchSize) × --seq-len \(sequenceLength): at most \(1 << 30) "
                + "tokens a batch"
        }
        // (name, value, lower bound, lower bound included, upper bound)
        let reals: [(String, Double, Double, Bool, Double)] = [
            ("--lr", learningRate, 0, false, 10),
            ("--min-lr", minLearningRate, 0, true, 10),
            ("--weight-decay", weightDecay, 0, true, 10),
            ("--retrieval-weight-decay", retrievalWeightDecay ?? 0, 0, true, 10),
            ("--retrieval-lr-scale", retrievalLearningRateScale ?? 1, 0, true, 100),
            ("--grad-clip", gradientClip, 0, true, 1e6),
        ]
        for (name, value, lower, closed, upper) in reals {
            let aboveLower = closed ? value >= lower : value > lower
            // NaN fails both comparisons, so it is refused too.
            if !(aboveLower && value <= upper) {
                let range = (closed ? "[" : "(") + "\(lower.shortText), \(upper.shortText)]"
                return "\(name) \(value): must be in \(range)"
            }
        }
        return nil
    }
}

extension Double {
    /// `0`, `10`, `1e-06`: no trailing `.0` for whole numbers.
    fileprivate var shortText: String {
        rounded() == self && abs(self) < 1e15 ? String(Int(self)) : "\(self)"
    }
}
