import Foundation
import HSA
import Testing

/// Streaming inference has no recurrent Mamba2 form yet: sessions for a `mixer: mamba2` model
/// are refused with one line instead of running layers it does not have.
@Suite struct Mamba2StreamingTests {
    @Test func aMamba2ModelIsRefusedWithOneLine() throws {
        var config = ModelConfig.tiny
        config.mixer = .mamba2
        config.mambaStateDim = 8
        config.mambaHeadDim = 16
        let model = LanguageModel(config: config, seed: 1)
        let expected = InferenceError.streamingUnsupportedMixer("mamba2")
        #expect(throws: expected) { try StreamingSession(model: model) }
        #expect(throws: expected) { try StreamingSession.checkSupported(config) }
        #expect(!expected.description.contains("\n"))
        #expect(expected.description.contains("mixer 'mamba2'"))
        // The same config with the attention mixer still streams.
        config.mixer = .attention
        _ = try StreamingSession(model: LanguageModel(config: config, seed: 1))
    }
}
