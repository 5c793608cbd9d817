import Foundation
import HSA
import HSATestSupport
import Testing

/// `TrainingOptions.retrievalWeightDecay`: the chunk encoder and HSA sublayers decay at their
/// own rate, every other matrix at `weightDecay`.
@Suite struct RetrievalWeightDecayTests {
    @Test func theRetrievalPathIsNamedByEncoderAndHSAPrefixes() {
        #expect(AdamWOptimizer.isRetrievalPath("encoder.layers.0.attn.q_proj.weight"))
        #expect(AdamWOptimizer.isRetrievalPath("upper.2.hsa.o_proj.weight"))
        #expect(!AdamWOptimizer.isRetrievalPath("upper.2.attn.o_proj.weight"))
        #expect(!AdamWOptimizer.isRetrievalPath("lower.0.mlp.up_proj.weight"))
    }

    /// With zero gradients an AdamW step only decays: retrieval matrices keep their values
    /// under a retrieval decay of 0 while the other matrices shrink.
    @Test func zeroRetrievalDecayLeavesOnlyTheRetrievalPathUndecayed() {
        let model = LanguageModel(config: .tiny, seed: 3)
        let before = ParameterStore(layout: model.layout)
        before.storage.copy(from: model.parameters.storage)
        model.zeroGradients()
        let optimizer = AdamWOptimizer(layout: model.layout, weightDecay: 0.5)
        optimizer.retrievalWeightDecay = 0
        optimizer.update(
            parameters: model.parameters, gradients: model.gradients, learningRate: 0.1)
        for spec in model.layout.specs where spec.decays {
            let same =
                before.tensor(spec.name).toArray() == model.parameters.tensor(spec.name).toArray()
            #expect(same == AdamWOptimizer.isRetrievalPath(spec.name), "\(spec.name)")
        }
    }

    @Test func olderOptionsWithoutTheFieldDecodeAsNil() throws {
        // training.json as written before the field existed: today's keys without it.
        let today = try JSONEncoder().encode(TrainingOptions())
        var object = try #require(try JSONSerialization.jsonObject(with: today) as? [String: Any])
        object["retrieval_weight_decay"] = nil
        let options = try JSONDecoder().decode(
            TrainingOptions.self, from: try JSONSerialization.data(withJSONObject: object))
        #expect(options.retrievalWeightDecay == nil)
    }
}
