import Foundation
import HSA
import Testing

/// A session restored from a snapshot continues exactly like the session it was taken from,
/// and a snapshot that does not fit the model is refused with the reason.
@Suite struct StreamingSnapshotTests {
    @Test(arguments: ["default", "per_chunk", "attention swa", "attention full"])
    func restoredSessionContinuesBitForBit(variant: String) throws {
        let config = try #require(StreamingFixtures.variants.first { $0.0 == variant }?.1)
        let model = StreamingFixtures.model(config, seed: 21)
        let tokens = StreamingFixtures.tokens(150, seed: 4)
        let cut = 83  // not a chunk boundary: the incomplete chunk is part of the snapshot

        let reference = try StreamingSession(model: model, maxBlock: 32)
        try StreamingFixtures.prefill(reference, tokens[..<cut], block: 40)
        try StreamingFixtures.prefill(reference, tokens[cut...], block: 40)

        let first = try StreamingSession(model: model, maxBlock: 32)
        try StreamingFixtures.prefill(first, tokens[..<cut], block: 40)
        let snapshot = try first.snapshot()
        // The first session is dropped here: the restored one takes over its store.
        let store = first.memory?.store as? any HostKVStore
        let restored = try StreamingSession(
            model: model, restoring: snapshot, store: store, maxBlock: 32)
        #expect(try restored.snapshot() == snapshot)
        try StreamingFixtures.prefill(restored, tokens[cut...], block: 40)
        #expect(restored.position == reference.position)
        #expect(try restored.logits() == reference.logits())
        let next: Int32 = 42
        #expect(try restored.decodeNext(token: next) == reference.decodeNext(token: next))
    }

    @Test func snapshotOfAnotherShapeIsRefused() throws {
        let model = StreamingFixtures.model(StreamingFixtures.config)
        let session = try StreamingSession(model: model)
        try session.prefill(tokens: StreamingFixtures.tokens(30))
        let snapshot = try session.snapshot()
        let store = session.memory?.store as? any HostKVStore

        var otherConfig = StreamingFixtures.config
        otherConfig.nLowerLayers = 3
        let other = StreamingFixtures.model(otherConfig)
        #expect(throws: InferenceError.self) {
            _ = try StreamingSession(model: other, restoring: snapshot, store: store)
        }

        var shortTail = snapshot
        shortTail.tail.values.removeLast(StreamingFixtures.config.dModel)
        do {
            _ = try StreamingSession(model: model, restoring: shortTail, store: store)
            Issue.record("a snapshot with a short tail was accepted")
        } catch let error as InferenceError {
            #expect(error.description.contains("the tail must hold positions"), "\(error)")
        }

        var moved = snapshot
        moved.position += 1
        #expect(throws: InferenceError.self) {
            _ = try StreamingSession(model: model, restoring: moved, store: store)
        }
    }
}
