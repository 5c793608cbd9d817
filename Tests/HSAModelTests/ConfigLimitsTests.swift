import Foundation
import HSAModel
import Testing

/// Every size field of config.json has an upper bound (`ModelLimits`): an absurd value is one
/// error naming the file, the field and the range, never an overflow trap or an allocation.
@Suite struct ConfigLimitsTests {
    /// (field, bad value, text the error must contain)
    @Test(arguments: [
        ("chunk_size", 1 << 62, "chunk_size': must be in 1...16777216"),
        ("d_model", 1_000_000_000, "d_model': must be in 1...65536"),
        ("n_heads", 1 << 40, "n_heads': must be in 1...1024"),
        ("n_kv_heads", -1, "n_kv_heads': must be in 1...1024"),
        ("head_dim", 1 << 20, "head_dim': must be in 1...65536"),
        ("d_ff", Int.max, "d_ff': must be in 1...262144"),
        ("n_lower_layers", 100_000_000, "n_lower_layers': must be in 0...1024"),
        ("n_upper_layers", -3, "n_upper_layers': must be in 0...1024"),
        ("encoder_layers", 5000, "encoder_layers': must be in 0...1024"),
        ("window", 1 << 30, "window': must be in 1...16777216"),
        ("top_k", 1 << 20, "top_k': must be in 1...4096"),
        ("vocab_size", 1 << 32, "vocab_size': must be in 1...16777216"),
        ("retrieval_dim", 1 << 17, "retrieval_dim': must be in 1...65536"),
        ("max_train_len", 0, "max_train_len': must be in 1...16777216"),
    ])
    func sizeOutOfRangeNamesTheFieldAndTheRange(field: String, value: Int, message: String)
        throws
    {
        let data = try ConfigTests.json { $0[field] = value }
        do {
            _ = try ModelConfig.decode(data, source: "c.json")
            Issue.record("\(field) = \(value) was accepted")
        } catch {
            let text = "\(error)"
            #expect(text.hasPrefix("c.json: config field '"), "\(text)")
            #expect(text.contains(message), "\(text)")
        }
    }

    /// Each size within its bound, the product too large: refused by the parameter count.
    @Test func tooManyParametersIsRefused() throws {
        var config = ModelConfig.tiny
        config.vocabSize = ModelLimits.vocabSize
        config.dModel = ModelLimits.width
        do {
            try config.validate()
            Issue.record("a model of \(config.dModel) × \(config.vocabSize) was accepted")
        } catch let error as ConfigError {
            guard case .tooManyParameters(let count, let limit) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(limit == 1 << 34)
            #expect((count ?? 0) > limit)
            #expect("\(error)".contains("more than the limit of 17179869184"), "\(error)")
        }
    }

    @Test func retrievedTokensAreBounded() throws {
        var config = ModelConfig.tiny
        config.topK = 4096
        config.chunkSize = 8192
        #expect(throws: ConfigError.self) { try config.validate() }
    }

    /// The bounds are generous: the presets and a 7B-sized model pass.
    @Test func realisticSizesPass() throws {
        for name in ModelConfig.presetNames { try ModelConfig.preset(named: name).validate() }
        var large = ModelConfig.paper
        large.vocabSize = 128_000
        large.dModel = 4096
        large.nHeads = 32
        large.nKvHeads = 8
        large.headDim = 128
        large.dFf = 14_336
        large.nLowerLayers = 16
        large.nUpperLayers = 16
        large.window = 8192
        large.maxTrainLen = 131_072
        try large.validate()
    }

    /// Without HSA the chunk fields may be 0 but keep their upper bound.
    @Test func chunkFieldsKeepTheirBoundWithoutHSA() throws {
        var config = ModelConfig.tiny
        config.attention = .swa
        config.chunkSize = 0
        try config.validate()
        config.chunkSize = 1 << 62
        #expect(throws: ConfigError.self) { try config.validate() }
    }
}
