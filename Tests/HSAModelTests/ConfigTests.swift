import Foundation
import HSACore
import HSAModel
import Testing

/// config.json parsing and validation: every bad input gets an error naming the field.
@Suite struct ConfigTests {
    static func json(_ change: (inout [String: Any]) -> Void) throws -> Data {
        var object = try #require(
            JSONSerialization.jsonObject(with: ModelConfig.tiny.encoded()) as? [String: Any])
        change(&object)
        return try JSONSerialization.data(withJSONObject: object)
    }

    @Test func roundTripsThroughJSON() throws {
        for name in ModelConfig.presetNames {
            let config = try ModelConfig.preset(named: name)
            #expect(try ModelConfig.decode(config.encoded(), source: name) == config)
        }
    }

    /// Every written field is either one of the first format's or has a default for files
    /// written before it, and such a file loads with that default: a new field that is in
    /// neither list fails here, before it breaks old checkpoints.
    @Test func everyFieldIsInTheFirstFormatOrHasADefault() throws {
        var config = ModelConfig.tiny
        config.retrievalDim = 32  // written only when set
        let object = try #require(
            JSONSerialization.jsonObject(with: config.encoded()) as? [String: Any])
        let added = Set(ModelConfig.addedFieldDefaults.keys)
        #expect(ModelConfig.formatOneFields.isDisjoint(with: added))
        #expect(Set(object.keys) == ModelConfig.formatOneFields.union(added))
        for (field, value) in ModelConfig.addedFieldDefaults {
            var older = object
            older.removeValue(forKey: field)
            var expected = object
            expected[field] = value
            #expect(
                try ModelConfig.decode(JSONSerialization.data(withJSONObject: older), source: field)
                    == ModelConfig.decode(
                        JSONSerialization.data(withJSONObject: expected), source: field))
        }
        var missing = object
        missing.removeValue(forKey: "top_k")  // a first-format field stays required
        #expect(throws: ConfigError.self) {
            try ModelConfig.decode(JSONSerialization.data(withJSONObject: missing), source: "c")
        }
    }

    /// YaRN is set at evaluation and never written: a saved config is the trained model's.
    @Test func yarnIsNotWrittenToConfigJSON() throws {
        var config = ModelConfig.tiny
        config.attention = .full
        config.yarn = YaRNScaling(factor: 4, originalLength: 256)
        #expect(config.rotaryEmbedding.yarn?.factor == 4)
        let text = String(decoding: try config.encoded(), as: UTF8.self)
        #expect(!text.contains("yarn"))
        #expect(try ModelConfig.decode(config.encoded(), source: "c.json").yarn == nil)
    }

    @Test func rejectsUnknownFields() throws {
        let data = try Self.json { $0["windoww"] = 3 }
        #expect(throws: ConfigError.unknownFields(file: "c.json", fields: ["windoww"])) {
            try ModelConfig.decode(data, source: "c.json")
        }
    }

    /// (field, its bad value as JSON, the field the error must name)
    @Test(arguments: [
        ("n_kv_heads", "3", "n_kv_heads"),
        ("head_dim", "15", "head_dim"),
        ("hsa_layers", "[5]", "hsa_layers"),
        ("landmark", "\"median\"", "landmark"),
        ("encoder_layers", "0", "landmark"),
        ("fusion", "3", "fusion"),
        ("retrieval_dim", "0", "retrieval_dim"),
        ("d_model", "1.5", "config field 'd_model': must be an integer, got 1.5"),
        ("window", "1e30", "config field 'window': must be an integer, got 1e+30"),
        ("hsa_layers", "[0.5]", "config field 'hsa_layers': must be an integer"),
    ])
    func rejectsInvalidValuesNamingTheField(field: String, value: String, named: String) throws {
        let parsed = try JSONSerialization.jsonObject(
            with: Data(value.utf8), options: .fragmentsAllowed)
        let data = try Self.json { $0[field] = parsed }
        do {
            _ = try ModelConfig.decode(data, source: "c.json")
            Issue.record("\(field) = \(value) was accepted")
        } catch {
            #expect("\(error)".contains(named), "\(error)")
        }
    }

    @Test func rejectsMissingFieldsAndBadJSON() throws {
        let missing = try Self.json { $0.removeValue(forKey: "d_model") }
        #expect(throws: ConfigError.self) { try ModelConfig.decode(missing, source: "c.json") }
        #expect(throws: ConfigError.self) {
            try ModelConfig.decode(Data("{".utf8), source: "c.json")
        }
    }

    @Test func presetCountsMatchTheSpec() throws {
        // `paper` is about 240M parameters with a 32K vocabulary (MODEL.md; 283M untied).
        var paper = ModelConfig.paper
        paper.vocabSize = 32_000
        let count = ParameterLayout(config: paper).totalCount
        #expect((230_000_000...290_000_000).contains(count), "\(count)")
    }
}
