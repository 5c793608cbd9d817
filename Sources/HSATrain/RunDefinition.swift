import Foundation
import HSAModel

/// What makes two invocations the same training run: the model config and the run-defining
/// training options (docs/RELIABILITY.md has the table). `--resume` compares the checkpoint's
/// definition with the new invocation's and refuses a difference unless told otherwise.
public struct RunDefinition: Sendable, Equatable {
    public var options: TrainingOptions
    public var model: ModelConfig

    public init(options: TrainingOptions, model: ModelConfig) {
        self.options = options
        self.model = model
    }

    /// One run-defining value that differs between a stored run and a new invocation.
    public struct Change: Sendable, Equatable, CustomStringConvertible {
        /// The option's `training.json` key, or `config.<key>` for a model config field.
        public var field: String
        public var stored: String
        public var new: String

        public init(field: String, stored: String, new: String) {
            self.field = field
            self.stored = stored
            self.new = new
        }

        public var description: String { "\(field): \(stored) → \(new)" }
    }

    /// A run-defining option: its `training.json` key and its value as text, or nil where
    /// the value is unknown (older files) and therefore not compared.
    struct DefiningOption: Sendable {
        let key: String
        let value: @Sendable (TrainingOptions) -> String?
    }

    /// Options that define the run: changing one mid-run changes what is being trained.
    /// Learning rate, warm-up, weight decay and clipping count too: they shaped the steps
    /// already taken, and a changed value is better asked for explicitly than slipped in.
    static let definingOptions: [DefiningOption] = [
        .init(key: "batch_size") { "\($0.batchSize)" },
        .init(key: "seq_len") { "\($0.sequenceLength)" },
        .init(key: "grad_accum") { "\($0.gradientAccumulation)" },
        .init(key: "seed") { "\($0.seed)" },
        .init(key: "lr") { "\($0.learningRate)" },
        .init(key: "warmup_steps") { "\($0.warmupSteps)" },
        .init(key: "weight_decay") { "\($0.weightDecay)" },
        // nil (older files) means the same decay as every other matrix.
        .init(key: "retrieval_weight_decay") { "\($0.retrievalWeightDecay ?? $0.weightDecay)" },
        .init(key: "retrieval_lr_scale") { "\($0.retrievalLearningRateScale ?? 1)" },
        .init(key: "grad_clip") { "\($0.gradientClip)" },
        // nil (older files) and false mean the same.
        .init(key: "document_aligned") { "\($0.documentAligned ?? false)" },
        .init(key: "state_passing") { "\($0.statePassing ?? false)" },
        .init(key: "loss_on_all_tokens") { "\($0.lossOnAllTokens ?? false)" },
        .init(key: "train_only") { $0.trainOnly?.joined(separator: ",") ?? "(all)" },
        .init(key: "data_identity") { $0.dataIdentity },
    ]

    /// The `training.json` keys of the run-defining options.
    public static var definingOptionKeys: [String] { definingOptions.map(\.key) }

    /// The `training.json` keys of the options a resumed run may change freely: how long it
    /// runs and where the schedule ends, how often it evaluates, checkpoints and reports, and
    /// how it handles non-finite steps. (GPU and thread counts are not options at all.)
    public static let changeableOptionKeys = [
        "steps", "min_lr", "eval_every", "eval_batches", "checkpoint_every", "keep_checkpoints",
        "max_shard_bytes", "on_nonfinite", "max_skipped_steps",
    ]

    /// Every run-defining difference from `stored`, options first, then config fields in key
    /// order; empty when this invocation continues the same run.
    public func changes(from stored: RunDefinition) -> [Change] {
        var changes: [Change] = []
        for option in Self.definingOptions {
            guard let old = option.value(stored.options), let new = option.value(options),
                old != new
            else { continue }
            changes.append(Change(field: option.key, stored: old, new: new))
        }
        let oldConfig = Self.fields(of: stored.model)
        let newConfig = Self.fields(of: model)
        for key in Set(oldConfig.keys).union(newConfig.keys).sorted()
        where oldConfig[key] != newConfig[key] {
            changes.append(
                Change(
                    field: "config.\(key)", stored: oldConfig[key] ?? "(absent)",
                    new: newConfig[key] ?? "(absent)"))
        }
        return changes
    }

    /// The config's `config.json` fields, each value as compact JSON text.
    static func fields(of config: ModelConfig) -> [String: String] {
        guard let data = try? JSONEncoder().encode(config),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return object.mapValues { value in
            // Wrapped in an array: JSONSerialization writes only arrays and objects.
            let text =
                (try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys]))
                .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
            return String(text.dropFirst().dropLast())
        }
    }
}

/// `--resume` found a checkpoint whose run definition differs from this invocation's.
public struct ResumeMismatchError: Error, CustomStringConvertible, Equatable {
    /// The checkpoint directory's name, e.g. `step-00000200`.
    public var checkpoint: String
    public var changes: [RunDefinition.Change]

    public init(checkpoint: String, changes: [RunDefinition.Change]) {
        self.checkpoint = checkpoint
        self.changes = changes
    }

    public var description: String {
        "cannot resume from \(checkpoint): run-defining options differ ("
            + changes.map(\.description).joined(separator: "; ")
            + "); pass --allow-changed-options to resume anyway"
    }
}

/// `--resume` with `--state-passing` from a checkpoint trained without it, or the other way
/// round: the checkpoint's data position (and carried states) belong to the other loader, so
/// not even `--allow-changed-options` resumes it.
public struct StatePassingResumeError: Error, CustomStringConvertible, Equatable {
    /// The checkpoint directory's name, e.g. `step-00000200`.
    public var checkpoint: String
    /// Whether the checkpoint was trained with state passing.
    public var checkpointPassesState: Bool

    public init(checkpoint: String, checkpointPassesState: Bool) {
        self.checkpoint = checkpoint
        self.checkpointPassesState = checkpointPassesState
    }

    public var description: String {
        checkpointPassesState
            ? "cannot resume from \(checkpoint) without --state-passing: it was trained with it "
                + "(its data position and carried Mamba2 states need it)"
            : "cannot resume from \(checkpoint) with --state-passing: it was trained without it; "
                + "resume without the flag, or start a new run from it with --init-from"
    }
}
