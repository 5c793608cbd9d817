import Foundation
import HSACore
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

/// Random batches (tokens below 40) whose masks are 0 on about a third of the targets, so
/// data-parallel ranks see different numbers of loss targets.
func randomBatches(count: Int, batchSize: Int, sequenceLength: Int, seed: UInt64)
    -> [TrainingBatch]
{
    var rng = SplitMix64(seed: seed)
    let n = batchSize * sequenceLength
    return (0..<count).map { _ in
        let tokens = (0...n).map { _ in Int32(rng.next() % 40) }
        return TrainingBatch(
            batchSize: batchSize, sequenceLength: sequenceLength,
            inputs: Array(tokens[0..<n]), targets: Array(tokens[1...n]),
            mask: (0..<n).map { _ in rng.next() % 3 == 0 ? 0 : 1 })
    }
}
