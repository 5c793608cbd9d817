import Foundation
import HSACore
import HSAModel
import Testing

/// `attention: landmark` in config.json and the model flags: its two fields round-trip, files
/// from before them still load, and bad values name their field.
@Suite struct LandmarkConfigTests {
    static var landmark: ModelConfig {
        var config = ModelConfig.tiny
        config.attention = .landmark
        config.landmarkBlock = 15
        config.landmarkRope = true
        return config
    }

    @Test func roundTripsThroughJSON() throws {
        let config = Self.landmark
        let text = String(decoding: try config.encoded(), as: UTF8.self)
        #expect(text.contains("\"attention\" : \"landmark\""))
        #expect(text.contains("\"landmark_block\" : 15"))
        #expect(text.contains("\"landmark_rope\" : true"))
        #expect(try ModelConfig.decode(config.encoded(), source: "c.json") == config)
    }

    /// A config.json written before the landmark fields (the first format) loads with S 63 and
    /// NoPE, and is otherwise the same model.
    @Test func aConfigFromBeforeTheFieldsLoads() throws {
        var object = try #require(
            JSONSerialization.jsonObject(with: ModelConfig.tiny.encoded()) as? [String: Any])
        // Every field added since the first format (the landmark ones and later ones).
        for key in ModelConfig.addedFieldDefaults.keys { object.removeValue(forKey: key) }
        #expect(Set(object.keys) == ModelConfig.formatOneFields.subtracting(["retrieval_dim"]))
        let old = try ModelConfig.decode(
            JSONSerialization.data(withJSONObject: object), source: "old.json")
        #expect(old == .tiny)
        #expect(old.landmarkBlock == 63)
        #expect(!old.landmarkRope)
        #expect(old.usesRoPE)
    }

    @Test func badValuesNameTheirField() throws {
        var zero = Self.landmark
        zero.landmarkBlock = 0
        #expect(throws: ConfigError.self) { try zero.validate() }
        do {
            try zero.validate()
        } catch let error as ConfigError {
            #expect(error.description.contains("landmark_block"))
        }
        // Unused by the other kinds, but a mistyped value is still refused.
        var other = ModelConfig.tiny
        other.landmarkBlock = -1
        #expect(throws: ConfigError.self) { try other.validate() }
        var fractional = try #require(
            JSONSerialization.jsonObject(with: Self.landmark.encoded()) as? [String: Any])
        fractional["landmark_block"] = 1.5
        #expect(throws: ConfigError.self) {
            try ModelConfig.decode(
                JSONSerialization.data(withJSONObject: fractional), source: "c.json")
        }
    }

    /// What `--attention landmark --landmark-block 31 --landmark-rope true` sets.
    @Test func modelFlagsSetTheFields() throws {
        var overrides = ModelConfigOverrides()
        overrides.attention = "landmark"
        overrides.landmarkBlock = 31
        overrides.landmarkRope = true
        let config = try overrides.applied(to: .tiny)
        #expect(config.attention == .landmark)
        #expect(config.landmarkBlock == 31)
        #expect(config.usesRoPE)
        #expect(!config.usesHSA)
        #expect(ParameterLayout(config: config).spec(named: "encoder.norm.weight") == nil)
    }
}
