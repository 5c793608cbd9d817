import Foundation
import HSAModel

/// Everything about a training run that is not the model config; stored as `training.json`.
public struct TrainingOptions: Codable, Sendable, Equatable {
    public var steps: Int = 200
    public var batchSize: Int = 4
    public var sequenceLength: Int = 256
    /// Micro-batches per optimizer step.
    public var gradientAccumulation: Int = 1
    public var learningRate: Double = 1e-3
    public var minLearningRate: Double = 1e-4
    public var warmupSteps: Int = 20
    public var weightDecay: Double = 0.1
    /// Weight decay of the retrieval path (`AdamWOptimizer.isRetrievalPath`: the chunk encoder
    /// and the HSA sublayers), which gets little gradient early and is otherwise decayed away
    /// before it is used (docs/RESULTS.md entry 4). nil (absent in older files): `weightDecay`.
    public var retrievalWeightDecay: Double?
    /// The retrieval path's learning rate as a multiple of the schedule's: below 1 it keeps
    /// a retriever that already works from being overwritten while the rest of the model
    /// trains on (docs/RESULTS.md entry 26). nil (absent in older files): 1.
    public var retrievalLearningRateScale: Double?
    /// Global gradient-norm clip; 0 disables it.
    public var gradientClip: Double = 1.0
    /// Validate every this many steps (0: never).
    public var evalEvery: Int = 50
    public var evalBatches: Int = 4
    /// Checkpoint every this many steps (0: only at the end).
    public var checkpointEvery: Int = 100
    /// Checkpoints kept; older ones are deleted.
    public var keepCheckpoints: Int = 2
    /// Shard size limit for checkpoint files (nil: one file).
    public var maxShardBytes: Int?
    public var seed: UInt64 = 1234
    /// Start training windows at document starts (BOS) instead of every T tokens, so packed task
    /// samples are never cut from their beginning. nil (absent in older files) means false.
    public var documentAligned: Bool?
    /// Feed each batch row consecutive segments of its own lane of the data and carry the
    /// `mixer: mamba2` states from one step to the next (`TokenLaneLoader`,
    /// `CarriedMamba2States`). nil (absent in older files) means false.
    public var statePassing: Bool?
    /// Ignore the shards' loss masks: every next token counts (language-model loss on task
    /// mixtures). nil (absent in older files) means false.
    public var lossOnAllTokens: Bool?
    /// Train only the parameters whose names start with one of these prefixes (e.g.
    /// `encoder.`, `upper.0.hsa.`); the rest stay frozen. nil (absent in older files): all.
    public var trainOnly: [String]?
    /// What a step with a NaN or infinite loss or gradient norm does (`NonFinitePolicy`).
    /// nil (absent in older files) means `.stop`.
    public var onNonFinite: NonFinitePolicy?
    /// Under `.skip`: the most consecutive steps skipped before the run stops.
    /// nil (absent in older files) means `defaultMaxSkippedSteps`.
    public var maxSkippedSteps: Int?
    /// A fingerprint of the training data (`DataManifest.identity`), so that `--resume`
    /// notices other data. nil (absent in older files, or data without a manifest): unknown,
    /// never compared.
    public var dataIdentity: String?

    /// `maxSkippedSteps` when none is given.
    public static let defaultMaxSkippedSteps = 10

    public init() {}

    enum CodingKeys: String, CodingKey {
        case steps
        case batchSize = "batch_size"
        case sequenceLength = "seq_len"
        case gradientAccumulation = "grad_accum"
        case learningRate = "lr"
        case minLearningRate = "min_lr"
        case warmupSteps = "warmup_steps"
        case weightDecay = "weight_decay"
        case retrievalWeightDecay = "retrieval_weight_decay"
        case retrievalLearningRateScale = "retrieval_lr_scale"
        case gradientClip = "grad_clip"
        case evalEvery = "eval_every"
        case evalBatches = "eval_batches"
        case checkpointEvery = "checkpoint_every"
        case keepCheckpoints = "keep_checkpoints"
        case maxShardBytes = "max_shard_bytes"
        case seed
        case documentAligned = "document_aligned"
        case statePassing = "state_passing"
        case lossOnAllTokens = "loss_on_all_tokens"
        case trainOnly = "train_only"
        case onNonFinite = "on_nonfinite"
        case maxSkippedSteps = "max_skipped_steps"
        case dataIdentity = "data_identity"
    }

    /// The parameter names `trainOnly` selects in `layout` (nil: train everything).
    /// - Throws: `TrainingOptionsError.unmatchedPrefix` for a prefix that names no parameter.
    public func trainableNames(in layout: ParameterLayout) throws -> Set<String>? {
        guard let trainOnly else { return nil }
        var names = Set<String>()
        for prefix in trainOnly {
            let matching = layout.specs.map(\.name).filter { $0.hasPrefix(prefix) }
            guard !matching.isEmpty else { throw TrainingOptionsError.unmatchedPrefix(prefix) }
            names.formUnion(matching)
        }
        return names
    }

    /// Throws `TrainingOptionsError.statePassingNeedsMamba2` when `statePassing` is on for a
    /// model that is not `mixer: mamba2` (it has no state to carry).
    public func requireStatePassingFits(_ config: ModelConfig) throws {
        if statePassing == true, config.mixer != .mamba2 {
            throw TrainingOptionsError.statePassingNeedsMamba2(mixer: config.mixer.rawValue)
        }
    }

    /// The warm-up + cosine schedule these options describe.
    public var schedule: LearningRateSchedule {
        LearningRateSchedule(
            peak: learningRate, minimum: minLearningRate, warmupSteps: warmupSteps,
            totalSteps: steps)
    }
}

/// Training options that do not fit the model they train.
public enum TrainingOptionsError: Error, CustomStringConvertible, Equatable {
    /// A `train_only` prefix that names no parameter of the model.
    case unmatchedPrefix(String)
    /// `state_passing` for a model without recurrent state to carry.
    case statePassingNeedsMamba2(mixer: String)

    public var description: String {
        switch self {
        case .unmatchedPrefix(let prefix):
            return "train_only: no parameter name starts with '\(prefix)' "
                + "(`hsa inspect --tensors` lists them)"
        case .statePassingNeedsMamba2(let mixer):
            return "--state-passing carries Mamba2 states across training segments; it needs "
                + "a mixer: mamba2 model (--mixer mamba2), not mixer: \(mixer)"
        }
    }
}
