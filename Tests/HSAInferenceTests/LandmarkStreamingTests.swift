import Foundation
import HSA
import Testing

/// Streaming inference has no landmark support yet: sessions for an `attention: landmark`
/// model are refused with one line instead of running its layers as some other attention.
@Suite struct LandmarkStreamingTests {
    @Test func aLandmarkModelIsRefusedWithOneLine() throws {
        var config = ModelConfig.tiny
        config.attention = .landmark
        config.landmarkBlock = 8
        let model = LanguageModel(config: config, seed: 1)
        let expected = InferenceError.streamingUnsupported(attention: "landmark")
        #expect(throws: expected) { try StreamingSession(model: model) }
        #expect(throws: expected) { try StreamingSession.checkSupported(config) }
        #expect(!expected.description.contains("\n"))
        #expect(expected.description.contains("landmark"))
        // Other kinds still stream.
        var full = config
        full.attention = .full
        _ = try StreamingSession(model: LanguageModel(config: full, seed: 1))
    }
}
