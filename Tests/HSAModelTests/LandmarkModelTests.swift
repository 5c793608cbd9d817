import HSACore
import HSAModel
import HSATestSupport
import Testing

/// `attention: landmark` end to end on the CPU: the inserted landmark rows change nothing when
/// no block completes, never leak later tokens, and pass gradient to `embed.landmark`.
/// (Finite-difference checks of every tensor: ModelGradientTests' landmark knobs.)
@Suite struct LandmarkModelTests {
    /// Tiny, 1+1 layers, with landmark attention and S = `block`.
    static func config(block: Int, rope: Bool) -> ModelConfig {
        var config = ModelConfig.tiny
        config.attention = .landmark
        config.landmarkBlock = block
        config.landmarkRope = rope
        return config
    }

    static func tokens(_ count: Int, seed: UInt64) -> [Int32] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in Int32(rng.next() % 259) }
    }

    /// With S > T no block completes, so no landmark is inserted and Landmark Attention is
    /// causal attention: with RoPE and the same weights, the logits are those of `full`. S = T
    /// inserts one landmark after the last token, which no token reads: still the same logits.
    /// S = T - 1 puts a landmark before the last token, whose logits then differ.
    @Test func withoutACompleteBlockItIsFullAttention() throws {
        let (batch, length) = (2, 20)
        var fullConfig = ModelConfig.tiny
        fullConfig.attention = .full
        let full = LanguageModel(config: fullConfig, seed: 9)
        let tokens = Self.tokens(batch * length, seed: 1)
        let v = fullConfig.vocabSize
        func compare(block: Int) -> (layerLength: Int, early: Float, lastRow: Float) {
            let landmark = LanguageModel(config: Self.config(block: block, rope: true), seed: 3)
            for spec in full.layout.specs {
                full.parameters.tensor(spec.name).copy(from: landmark.parameters.tensor(spec.name))
            }
            let a = landmark.forward(tokens: tokens, batch: batch, sequenceLength: length)
            let b = full.forward(tokens: tokens, batch: batch, sequenceLength: length)
            let (x, y) = (a.logits.toArray(), b.logits.toArray())
            var (early, lastRow): (Float, Float) = (0, 0)
            for i in 0..<x.count {
                let last = (i / v) % length == length - 1
                if last {
                    lastRow = max(lastRow, abs(x[i] - y[i]))
                } else {
                    early = max(early, abs(x[i] - y[i]))
                }
            }
            return (a.layerLength, early, lastRow)
        }
        let none = compare(block: length + 1)
        #expect(none.layerLength == length)
        #expect(none.early < 1e-4 && none.lastRow < 1e-4, "\(none)")
        let trailing = compare(block: length)
        #expect(trailing.layerLength == length + 1)
        #expect(trailing.early < 1e-4 && trailing.lastRow < 1e-4, "\(trailing)")
        let inserted = compare(block: length - 1)
        #expect(inserted.layerLength == length + 1)
        #expect(inserted.early < 1e-4 && inserted.lastRow > 1e-3, "\(inserted)")
    }

    /// Changing later tokens never changes earlier logits, across several blocks (rows are
    /// inserted and dropped in the right places, and a landmark closes only its own block).
    @Test(arguments: [false, true])
    func logitsAreCausal(rope: Bool) throws {
        let (length, block) = (23, 4)
        let model = LanguageModel(config: Self.config(block: block, rope: rope), seed: 5)
        let tokens = Self.tokens(length, seed: 2)
        let base = model.forward(tokens: tokens, batch: 1, sequenceLength: length).logits.toArray()
        let v = model.config.vocabSize
        for cut in [3, 4, 9, 15, 20] {
            var changed = tokens
            for t in cut..<length { changed[t] = (changed[t] + 1) % Int32(v) }
            let other = model.forward(tokens: changed, batch: 1, sequenceLength: length)
            let logits = other.logits.toArray()
            #expect(Array(logits[0..<(cut * v)]) == Array(base[0..<(cut * v)]), "cut \(cut)")
            // ...and the change is seen from the changed token on.
            #expect(Array(logits[(cut * v)...]) != Array(base[(cut * v)...]), "cut \(cut)")
        }
    }

    /// The landmark embedding is one (C) tensor right after `embed.weight`, only in landmark
    /// models, and its gradient (the sum over the landmark rows) is not zero.
    @Test func landmarkEmbeddingIsAParameterWithAGradient() throws {
        let config = Self.config(block: 4, rope: false)
        let model = LanguageModel(config: config, seed: 7)
        let names = model.layout.specs.map(\.name)
        let index = try #require(names.firstIndex(of: "embed.landmark"))
        #expect(names[index - 1] == "embed.weight")
        #expect(model.layout.spec(named: "embed.landmark")?.shape == [config.dModel])
        #expect(ParameterLayout(config: .tiny).spec(named: "embed.landmark") == nil)

        let tokens = Self.tokens(2 * 13, seed: 4)
        let targets = Self.tokens(2 * 13, seed: 6)
        let pass = model.forward(tokens: tokens, targets: targets, batch: 2, sequenceLength: 13)
        #expect(pass.layerLength == 13 + 3)
        #expect(pass.logits.shape == [2 * 13, config.vocabSize])
        model.zeroGradients()
        model.backward(pass)
        let gradient = model.gradients.tensor("embed.landmark").toArray()
        #expect(gradient.contains { $0 != 0 })
    }
}
