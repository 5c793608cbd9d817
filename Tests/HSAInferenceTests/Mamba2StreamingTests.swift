import Foundation
import HSA
import HSATestSupport
import Testing

/// A `mixer: mamba2` model streams in its recurrent form (conv history + SSD state per layer):
/// the logits equal `LanguageModel.forward` for any block split, prefill or decode.
@Suite struct Mamba2StreamingTests {
    static let config = ModelConfig.tinyMamba2()

    @Test(arguments: [1, 3, 7, 50])
    func prefillLogitsEqualFullForward(block: Int) throws {
        let model = StreamingFixtures.model(Self.config, seed: 3)
        let length = 50
        let tokens = StreamingFixtures.tokens(length, seed: 4)
        let expected = StreamingFixtures.lastLogits(model, tokens)
        // maxBlock 16 also splits the 50-token block inside the session.
        let session = try StreamingSession(model: model, maxBlock: 16)
        try StreamingFixtures.expectPrefillMatches(
            session, tokens: tokens, expected: expected, block: block, label: "block \(block)")
    }

    @Test func decodeEqualsFullForwardPositionByPosition() throws {
        let model = StreamingFixtures.model(Self.config, seed: 5)
        let (length, prompt) = (40, 13)
        let (session, tokens, logits) = try StreamingFixtures.promptedSession(
            model, length: length, prompt: prompt)
        let bytesAfterPrompt = session.cacheBytes
        try StreamingFixtures.expectDecodeMatches(
            session, tokens: tokens, logits: logits, positions: prompt..<length)
        // Constant memory: decoding keeps no per-token state.
        #expect(session.cacheBytes == bytesAfterPrompt)
    }

    @Test func documentMemoriesAreRefusedWithOneLine() throws {
        let model = LanguageModel(config: Self.config, seed: 1)
        let session = try StreamingSession(model: model)
        try session.prefill(tokens: [1, 2, 3])
        let expected = InferenceError.snapshotUnsupportedMixer("mamba2")
        #expect(throws: expected) { try session.snapshot() }
        #expect(!expected.description.contains("\n"))
        #expect(!InferenceError.streamingUnsupportedMixer("mamba2").description.contains("\n"))
    }
}
