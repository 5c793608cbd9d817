import Foundation
import HSA
import HSATestSupport
import Testing

/// An `attention: landmark` model streams over per-layer block caches with top-k block
/// retrieval (`LandmarkStream`): with `top_k` covering every block its logits equal
/// `LanguageModel.forward` for any block split, prefill or decode; with fewer blocks the block
/// split still does not matter.
@Suite struct LandmarkStreamingTests {
    /// S 5 (blocks of 6 rows), K 64: more than any test's blocks, so retrieval keeps them all.
    static func config(rope: Bool = false, topK: Int = 64) -> ModelConfig {
        var config = StreamingFixtures.config
        config.attention = .landmark
        config.landmarkBlock = 5
        config.landmarkRope = rope
        config.topK = topK
        return config
    }

    @Test(arguments: [(1, false), (3, false), (5, false), (7, true), (50, false), (50, true)])
    func prefillLogitsEqualFullForward(block: Int, rope: Bool) throws {
        let model = StreamingFixtures.model(Self.config(rope: rope), seed: 3)
        let tokens = StreamingFixtures.tokens(50, seed: 4)
        let expected = StreamingFixtures.lastLogits(model, tokens)
        // maxBlock 16 also splits the 50-token block inside the session.
        let session = try StreamingSession(model: model, maxBlock: 16)
        try StreamingFixtures.expectPrefillMatches(
            session, tokens: tokens, expected: expected, block: block, label: "block \(block)")
    }

    @Test(arguments: [false, true])
    func decodeEqualsFullForwardPositionByPosition(rope: Bool) throws {
        let model = StreamingFixtures.model(Self.config(rope: rope), seed: 5)
        let (length, prompt) = (40, 13)
        let (session, tokens, logits) = try StreamingFixtures.promptedSession(
            model, length: length, prompt: prompt)
        let prefilled = compare(
            try session.logits(), StreamingFixtures.row(logits, prompt - 1), atol: 1e-4,
            rtol: 1e-4, label: "prompt")
        #expect(prefilled.passed, "\(prefilled)")
        try StreamingFixtures.expectDecodeMatches(
            session, tokens: tokens, logits: logits, positions: prompt..<length)
        #expect(session.position == length)
    }

    /// With K = 1 each row sees its own block and one retrieved block: no longer the training
    /// form, but prefill in any blocks and decode still agree. With RoPE: under NoPE the first
    /// layer's landmark keys are all equal (one embedding, no position), so its retrieval is a
    /// tie that rounding differences between block splits may break either way.
    @Test func topOneRetrievalIsIndependentOfTheBlockSplit() throws {
        let model = StreamingFixtures.model(Self.config(rope: true, topK: 1), seed: 7)
        let tokens = StreamingFixtures.tokens(60, seed: 2)
        let whole = try StreamingSession(model: model, maxBlock: 64)
        try whole.prefill(tokens: tokens)
        let expected = try whole.logits()
        let split = try StreamingSession(model: model)
        try StreamingFixtures.prefill(split, tokens[0..<30], block: 7)
        var last: [Float] = []
        for token in tokens[30...] { last = try split.decodeNext(token: token) }
        let report = compare(last, expected, atol: 1e-4, rtol: 1e-4, label: "top-1")
        #expect(report.passed, "\(report)")
        // Retrieval drops blocks: the logits leave the training form's.
        let dense = StreamingFixtures.lastLogits(model, tokens)
        let gap = zip(expected, dense).map { abs($0 - $1) }.max() ?? 0
        #expect(gap > 1e-3)
    }

    @Test func documentMemoriesAreRefusedWithOneLine() throws {
        let model = LanguageModel(config: Self.config(), seed: 1)
        try StreamingSession.checkSupported(model.config)  // the CPU streams landmark models
        let session = try StreamingSession(model: model)
        try session.prefill(tokens: [1, 2, 3])
        let expected = InferenceError.snapshotUnsupportedAttention("landmark")
        #expect(throws: expected) { try session.snapshot() }
        #expect(!expected.description.contains("\n"))
        let accelerator = InferenceError.streamingUnsupported(attention: "landmark")
        #expect(!accelerator.description.contains("\n"))
        #expect(accelerator.description.contains("landmark"))
    }
}
