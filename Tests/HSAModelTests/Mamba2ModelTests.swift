import Foundation
import HSACore
import HSAModel
import HSATestSupport
import Testing

/// `mixer: mamba2`: its config fields round-trip and default for older files, its layers are
/// Mamba2 layers with Mamba2's initialisation and no attention, HSA or chunk memory, and its
/// logits are causal (also across the SSD scan's chunk boundaries).
@Suite struct Mamba2ModelTests {
    static let mamba2 = ModelConfig.tinyMamba2(chunkLength: 4)

    @Test func roundTripsThroughJSON() throws {
        var config = Self.mamba2
        config.mambaGroups = 2
        config.mambaExpand = 3
        config.mambaConvKernel = 3
        let text = String(decoding: try config.encoded(), as: UTF8.self)
        #expect(text.contains("\"mixer\" : \"mamba2\""))
        #expect(text.contains("\"mamba_state_dim\" : 8"))
        #expect(text.contains("\"mamba_head_dim\" : 16"))
        #expect(text.contains("\"mamba_expand\" : 3"))
        #expect(text.contains("\"mamba_groups\" : 2"))
        #expect(text.contains("\"mamba_conv_kernel\" : 3"))
        #expect(text.contains("\"mamba_chunk_length\" : 4"))
        #expect(try ModelConfig.decode(config.encoded(), source: "c.json") == config)
    }

    /// A config.json from before the fields is an attention model with the default sizes.
    @Test func aConfigFromBeforeTheFieldsLoads() throws {
        var object = try #require(
            JSONSerialization.jsonObject(with: ModelConfig.tiny.encoded()) as? [String: Any])
        for key in [
            "mixer", "mamba_state_dim", "mamba_head_dim", "mamba_expand", "mamba_groups",
            "mamba_conv_kernel", "mamba_chunk_length",
        ] {
            #expect(object.removeValue(forKey: key) != nil, "\(key) is written")
        }
        let old = try ModelConfig.decode(
            JSONSerialization.data(withJSONObject: object), source: "old.json")
        #expect(old == .tiny)
        #expect(old.mixer == .attention && !old.usesMamba2)
        #expect(old.mambaStateDim == 64 && old.mambaHeadDim == 32 && old.mambaExpand == 2)
        #expect(old.mambaGroups == 1 && old.mambaConvKernel == 4 && old.mambaChunkLength == 64)
    }

    @Test func badSizesNameTheirField() throws {
        func rejected(_ change: (inout ModelConfig) -> Void, _ field: String) {
            var config = Self.mamba2
            change(&config)
            do {
                try config.validate()
                Issue.record("\(field) accepted")
            } catch let error as ConfigError {
                #expect(error.description.contains(field), "\(error)")
            } catch { Issue.record("\(error)") }
        }
        rejected({ $0.mambaHeadDim = 24 }, "mamba_head_dim")  // 64 % 24 != 0
        rejected({ $0.mambaGroups = 3 }, "mamba_groups")  // 4 heads
        rejected({ $0.mambaStateDim = 0 }, "mamba_state_dim")
        rejected({ $0.mambaConvKernel = 0 }, "mamba_conv_kernel")
        rejected({ $0.mambaChunkLength = 0 }, "mamba_chunk_length")
        var overrides = ModelConfigOverrides()
        overrides.mixer = "mamba3"
        #expect(throws: ConfigError.self) { try overrides.applied(to: .tiny) }
    }

    /// `--mixer mamba2` on the tiny preset (attention hsa): the HSA fields are ignored, every
    /// layer has the Mamba2 tensors, and nothing of attention, HSA or the encoder is left.
    @Test func layersAreMamba2WithMamba2Initialisation() throws {
        var overrides = ModelConfigOverrides()
        overrides.mixer = "mamba2"
        let config = try overrides.applied(to: .tiny)
        #expect(config.usesMamba2 && !config.usesHSA && config.attention == .hsa)
        let (e, h) = (config.dModel * 2, config.dModel * 2 / 32)
        let model = LanguageModel(config: config, seed: 3)
        let names = model.layout.specs.map(\.name)
        #expect(!names.contains { $0.contains("attn") || $0.contains("hsa") })
        #expect(!names.contains { $0.hasPrefix("encoder") })
        for prefix in ["lower.0", "upper.0"] {
            let spec = { (name: String) in model.layout.spec(named: "\(prefix).mixer.\(name)") }
            #expect(spec("in_proj.weight")?.shape == [2 * e + 2 * 64 + h, config.dModel])
            #expect(spec("conv1d.weight")?.shape == [e + 2 * 64, 4])
            #expect(spec("out_proj.weight")?.shape == [config.dModel, e])
            #expect(spec("norm.weight")?.shape == [e])
            let aLog = model.parameters.tensor("\(prefix).mixer.A_log").toArray()
            #expect(aLog.allSatisfy { $0 >= 0 && $0 <= log(16) + 1e-6 })
            let dt = model.parameters.tensor("\(prefix).mixer.dt_bias").toArray().map {
                log1p(exp(Double($0)))
            }
            #expect(dt.allSatisfy { $0 >= 0.001 * 0.999 && $0 <= 0.1 * 1.001 }, "\(dt)")
            #expect(Set(dt).count == h)  // drawn, not constant
            #expect(model.parameters.tensor("\(prefix).mixer.D").toArray().allSatisfy { $0 == 1 })
            let conv = model.parameters.tensor("\(prefix).mixer.conv1d.weight").toArray()
            #expect(conv.allSatisfy { abs($0) <= 0.5 } && conv.contains { abs($0) > 0.25 })
        }
    }

    /// Changing later tokens never changes earlier logits (conv and scan are causal, also
    /// across chunks of L = 4), and the change is seen from the changed token on.
    @Test func logitsAreCausal() throws {
        let length = 23
        let model = LanguageModel(config: Self.mamba2, seed: 5)
        var rng = SplitMix64(seed: 2)
        let tokens = (0..<length).map { _ in Int32(rng.next() % 259) }
        let base = model.forward(tokens: tokens, batch: 1, sequenceLength: length).logits.toArray()
        let v = model.config.vocabSize
        for cut in [1, 4, 9, 15, 22] {
            var changed = tokens
            for t in cut..<length { changed[t] = (changed[t] + 1) % Int32(v) }
            let logits = model.forward(tokens: changed, batch: 1, sequenceLength: length).logits
                .toArray()
            #expect(Array(logits[0..<(cut * v)]) == Array(base[0..<(cut * v)]), "cut \(cut)")
            #expect(Array(logits[(cut * v)...]) != Array(base[(cut * v)...]), "cut \(cut)")
        }
        // The far past reaches the last token through the state (not only the conv window).
        var first = tokens
        first[0] = (first[0] + 1) % Int32(v)
        let logits = model.forward(tokens: first, batch: 1, sequenceLength: length).logits
            .toArray()
        #expect(Array(logits[((length - 1) * v)...]) != Array(base[((length - 1) * v)...]))
    }
}
