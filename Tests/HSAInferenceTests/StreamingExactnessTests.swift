import Foundation
import HSA
import HSATestSupport
import Testing

/// The streaming session equals `LanguageModel.forward` at the last position, for every knob,
/// block size and store (MODEL.md "Long-context inference": results must equal the full
/// forward).
@Suite struct StreamingExactnessTests {
    static let atol = 1e-4
    static let rtol = 1e-4

    @Test(arguments: StreamingFixtures.variants.map(\.0))
    func prefillLogitsEqualFullForward(variant: String) throws {
        let config = try #require(StreamingFixtures.variants.first { $0.0 == variant }?.1)
        let model = StreamingFixtures.model(config)
        let length = 97  // > the kept tail (LU * (W - 1) + 1 = 22, 34 with per_chunk)
        let tokens = StreamingFixtures.tokens(length)
        let expected = StreamingFixtures.lastLogits(model, tokens)
        for block in [7, length] {
            let session = try StreamingSession(model: model)
            try StreamingFixtures.expectPrefillMatches(
                session, tokens: tokens, expected: expected, block: block, atol: Self.atol,
                rtol: Self.rtol, label: "\(variant), block \(block)")
        }
    }

    @Test(arguments: [1, 7, 64, 300])
    func blockSizeDoesNotMatter(block: Int) throws {
        for (name, config) in StreamingFixtures.variants
        where name == "default" || name == "per_chunk" {
            let model = StreamingFixtures.model(config, seed: 11)
            let length = 300
            let tokens = StreamingFixtures.tokens(length, seed: 3)
            let expected = StreamingFixtures.lastLogits(model, tokens)
            // maxBlock below the block size also splits blocks inside the session.
            let session = try StreamingSession(model: model, maxBlock: 50)
            try StreamingFixtures.expectPrefillMatches(
                session, tokens: tokens, expected: expected, block: block, atol: Self.atol,
                rtol: Self.rtol, label: "\(name), block \(block)")
            #expect(session.memory?.chunkCount == length / config.chunkSize)
        }
    }

    @Test(arguments: ["default", "per_chunk", "fusion joint", "attention full"])
    func decodeEqualsFullForwardPositionByPosition(variant: String) throws {
        let config = try #require(StreamingFixtures.variants.first { $0.0 == variant }?.1)
        let model = StreamingFixtures.model(config, seed: 5)
        let length = 90
        let prompt = 37
        let (session, tokens, logits) = try StreamingFixtures.promptedSession(
            model, length: length, prompt: prompt)
        try StreamingFixtures.expectDecodeMatches(
            session, tokens: tokens, logits: logits, positions: prompt..<length,
            atol: Self.atol, rtol: Self.rtol, label: "\(variant), ")
        #expect(session.position == length)
    }

    @Test func decodeFromEmptySessionEqualsFullForward() throws {
        let model = StreamingFixtures.model(StreamingFixtures.config, seed: 8)
        let tokens = StreamingFixtures.tokens(30, seed: 4)
        let logits = model.forward(tokens: tokens, batch: 1, sequenceLength: 30).logits.toArray()
        let session = try StreamingSession(model: model)
        for t in 0..<30 {
            let report = compare(
                try session.decodeNext(token: tokens[t]), StreamingFixtures.row(logits, t),
                atol: Self.atol, rtol: Self.rtol, label: "position \(t)")
            #expect(report.passed, "\(report)")
        }
    }

    @Test func prefillAfterDecodeStaysExact() throws {
        var config = StreamingFixtures.config
        config.retrieval = .perChunk
        let model = StreamingFixtures.model(config, seed: 12)
        let length = 120
        let tokens = StreamingFixtures.tokens(length, seed: 6)
        let logits = model.forward(tokens: tokens, batch: 1, sequenceLength: length).logits
            .toArray()
        let session = try StreamingSession(model: model)
        // prefill, decode, prefill, logits, decode: every switch rebuilds the upper state.
        try session.prefill(tokens: Array(tokens[0..<41]))
        _ = try session.logits()
        for t in 41..<50 { _ = try session.decodeNext(token: tokens[t]) }
        try session.prefill(tokens: Array(tokens[50..<100]))
        let middle = compare(
            try session.logits(), StreamingFixtures.row(logits, 99), atol: Self.atol,
            rtol: Self.rtol, label: "after second prefill")
        #expect(middle.passed, "\(middle)")
        for t in 100..<length {
            let report = compare(
                try session.decodeNext(token: tokens[t]), StreamingFixtures.row(logits, t),
                atol: Self.atol, rtol: Self.rtol, label: "position \(t)")
            #expect(report.passed, "\(report)")
        }
    }
}
