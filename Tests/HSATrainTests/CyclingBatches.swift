import Foundation
import HSATrain

/// A batch source for tests that cycles through fixed batches; its saved state is the index
/// of the next batch, so checkpoints resume it exactly.
final class CyclingBatches: BatchSource {
    let batches: [TrainingBatch]
    private var next = 0

    init(_ batches: [TrainingBatch]) { self.batches = batches }

    func nextBatch() throws -> TrainingBatch {
        defer { next += 1 }
        return batches[next % batches.count]
    }

    func saveState() throws -> Data { Data(String(next).utf8) }

    func restoreState(_ state: Data) throws {
        next = Int(String(decoding: state, as: UTF8.self)) ?? 0
    }
}
