import HSACPU
import HSACore
import HSAModel

/// AdamW over every parameter of a model (β 0.9/0.95, decoupled weight decay on matrices only)
/// with global gradient-norm clipping, as in docs/MODEL-NOTES.md "Training step".
public final class AdamWOptimizer: @unchecked Sendable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.95
    public var epsilon: Float = 1e-8
    public var weightDecay: Float
    /// Weight decay of the retrieval path's matrices (`isRetrievalPath`); nil: `weightDecay`.
    public var retrievalWeightDecay: Float?
    /// The retrieval path's learning rate as a multiple of the step's (1: the same).
    public var retrievalLearningRateScale: Float = 1
    /// Clip the global gradient norm to this value; nil disables clipping.
    public var maxGradientNorm: Float?
    /// First and second moments, same layout as the parameters.
    public let m: ParameterStore
    public let v: ParameterStore
    /// Updates taken so far (AdamW's bias correction uses step + 1).
    public var step: Int = 0
    /// The parameters this optimizer updates (nil: all). The others stay exactly as they are:
    /// their gradients are zeroed before the norm and clipping, and no weight decay applies.
    public var trainableNames: Set<String>?

    /// The backend the update runs on: `ComputeBackends.current`, else the CPU.
    private static var backend: any ComputeBackend {
        ComputeBackends.current ?? CPUBackend.shared
    }

    public init(layout: ParameterLayout, weightDecay: Float = 0.1, maxGradientNorm: Float? = 1.0) {
        self.weightDecay = weightDecay
        self.maxGradientNorm = maxGradientNorm
        m = ParameterStore(layout: layout)
        v = ParameterStore(layout: layout)
    }

    /// Whether a parameter belongs to the retrieval path: the chunk encoder (`encoder.`) or an
    /// HSA sublayer (`upper.N.hsa.`).
    public static func isRetrievalPath(_ name: String) -> Bool {
        name.hasPrefix("encoder.") || name.contains(".hsa.")
    }

    /// The weight decay applied to the matrix `name`.
    func decay(of name: String) -> Float {
        guard let retrievalWeightDecay, Self.isRetrievalPath(name) else { return weightDecay }
        return retrievalWeightDecay
    }

    /// The L2 norm of all gradients (accumulated in Double).
    public static func gradientNorm(_ gradients: ParameterStore) -> Double {
        backend.sumOfSquares(gradients.storage.data, count: gradients.storage.count)
            .squareRoot()
    }

    /// Zeroes the gradients of frozen parameters (`trainableNames`) and returns the global norm
    /// of what is left: the norm that `update(parameters:gradients:gradientNorm:learningRate:)`
    /// clips with. Split from the update so the trainer can check it is finite first.
    public func prepareGradients(_ gradients: ParameterStore) -> Double {
        let layout = gradients.layout
        if let trainableNames {
            for spec in layout.specs where !trainableNames.contains(spec.name) {
                guard let offset = layout.offsets[spec.name] else { continue }
                gradients.storage.allocator.zero(
                    gradients.storage.data + offset, count: spec.count)
            }
        }
        return Self.gradientNorm(gradients)
    }

    /// Clips, then applies one update with `learningRate`. Returns the pre-clip gradient norm.
    @discardableResult
    public func update(
        parameters: ParameterStore, gradients: ParameterStore, learningRate: Float
    ) -> Double {
        let norm = prepareGradients(gradients)
        update(
            parameters: parameters, gradients: gradients, gradientNorm: norm,
            learningRate: learningRate)
        return norm
    }

    /// Clips to `maxGradientNorm`, then applies one update with `learningRate`, given the
    /// `gradientNorm` that `prepareGradients` returned for these gradients.
    public func update(
        parameters: ParameterStore, gradients: ParameterStore, gradientNorm norm: Double,
        learningRate: Float
    ) {
        if let maxGradientNorm {
            let scale = min(1, maxGradientNorm / Float(norm + 1e-6))
            if scale < 1 {
                Self.backend.scale(
                    gradients.storage.data, by: scale, count: gradients.storage.count)
            }
        }
        step += 1
        let backend = Self.backend
        let layout = parameters.layout
        for spec in layout.specs where trainableNames?.contains(spec.name) ?? true {
            guard let offset = layout.offsets[spec.name] else { continue }
            backend.adamWUpdate(
                parameters: parameters.storage.data + offset,
                gradients: gradients.storage.data + offset, m: m.storage.data + offset,
                v: v.storage.data + offset, count: spec.count,
                learningRate: Self.isRetrievalPath(spec.name)
                    ? learningRate * retrievalLearningRateScale : learningRate,
                beta1: beta1, beta2: beta2, epsilon: epsilon,
                weightDecay: spec.decays ? decay(of: spec.name) : 0, step: step)
        }
    }
}
