import Foundation
import HSA
import HSATestSupport
import Testing

/// The repeat probe scores each reading exactly as `PositionLoss` does on the whole probe
/// sequence, though it scores the first reading only once for all distances.
@Suite struct RepeatProbeTests {
    @Test func readingsEqualPositionLossOnEachProbeSequence() throws {
        let model = StreamingFixtures.model(StreamingFixtures.config)
        let text = StreamingFixtures.tokens(60)
        let readings = try RepeatProbe.measure(
            text: text, bos: 256, passage: 8, distances: [20, 2, 100],
            makeSession: { try StreamingSession(model: model) })
        #expect(readings.map(\.distance) == [2, 20])  // 100: the text is too short
        for reading in readings {
            let tokens = try #require(
                RepeatProbe.sequence(text: text, bos: 256, passage: 8, distance: reading.distance))
            #expect(tokens.count == 1 + 8 + reading.distance + 8)
            #expect(Array(tokens[1..<9]) == Array(tokens[(9 + reading.distance)...]))
            let direct = try PositionLoss.measure(
                session: StreamingSession(model: model), tokens: tokens,
                positions: [1, 9 + reading.distance], window: 8)
            // Prefill blocks differ (one block vs. prefill, decode, prefill): float rounding.
            #expect(abs(direct[0].bitsPerByte - reading.firstBitsPerByte) < 1e-5)
            #expect(abs(direct[1].bitsPerByte - reading.repeatBitsPerByte) < 1e-5)
        }
    }
}
