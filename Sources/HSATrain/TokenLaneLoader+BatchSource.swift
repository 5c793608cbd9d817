import Foundation
import HSAData

extension TokenLaneLoader: BatchSource {
    public func nextBatch() throws -> TrainingBatch {
        let batch: LaneBatch = nextBatch()
        var training = TrainingBatch(batch.tokens)
        training.continuesStreams = !batch.startsLanes
        return training
    }

    public func saveState() throws -> Data { try JSONEncoder().encode(state) }

    public func restoreState(_ data: Data) throws {
        try restore(JSONDecoder().decode(LaneState.self, from: data))
    }
}
