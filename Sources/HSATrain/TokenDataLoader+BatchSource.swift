import Foundation
import HSAData

extension TokenDataLoader: BatchSource {
    public func nextBatch() throws -> TrainingBatch {
        let batch: TokenBatch = nextBatch()
        return TrainingBatch(batch)
    }

    public func saveState() throws -> Data { try JSONEncoder().encode(state) }

    public func restoreState(_ data: Data) throws {
        try restore(JSONDecoder().decode(LoaderState.self, from: data))
    }
}

extension TrainingBatch {
    /// The trainer's view of a loader batch.
    public init(_ batch: TokenBatch) {
        self.init(
            batchSize: batch.batchSize, sequenceLength: batch.sequenceLength, inputs: batch.inputs,
            targets: batch.targets, mask: batch.mask)
    }
}
