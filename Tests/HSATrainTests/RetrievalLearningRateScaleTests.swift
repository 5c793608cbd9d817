import HSA
import HSATestSupport
import Testing

/// `TrainingOptions.retrievalLearningRateScale`: the chunk encoder and HSA sublayers step at
/// a multiple of the learning rate, every other parameter at the rate itself.
@Suite struct RetrievalLearningRateScaleTests {
    /// Each parameter's change in one AdamW step (no decay, no clipping) with `scale`.
    private static func stepChanges(scale: Float) -> [String: [Float]] {
        let model = LanguageModel(config: .tiny, seed: 5)
        let before = model.parameters.storage.toArray()
        // Any fixed, non-zero gradient will do: the parameters themselves.
        model.gradients.storage.copy(from: model.parameters.storage)
        let optimizer = AdamWOptimizer(layout: model.layout, weightDecay: 0, maxGradientNorm: nil)
        optimizer.retrievalLearningRateScale = scale
        optimizer.update(
            parameters: model.parameters, gradients: model.gradients, learningRate: 0.01)
        let after = model.parameters.storage.toArray()
        var changes: [String: [Float]] = [:]
        for spec in model.layout.specs {
            let offset = model.layout.offsets[spec.name]!
            changes[spec.name] = (offset..<offset + spec.count).map { after[$0] - before[$0] }
        }
        return changes
    }

    @Test func theRetrievalPathStepsAtItsScaleAndTheRestAtTheRate() {
        let full = Self.stepChanges(scale: 1)
        let tenth = Self.stepChanges(scale: 0.1)
        let frozen = Self.stepChanges(scale: 0)
        // Zero-initialised parameters have a zero gradient here and do not move.
        let moved = full.filter { $0.value.contains { $0 != 0 } }
        #expect(moved.keys.contains(where: AdamWOptimizer.isRetrievalPath))
        for (name, change) in moved {
            let largest = change.map(abs).max() ?? 0
            if AdamWOptimizer.isRetrievalPath(name) {
                let error = zip(change, tenth[name]!).map { abs($0 * 0.1 - $1) }.max() ?? 0
                #expect(error <= largest * 1e-3, "\(name): not a tenth of the step")
                #expect(frozen[name]!.allSatisfy { $0 == 0 }, "\(name) moved at scale 0")
            } else {
                #expect(tenth[name] == change, "\(name)")
                #expect(frozen[name] == change, "\(name)")
            }
        }
    }
}
