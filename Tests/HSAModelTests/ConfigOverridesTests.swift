import Foundation
import HSACore
import HSAModel
import Testing

/// Model flags on top of a preset or config file: given fields change, the rest stay, and a bad
/// value is an error naming its config field.
@Suite struct ConfigOverridesTests {
    @Test func givenFieldsChangeTheRestStay() throws {
        var overrides = ModelConfigOverrides()
        #expect(try overrides.applied(to: .small) == .small)
        overrides.dModel = 128
        overrides.hsaLayers = "1, 3"
        overrides.attention = "swa"
        overrides.fusion = "softmax"
        overrides.qkNorm = false
        overrides.vocabSize = 300
        let config = try overrides.applied(to: .small)
        var expected = ModelConfig.small
        expected.dModel = 128
        expected.hsaLayers = [1, 3]
        expected.attention = .swa
        expected.fusion = .softmax
        expected.qkNorm = false
        expected.vocabSize = 300
        #expect(config == expected)
    }

    @Test func badValuesNameTheirField() {
        var landmark = ModelConfigOverrides()
        landmark.landmark = "max"
        #expect(throws: ConfigError.invalid(field: "landmark", reason: "unknown value 'max'")) {
            try landmark.applied(to: .tiny)
        }
        var layers = ModelConfigOverrides()
        layers.hsaLayers = "0,x"
        #expect(
            throws: ConfigError.invalid(field: "hsa_layers", reason: "expected integers, got '0,x'")
        ) { try layers.applied(to: .tiny) }
        // The result is validated: a layer index past the upper layers is refused.
        var outside = ModelConfigOverrides()
        outside.hsaLayers = "7"
        #expect(throws: ConfigError.self) { try outside.applied(to: .tiny) }
    }

    @Test func sourcesLoadAPresetOrAFile() throws {
        #expect(try ModelConfigSource.default.load() == .tiny)
        #expect(try ModelConfigSource.preset("small").load() == .small)
        #expect(throws: ConfigError.unknownPreset("huge")) {
            try ModelConfigSource.preset("huge").load()
        }
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("hsa-config-source-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try ModelConfig.paper.encoded().write(to: url)
        #expect(try ModelConfigSource.file(url).load() == .paper)
    }
}
