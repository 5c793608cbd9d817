import Foundation

// How a global batch is split over data-parallel ranks. Rank r takes sequences r, r + N,
// r + 2N, ... of every global batch, so the ranks together see exactly the batch a single
// process would train on, and the saved data position (the global stream's) resumes on any
// number of ranks. With state passing, rank r's rows are thereby always the same lanes.

extension TrainingBatch {
    /// The sequences of this batch that rank `rank` of `worldSize` trains on.
    /// - Returns: a batch of B / worldSize sequences, each (T) as in this batch.
    /// - Throws: `DistributedTrainingError.batchNotDivisible` when B % worldSize != 0.
    public func slice(rank: Int, worldSize: Int) throws -> TrainingBatch {
        if worldSize == 1 { return self }
        guard batchSize % worldSize == 0 else {
            throw DistributedTrainingError.batchNotDivisible(
                batchSize: batchSize, worldSize: worldSize)
        }
        let t = sequenceLength
        let sequences = Array(stride(from: rank, to: batchSize, by: worldSize))
        func take<Element>(_ values: [Element]) -> [Element] {
            sequences.flatMap { values[($0 * t)..<(($0 + 1) * t)] }
        }
        return TrainingBatch(
            batchSize: sequences.count, sequenceLength: t, inputs: take(inputs),
            targets: take(targets), mask: take(mask), continuesStreams: continuesStreams)
    }

    /// Targets that count towards the loss: non-negative and, with a `lossMask`, not masked out
    /// (the rule of `LanguageModel.forward`).
    /// - Parameter lossMask: (B*T) 1 where the target counts, or nil (all targets count).
    public func lossTargetCount(lossMask: [Float]?) -> Int {
        var count = 0
        for i in targets.indices where targets[i] >= 0 && (lossMask.map { $0[i] != 0 } ?? true) {
            count += 1
        }
        return count
    }
}
